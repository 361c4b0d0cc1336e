import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { expect } from 'vitest';
import { createClient } from '../../../src/db/pg.js';
import { DLQ_HEADER } from '../../../src/source/dead-letter.js';
import { diffBookingEvents, diffDriverLatest } from '../../../src/verify/es-truth.js';
import { runGenerator, seedTiny } from './generator.js';
import { diffIndependent } from './independent-truth.js';
import { diffBookingFacts, diffMart } from '../../../src/verify/mart-truth.js';
import { Scenario, type WorkerProcess } from './scenario.js';

/**
 * One fault scenario of the original system's suite: a seeded streaming load into an isolated
 * Scenario, a disruption while it runs, then the end state checked against the truth — every KPI
 * row (the catalog's truth SQL and the hand-written independent truth), the booking facts,
 * Elasticsearch, and the dead-letter topic holding exactly what the scenario poisoned.
 */

export interface DeadLetter {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface FaultContext {
  s: Scenario;
  /** workers[0] is started before the stream; a disruption may kill, replace or add workers. */
  workers: WorkerProcess[];
  streamSeconds: number;
  /** ms since the stream started */
  elapsed(): number;
  /** Sleeps until `fraction` of the stream's duration has passed. */
  until(fraction: number): Promise<void>;
  /** Records a disruption step (reported, and checked to have happened while the stream ran). */
  mark(what: string): void;
}

export interface FaultOptions {
  name: string;
  seed: number;
  /**
   * Planned seconds of streaming (what `until(fraction)` refers to). The stream runs until the
   * disruption is over plus at least 15 s, however long a slow machine makes the disruption, so
   * every disruption happens while the source is changing and recovery is tested under load.
   */
  streamSeconds: number;
  /** Extra generator flags for the stream. */
  streamArgs?: string[];
  workerEnv?: Record<string, string>;
  disrupt(ctx: FaultContext): Promise<void>;
  /** Runs after the stream ended (e.g. a second load phase after a source restart). */
  afterStream?(ctx: FaultContext): Promise<void>;
  /** The DLQ must hold exactly these (checked by the caller's predicate); default: nothing. */
  deadLetters?: (letters: DeadLetter[]) => void;
  convergeMs?: number;
  /**
   * Elasticsearch differences the scenario causes on purpose (a document Elasticsearch must
   * refuse): not waited for, still reported in esDiffs for the scenario to check.
   */
  esExpected?: (diff: { what: string }) => boolean;
  /** Disruption steps that may end after the stream (an outage longer than the remaining load). */
  marksMayOutliveStream?: boolean;
}

export interface FaultReport {
  name: string;
  seed: number;
  events: number;
  catalogRows: number;
  catalogKpis: number;
  independentRows: number;
  independentKpis: number;
  catalogDiffs: unknown[];
  independentDiffs: unknown[];
  bookingFactDiffs: string[];
  esDiffs: unknown[];
  deadLetters: DeadLetter[];
  marks: { what: string; at: number }[];
  streamEndedAt: number;
  convergedAfterMs: number;
  generatorCode: number | null;
  generatorOutput: string;
}

export const STREAM_ARGS = [
  '--volume',
  'tiny',
  '--stream-sleep-min',
  '20',
  '--stream-sleep-max',
  '150',
  '--stream-new-booking-prob',
  '0.5',
];

/** High watermark per table-topic partition (`topic-partition`) of the scenario. */
async function tableTopicHighs(s: Scenario): Promise<Map<string, number>> {
  const admin = s.kafka.admin();
  await admin.connect();
  const high = new Map<string, number>();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${s.topicPrefix}.public.`));
    for (const t of topics)
      for (const p of await admin.fetchTopicOffsets(t)) high.set(`${t}-${p.partition}`, Number(p.high));
    return high;
  } finally {
    await admin.disconnect();
  }
}

/** Sum of high watermarks of the scenario's table topics: the change events Debezium produced. */
export async function producedEvents(s: Scenario): Promise<number> {
  let total = 0;
  for (const h of (await tableTopicHighs(s)).values()) total += h;
  return total;
}

/**
 * Per table-topic partition: Kafka's high watermark against the worker's stored next offset. On a
 * failed scenario this says where a loss happened: equal everywhere means the worker consumed all
 * Debezium produced (look at capture, e.g. connect.log), a gap means the worker is behind.
 */
export async function offsetLedger(s: Scenario, reporting: pg.Client): Promise<string[]> {
  const high = await tableTopicHighs(s);
  const stored = new Map<string, number>();
  const { rows } = await reporting.query<{ tp: string; next: string }>(
    `SELECT topic || '-' || "partition" AS tp, max(next_offset)::text AS next FROM mart.consumer_offsets GROUP BY 1`,
  );
  for (const r of rows) stored.set(r.tp, Number(r.next));
  return [...high].sort().map(([tp, h]) => `${tp}: high ${h}, worker next ${stored.get(tp) ?? 'none'}`);
}

/** Everything in the scenario's dead-letter topic (none if the worker never created it). */
export async function readDeadLetters(s: Scenario): Promise<DeadLetter[]> {
  const admin = s.kafka.admin();
  await admin.connect();
  let ends: { partition: number; high: string }[];
  try {
    if (!(await admin.listTopics()).includes(s.dlqTopic)) return [];
    ends = await admin.fetchTopicOffsets(s.dlqTopic);
  } finally {
    await admin.disconnect();
  }
  const total = ends.reduce((a, p) => a + Number(p.high), 0);
  if (total === 0) return [];
  const out: DeadLetter[] = [];
  const consumer = s.kafka.consumer({ groupId: `${s.id}-dlq-reader-${Date.now()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: s.dlqTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        out.push({
          key: message.key === null ? null : message.key.toString(),
          value: message.value,
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        });
      },
    });
    const deadline = Date.now() + 60_000;
    while (out.length < total && Date.now() < deadline) await sleep(250);
  } finally {
    await consumer.disconnect();
  }
  return out;
}

