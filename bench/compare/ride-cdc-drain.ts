import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, quoteIdent, type PgSettings } from '../../src/db/pg.js';
import { freePort, Scenario, WorkerProcess } from '../../src/stack/scenario.js';
import { diffMart } from '../../src/verify/mart-truth.js';
import type { MetricRow } from '../../src/project/metrics/truth-sql.js';
import { MART_METRIC_ROWS_SQL } from '../../src/sink/mart/sql/metric-sql.js';
import { diffKpiSubset, FLINK_KPIS } from './kpi-subset.js';
import { consumedEvents, stageCounts, stageTimes } from '../stack-bench.js';
import { peerResult, type PeerResult } from './peer-result.js';
import { sampleProcesses } from './proc-stats.js';

const REPO = join(import.meta.dirname, '../..');

export interface DrainOptions {
  workers: number;
  /** Row label and suffix of the run's own database, index prefix and consumer group. */
  tag: string;
  name: string;
  /** Checkout whose bin/ride-cdc.js runs (default: this one). */
  repo?: string;
  /** Write a V8 CPU profile of every worker into this directory (node --cpu-prof). */
  cpuProfDir?: string;
  /**
   * Drain only the bookings topic (the Flink peer's input), maintain only the Flink peer's KPI
   * subset (REPORTING_KPIS) and check it, for a like-for-like row next to it. `total` is then that
   * topic's events. The worker still writes its Elasticsearch views and exactly-once positions.
   */
  bookingsOnly?: boolean;
  /** Worker settings of this run (e.g. REPORTING_GROUP_MAX_EVENTS=0 for the A/B of group commit). */
  settings?: Record<string, string>;
}

/**
 * ride-cdc draining the scenario's backlog with its own reporting database, indices and consumer
 * group, so several runs drain the same topics independently. Timed from the first worker's start
 * to the last position committed; the mart is then compared with truth SQL over the source.
 */
