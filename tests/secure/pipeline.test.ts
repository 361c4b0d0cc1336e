import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/db/pg.js';
import { loadStackConfig } from '../../src/stack/config.js';
import { allSecrets } from '../../src/stack/security.js';
import { describeMartExact } from '../e2e/support/mart-exact-scenario.js';
import { Scenario, WorkerProcess } from '../e2e/support/scenario.js';

/**
 * The pipeline on the secured stack, in one file so the order is fixed: a worker with a wrong
 * password fails fast and moves nothing; the mart e2e (the same scenario as the open stack's)
 * stays exact with every component authenticated and least-privileged; then every log the run
 * produced, stack components and workers, is searched for every configured secret.
 */
const cfg = loadStackConfig();
const sec = cfg.security!;
const WRONG = 'definitely-not-the-password';

describe('secured stack: a worker with a wrong password; capture least-privileged and watched', () => {
  const s = new Scenario();
  beforeAll(() => s.start(), 300_000);
  afterAll(() => s.stop());

  const cases: [string, string, string][] = [
    ['ES_PASSWORD', 'elasticsearch', 'ES_USERNAME / ES_PASSWORD'],
    ['REPORTING_PGPASSWORD', 'reporting_db', 'REPORTING_PGUSER / REPORTING_PGPASSWORD'],
    ['KAFKA_SASL_PASSWORD', 'kafka', 'KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD'],
    ['SCHEMA_REGISTRY_PASSWORD', 'registry', 'SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD'],
    // The capture watcher's login to Connect REST: checked before the consumer starts.
    ['CONNECT_PASSWORD', 'connect', 'CONNECT_USERNAME / CONNECT_PASSWORD'],
  ];
  for (const [variable, stage, named] of cases) {
    it(`fails fast naming ${variable} and moves no position`, async () => {
      const logFile = join(s.workerLogDir!, `${s.id}-wrong-${variable}.log`);
      const w = new WorkerProcess(s.workerEnv({ METRICS_PORT: '0', [variable]: WRONG }), 0, logFile);
      const t0 = Date.now();
      const timeout = setTimeout(() => w.child.kill('SIGKILL'), 90_000);
      const code = await w.exited;
      clearTimeout(timeout);
      const took = Date.now() - t0;
      expect(code, w.output).toBe(1);
      expect(w.output).toContain(`${stage} refused the worker's credentials`);
      expect(w.output).toContain(named);
      expect(w.output).not.toContain(WRONG);
      process.stderr.write(`[secure] wrong ${variable}: exit ${code} after ${took} ms\n`);
      const r = createClient(s.reporting);
      await r.connect();
      try {
        const n = await r.query<{ n: number }>('SELECT count(*)::int AS n FROM mart.consumer_offsets');
        expect(n.rows[0]!.n).toBe(0);
      } finally {
        await r.end();
      }
    });
  }

  it('streams through ride_cdc_debezium, a REPLICATION role that is no superuser', async () => {
    const c = createClient({ ...s.source, database: 'postgres' });
    await c.connect();
    try {
      let row: { usename: string; rolsuper: boolean; rolreplication: boolean } | undefined;
      const deadline = Date.now() + 90_000;
      while (!row && Date.now() < deadline) {
        const r = await c.query<{ usename: string; rolsuper: boolean; rolreplication: boolean }>(
          `SELECT a.usename, r.rolsuper, r.rolreplication
             FROM pg_replication_slots sl
             JOIN pg_stat_activity a ON a.pid = sl.active_pid
             JOIN pg_roles r ON r.rolname = a.usename
            WHERE sl.slot_name = $1`,
          [s.id],
        );
        row = r.rows[0];
        if (!row) await new Promise((res) => setTimeout(res, 1000));
      }
      expect(row).toEqual({ usename: sec.pg.debezium.user, rolsuper: false, rolreplication: true });
    } finally {
      await c.end();
    }
  });

  // Last in this block: a worker that logs in rightly moves positions, the cases above must not.
  it("the worker's capture watcher logs in to Connect REST and sees the task RUNNING", async () => {
    const w = await s.startWorker({ CAPTURE_WATCH_INTERVAL_MS: '1000' });
    const running = { connector: s.connector, task: '0', state: 'RUNNING' };
    const deadline = Date.now() + 60_000;
    let v = 0;
    while (Date.now() < deadline && (v = await w.metric('ride_cdc_connector_task_state', running)) !== 1)
      await new Promise((res) => setTimeout(res, 1000));
    expect(v, w.output).toBe(1);
    expect(
      await w.metric('ride_cdc_connector_task_state', { connector: s.connector, state: 'UNREACHABLE' }),
    ).toBe(0);
    process.stderr.write(`[secure] capture watcher: ${s.connector} task 0 RUNNING\n`);
  });
});

describeMartExact('secured stack: reporting mart is exactly-once and equal to the truth SQL', {
  streamSeconds: 60,
});

describe('secured stack: no configured secret in any log', () => {
  it('scans every stack component log and every worker log of this run', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir)) {
        const f = join(dir, e);
        if (statSync(f).isDirectory()) walk(f);
        else files.push(f);
      }
    };
    walk(join(cfg.dir, 'logs'));
    const components = [
      'postgres-source',
      'postgres-reporting',
      'kafka',
      'registry',
      'connect',
      'elasticsearch',
    ];
    for (const c of components) expect(files, c).toContain(join(cfg.dir, 'logs', `${c}.log`));
    const workerLogs = files.filter((f) => f.includes('e2e-workers'));
    // 5 wrong passwords, the watcher's worker, and the mart scenario's workers (6 at least).
    expect(workerLogs.length).toBeGreaterThanOrEqual(5 + 1 + 6);
    const secrets = allSecrets(sec);
    expect(new Set(secrets).size).toBe(secrets.length);
    let bytes = 0;
    const leaks: string[] = [];
    for (const f of files) {
      const text = readFileSync(f, 'latin1');
      bytes += text.length;
      secrets.forEach((secret, i) => {
        if (text.includes(secret)) leaks.push(`${f}: secret #${i}`);
      });
    }
    process.stderr.write(
      `[secure] scanned ${files.length} log files, ${bytes} bytes, for ${secrets.length} secrets\n`,
    );
    expect(bytes).toBeGreaterThan(10_000);
    expect(leaks).toEqual([]);
  });
});
