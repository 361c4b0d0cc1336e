import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/db/pg.js';
import { EXAMPLE_SQL } from '../../src/ops/demo-plan.js';
import type { CheckRow } from '../../src/ops/table.js';
import { connectUrl } from '../../src/stack/components/connect.js';
import { waitRunning } from '../../src/stack/connector.js';
import { TestPrometheus } from '../e2e/support/prometheus.js';
import { Scenario, type WorkerProcess } from '../e2e/support/scenario.js';

const BIN = join(import.meta.dirname, '../../bin/ride-cdc.js');

/** Runs the real CLI as a child process; resolves with its exit code and output. */
function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 180_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * `ride-cdc health`, `sla` and `tail` against the real shared stack, on an isolated scenario
 * (own databases, connector, topics, worker) so their verdicts are about what this test controls.
 */
describe('ops commands on the real stack', () => {
  const s = new Scenario();
  let worker: WorkerProcess;
  let prom: TestPrometheus;
  let env: Record<string, string>;

  beforeAll(async () => {
    await s.start({
      beforeConnector: async (db) => {
        // A table outside the seven the worker consumes, captured by the same connector.
        await db.query(
          'CREATE TABLE ops_tail_probe (id int PRIMARY KEY, note text NOT NULL, at timestamptz)',
        );
        await db.query('ALTER PUBLICATION ride_cdc_pub ADD TABLE ops_tail_probe');
      },
      connector: {
        'table.include.list':
          'public.zones,public.passengers,public.drivers,public.driver_locations,public.bookings,public.payments,public.ratings,public.ops_tail_probe',
      },
    });
    worker = await s.startWorker();
    prom = await TestPrometheus.start(`127.0.0.1:${worker.port}`);
    await prom.waitTargetUp(30_000);
    env = {
      ...s.workerEnv(),
      ...s.generatorEnv(),
      METRICS_PORT: String(worker.port),
      PROMETHEUS_URL: prom.url,
      // tail must not depend on the worker's prefix: the default one is "ride".
      LOG_LEVEL: 'warn',
    };
  });
  afterAll(async () => {
    await prom?.stop();
    await s.stop();
  });

  it('health: every component OK and exit 0; a paused connector makes it exit 1', async () => {
    const ok = await cli(['health', '--json', '--connector', s.connector, '--slot', s.id], env);
    const rows = JSON.parse(ok.stdout) as CheckRow[];
    expect(rows.map((r) => r.component)).toEqual([
      'kafka',
      'connector',
      'registry',
      'elasticsearch',
      'source db',
      'reporting db',
      'worker',
      'prometheus',
    ]);
    expect(
      rows.filter((r) => r.status === 'fail'),
      ok.stdout,
    ).toEqual([]);
    expect(ok.code).toBe(0);
    expect(rows.find((r) => r.component === 'prometheus')!.detail).toMatch(/^2\/2 targets up/);

    await fetch(`${connectUrl(s.stack)}/connectors/${s.connector}/pause`, { method: 'PUT' });
    try {
      let bad = await cli(['health', '--connector', s.connector, '--slot', s.id], env);
      for (let i = 0; i < 10 && !/PAUSED/.test(bad.stdout); i++) {
        await new Promise((r) => setTimeout(r, 1000));
        bad = await cli(['health', '--connector', s.connector, '--slot', s.id], env);
      }
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(/connector\s+FAIL\s+\S+ PAUSED/);
    } finally {
      await fetch(`${connectUrl(s.stack)}/connectors/${s.connector}/resume`, { method: 'PUT' });
      await waitRunning(s.stack, s.connector, 60_000);
    }
  });

  it('sla: times probes into Elasticsearch and the mart, exit 0 within the SLA and 1 over it', async () => {
    const within = await cli(['sla', '--probes', '8', '--interval-ms', '100'], {
      ...env,
      SLA_P95_MS: '60000',
      SLA_P99_MS: '60000',
    });
    expect(within.code, within.stdout + within.stderr).toBe(0);
    const lines = within.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TARGET\s+PROBES\s+LOST\s+P50\s+P95\s+P99\s+MAX\s+VERDICT$/);
    for (const target of ['elasticsearch', 'reporting mart', 'both sinks']) {
      expect(lines.find((l) => l.startsWith(target))).toMatch(
        /\s8\s+0\s+\d+ ms\s+\d+ ms\s+\d+ ms\s+\d+ ms\s+OK$/,
      );
    }
    // No change arrives in under a millisecond: an SLA of 1 ms must be reported as breached.
    const over = await cli(['sla', '--probes', '3', '--interval-ms', '100'], {
      ...env,
      SLA_P95_MS: '1',
      SLA_P99_MS: '1',
    });
    expect(over.code).toBe(1);
    expect(over.stdout).toMatch(/OVER SLA: p95 \d+ ms > SLA 1 ms/);
    // The probe driver is removed again.
    const left = await s.sourceDb.query(`SELECT count(*)::int AS n FROM drivers WHERE phone = 'sla-probe'`);
    expect(left.rows[0].n).toBe(0);
  });

  it('tail decodes the topic of a table the worker does not consume, under another prefix', async () => {
    await s.sourceDb.query(
      `INSERT INTO ops_tail_probe VALUES (7, 'hello from a non-configured table', now())`,
    );
    const topic = `${s.topicPrefix}.public.ops_tail_probe`;
    // Debezium creates the topic with its first event.
    const admin = s.kafka.admin();
    await admin.connect();
    try {
      for (let i = 0; i < 60 && !(await admin.listTopics()).includes(topic); i++)
        await new Promise((r) => setTimeout(r, 1000));
    } finally {
      await admin.disconnect();
    }
    const { KAFKA_TOPIC_PREFIX: _worker, ...tailEnv } = env;
    const out = await cli(['tail', '--topic', topic, '--from-beginning', '--max', '1'], {
      ...tailEnv,
      KAFKA_TOPIC_PREFIX: 'ride',
    });
    expect(out.code, out.stderr).toBe(0);
    const ev = JSON.parse(out.stdout.trim().split('\n')[0]!) as Record<string, any>;
    expect(ev.table).toBe('ops_tail_probe');
    expect(ev.topic).toBe(topic);
    expect(ev.op).toBe('c');
    expect(ev.after).toMatchObject({ id: 7, note: 'hello from a non-configured table' });
    expect(typeof ev.after.at).toBe('string');
  });

  it("the demo's example SQL runs on a migrated mart and returns the KPIs the worker maintains", async () => {
    await s.sourceDb.query(
      `INSERT INTO passengers (full_name, phone, home_zone_id) VALUES ('Example Sql', '+8491', (SELECT min(id) FROM zones))`,
    );
    const db = createClient(s.reporting);
    await db.connect();
    try {
      const [snapshotSql, ...others] = EXAMPLE_SQL;
      const missing = await s.converge(async () => {
        const r = await db.query<{ metric_name: string; metric_value: string }>(snapshotSql.sql);
        return r.rows.some((x) => x.metric_name === 'new_passengers' && Number(x.metric_value) >= 1)
          ? []
          : ['new_passengers'];
      }, 60_000);
      expect(missing).toEqual([]);
      for (const q of others) await db.query(q.sql); // valid SQL over the real schema
    } finally {
      await db.end();
    }
  });
});