export async function drainWithRideCdc(s: Scenario, total: number, opts: DrainOptions): Promise<PeerResult> {
  const repo = opts.repo ?? REPO;
  const reporting: PgSettings = { ...s.reporting, database: `${s.reporting.database}_${opts.tag}` };
  const env = s.workerEnv({
    REPORTING_PGDB: reporting.database,
    ES_INDEX_PREFIX: `${s.id}-${opts.tag}-`,
    KAFKA_GROUP_ID: `${s.groupId}-${opts.tag}`,
    DLQ_TOPIC: `${s.id}.${opts.tag}.dlq`,
    LOG_LEVEL: 'error',
    ...(opts.bookingsOnly ? { KAFKA_TABLES: 'bookings', REPORTING_KPIS: FLINK_KPIS.join(',') } : {}),
    ...opts.settings,
  });
  const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  if (opts.cpuProfDir) mkdirSync(opts.cpuProfDir, { recursive: true });
  // The checkout's own migrations: a baseline commit gets the schema it was written for.
  await runCli(repo, ['migrate', '--target', 'reporting'], env);
  const workers: WorkerProcess[] = [];
  const sampler = sampleProcesses(() => workers.map((w) => w.child.pid!).filter(Boolean));
  try {
    const started = performance.now();
    for (let i = 0; i < opts.workers; i++) {
      const port = await freePort();
      workers.push(
        new WorkerProcess(
          { ...env, METRICS_PORT: String(port) },
          port,
          undefined,
          join(repo, 'bin/ride-cdc.js'),
          nodeArgs,
        ),
      );
    }
    // The processing span starts when the first worker is ready (node start-up excluded, as the
    // JVM peers' is; a second worker joining the group later is part of the run); anything
    // committed before that is not counted in the rate.
    let ready = 0;
    const allReady = Promise.all(
      workers.map(async (w) => {
        await w.waitReady(120_000);
        ready ||= performance.now();
      }),
    );
    while (!ready) await Promise.race([allReady, sleep(20)]);
    const beforeReady = await consumedEvents(s, reporting);
    while ((await consumedEvents(s, reporting)) < total) {
      for (const w of workers)
        if (w.child.exitCode !== null)
          throw new Error(`worker exited with ${w.child.exitCode}:\n${w.output}`);
      await sleep(200);
    }
    const done = performance.now();
    await allReady;
    const seconds = (done - ready) / 1000;
    const stages = await Promise.all(workers.map((w) => stageTimes(w)));
    const calls = await Promise.all(workers.map((w) => stageCounts(w)));
    const usage = sampler.stop();
    for (const w of workers) await w.kill('SIGTERM');
    const rc = createClient(reporting);
    await rc.connect();
    let equal: boolean;
    let diffCount: number;
    let kpis: number;
    let diffs: { key: string }[] = [];
    let martWork: Record<string, number> = {};
    try {
      // The run's database exists only for this drain: its row writes and commits are the drain's.
      const { rows } = await rc.query<Record<string, string>>(
        `SELECT xact_commit AS commits, tup_inserted AS inserted, tup_updated AS updated, tup_deleted AS deleted
           FROM pg_stat_database WHERE datname = current_database()`,
      );
      martWork = Object.fromEntries(Object.entries(rows[0] ?? {}).map(([k, v]) => [k, Number(v)]));
      if (opts.bookingsOnly) {
        const d = await diffKpiSubset(s.sourceDb, (await rc.query<MetricRow>(MART_METRIC_ROWS_SQL)).rows);
        diffs = d.diffs;
        diffCount = d.diffs.length;
        kpis = FLINK_KPIS.length;
        equal = diffCount === 0 && d.truthRows > 0;
      } else {
        const d = await (await diffMartOf(repo))(s.sourceDb, rc);
        diffCount = d.diffs.length;
        kpis = d.metrics;
        equal = diffCount === 0 && d.truthRows > 0;
        diffs = d.diffs;
      }
    } finally {
      await rc.end();
    }
    return peerResult({
      name: opts.name,
      kind: 'ride-cdc',
      events: total,
      eventsInSpan: total - beforeReady,
      seconds,
      cpuSeconds: usage.cpuSeconds,
      peakRssBytes: usage.peakRssBytes,
      equalToTruth: equal,
      note: `${equal ? 'every KPI row equals' : `${diffCount} KPI rows differ from`} truth SQL (${kpis} KPIs${opts.bookingsOnly ? ", REPORTING_KPIS = the Flink peer's subset; Elasticsearch views written too" : ''}${repo === REPO ? '' : ", that commit's own catalog"})`,
      extra: {
        workers: opts.workers,
        ...(opts.bookingsOnly ? { bookingsOnly: true } : {}),
        startupSeconds: (ready - started) / 1000,
        ...(diffs.length > 0
          ? {
              differingKpis: [...new Set(diffs.map((d) => d.key.split('|')[0]))],
              firstDiffs: diffs.slice(0, 3),
            }
          : {}),
        committedBeforeReady: beforeReady,
        martWork,
        stageSeconds: stages,
        stageCalls: calls,
      },
    });
  } finally {
    sampler.stop();
    for (const w of workers) await w.kill('SIGKILL');
    await dropDatabase(reporting);
  }
}

/**
 * The checkout's own truth check: a baseline commit is held to the KPI catalog it was written for
 * (its mart has no rows for KPIs added since).
 */
async function diffMartOf(repo: string): Promise<typeof diffMart> {
  if (repo === REPO) return diffMart;
  for (const rel of ['src/verify/mart-truth.ts', 'tests/e2e/support/mart-truth.ts']) {
    const file = join(repo, rel);
    if (existsSync(file))
      return ((await import(pathToFileURL(file).href)) as { diffMart: typeof diffMart }).diffMart;
  }
  throw new Error(`${repo} has no mart truth module to check its drain with`);
}

function runCli(repo: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repo, 'bin/ride-cdc.js'), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`ride-cdc ${args.join(' ')} exited ${code}:\n${out}`)),
    );
  });
}

export async function dropDatabase(s: PgSettings): Promise<void> {
  const c = createClient({ ...s, database: 'postgres' });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(s.database)} WITH (FORCE)`);
  } finally {
    await c.end();
  }
}