export const letterSummary = (l: DeadLetter) =>
  `${l.headers[DLQ_HEADER.topic] ?? '?'}#${l.headers[DLQ_HEADER.partition] ?? '?'} ${l.headers[DLQ_HEADER.reason] ?? '?'}: ${(l.headers[DLQ_HEADER.message] ?? '').slice(0, 120)}`;

/**
 * The latest-state and booking-event views. Not the position time series: its truth is the
 * trigger-written history, which also holds the seeded positions a snapshot never sees.
 */
async function esDiffs(s: Scenario): Promise<unknown[]> {
  return [
    ...(await diffDriverLatest(s.sourceDb, s.es, s.indexPrefix)),
    ...(await diffBookingEvents(s.sourceDb, s.es, s.indexPrefix)),
  ];
}

/** A fresh session on the scenario's source database (the old one may have died with a restart). */
export async function reconnectSource(s: Scenario): Promise<void> {
  const ok = await s.sourceDb
    .query('SELECT 1')
    .then(() => true)
    .catch(() => false);
  if (ok) return;
  await s.sourceDb.end().catch(() => undefined);
  s.sourceDb = createClient(s.source);
  s.sourceDb.on('error', () => undefined);
  await s.sourceDb.connect();
}

/** The whole scenario: set-up (seeded snapshot), worker, stream + disruption, convergence, checks. */
export async function runFault(opts: FaultOptions): Promise<FaultReport> {
  const s = new Scenario();
  let reporting: pg.Client | undefined;
  const workers: WorkerProcess[] = [];
  try {
    await s.start({
      beforeConnector: () => seedTiny(s.generatorEnv(), opts.seed),
    });
    // A restarted database terminates its sessions: never crash the test on that, reconnect instead.
    s.sourceDb.on('error', () => undefined);
    workers.push(await s.startWorker(opts.workerEnv));

    const gen = runGenerator(s.generatorEnv(), [
      '--mode',
      'stream',
      '--seconds',
      '0',
      '--seed',
      String(opts.seed + 1),
      ...STREAM_ARGS,
      ...(opts.streamArgs ?? []),
    ]);
    const t0 = Date.now();
    const marks: { what: string; at: number }[] = [];
    const ctx: FaultContext = {
      s,
      workers,
      streamSeconds: opts.streamSeconds,
      elapsed: () => Date.now() - t0,
      until: (f) => sleep(Math.max(0, f * opts.streamSeconds * 1000 - (Date.now() - t0))),
      mark: (what) => {
        marks.push({ what, at: Date.now() - t0 });
        process.stderr.write(`[${opts.name}] ${what} at ${Date.now() - t0} ms\n`);
      },
    };
    await opts.disrupt(ctx);
    await sleep(Math.max(15_000, opts.streamSeconds * 1000 - ctx.elapsed()));
    gen.stop();
    const run = await gen.done;
    const streamEndedAt = Date.now() - t0;
    await opts.afterStream?.(ctx);

    const converged = Date.now();
    await reconnectSource(s);
    reporting = createClient(s.reporting);
    await reporting.connect();
    const rep = reporting;
    const check = async () => [
      ...(await diffMart(s.sourceDb, rep)).diffs,
      ...(await diffIndependent(s.sourceDb, rep)).diffs,
      ...(await esDiffs(s)).filter((d) => !opts.esExpected?.(d as { what: string })),
    ];
    await s.converge(check, opts.convergeMs ?? 240_000);
    const convergedAfterMs = Date.now() - converged;
    const catalog = await diffMart(s.sourceDb, rep);
    const independent = await diffIndependent(s.sourceDb, rep);
    const report: FaultReport = {
      name: opts.name,
      seed: opts.seed,
      events: await producedEvents(s),
      catalogRows: catalog.truthRows,
      catalogKpis: catalog.metrics,
      independentRows: independent.truthRows,
      independentKpis: independent.kpis,
      catalogDiffs: catalog.diffs.slice(0, 10),
      independentDiffs: independent.diffs.slice(0, 10),
      bookingFactDiffs: (await diffBookingFacts(s.sourceDb, rep)).slice(0, 10),
      esDiffs: (await esDiffs(s)).slice(0, 10),
      deadLetters: await readDeadLetters(s),
      marks,
      streamEndedAt,
      convergedAfterMs,
      generatorCode: run.code,
      generatorOutput: run.output.slice(-2000),
    };
    process.stderr.write(
      `[${opts.name}] seed ${opts.seed}: ${report.events} change events; ${report.catalogRows} catalog truth rows (${report.catalogKpis} KPIs) ` +
        `and ${report.independentRows} independent truth rows (${report.independentKpis} KPIs) compared; diffs catalog ${catalog.diffs.length}, ` +
        `independent ${independent.diffs.length}, booking facts ${report.bookingFactDiffs.length}, ES ${report.esDiffs.length}; ` +
        `${report.deadLetters.length} dead letters; stream ended at ${streamEndedAt} ms, checks settled ${convergedAfterMs} ms later; ` +
        `${marks.map((m) => `${m.what} @${m.at}`).join('; ')}\n`,
    );
    for (const [what, d] of [
      ['catalog', report.catalogDiffs],
      ['independent', report.independentDiffs],
      ['booking facts', report.bookingFactDiffs],
      ['ES', report.esDiffs],
    ] as const)
      if (d.length > 0)
        process.stderr.write(`[${opts.name}] ${what} diffs: ${JSON.stringify(d.slice(0, 5))}\n`);
    if (
      [report.catalogDiffs, report.independentDiffs, report.bookingFactDiffs, report.esDiffs].some(
        (d) => d.length > 0,
      )
    ) {
      process.stderr.write(`[${opts.name}] offsets:\n  ${(await offsetLedger(s, rep)).join('\n  ')}\n`);
      for (const w of workers)
        process.stderr.write(
          `[${opts.name}] worker :${w.port} (exit ${w.child.exitCode}) /readyz ${await w
            .get('/readyz')
            .then((x) => `${x.status} ${x.body.slice(0, 300)}`)
            .catch((e: Error) => e.message)}; output tail:\n${w.output.slice(-3000)}\n`,
        );
    }
    return report;
  } finally {
    if (process.env.FAULTS_KEEP_SCENARIO !== '1') {
      await reporting?.end().catch(() => undefined);
      await s.stop();
    }
  }
}

/** The end state every fault scenario must reach (the DLQ is checked by each scenario). */
export function expectExact(r: FaultReport, opts: { marksMayOutliveStream?: boolean } = {}): void {
  expect(r.generatorCode, r.generatorOutput).toBe(0);
  if (!opts.marksMayOutliveStream)
    for (const m of r.marks) expect(m.at, m.what).toBeLessThan(r.streamEndedAt);
  expect(r.events).toBeGreaterThan(0);
  expect(r.catalogDiffs).toEqual([]);
  expect(r.independentDiffs).toEqual([]);
  expect(r.independentKpis).toBeGreaterThanOrEqual(10);
  expect(r.bookingFactDiffs).toEqual([]);
  expect(r.esDiffs).toEqual([]);
}

/** Waits until every partition of the scenario's topics has its full replica set in sync again. */
export async function waitFullIsr(s: Scenario, timeoutMs: number): Promise<number> {
  const admin = s.kafka.admin();
  await admin.connect();
  const t0 = Date.now();
  try {
    for (;;) {
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(s.id));
      const md = await admin.fetchTopicMetadata({ topics });
      const lagging = md.topics.flatMap((t) => t.partitions.filter((p) => p.isr.length < p.replicas.length));
      if (lagging.length === 0) return Date.now() - t0;
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`${lagging.length} partitions still under-replicated after ${timeoutMs} ms`);
      await sleep(1000);
    }
  } finally {
    await admin.disconnect();
  }
}
