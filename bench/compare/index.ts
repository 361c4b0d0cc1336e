import { cpus, totalmem } from 'node:os';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Scenario } from '../../src/stack/scenario.js';
import { benchLatency, produceBacklog, type LatencyResult } from '../stack-bench.js';
import { baselineCheckout } from './baseline.js';
import { kafkaCeiling, sinkCeilings } from './ceilings.js';
import { flinkPeer } from './flink-peer.js';
import { jdbcSinkPeer } from './jdbc-sink.js';
import type { PeerResult } from './peer-result.js';
import { readProfile, timeByOwner, topFrames } from './profile-top.js';
import { printReport, ratios, writeReport, type CompareReport } from './report.js';
import { drainWithRideCdc } from './ride-cdc-drain.js';

async function topicEvents(s: Scenario, table: string): Promise<number> {
  const admin = s.kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(`${s.topicPrefix}.public.${table}`);
    return offsets.reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

export interface CompareOptions {
  events: number;
  /** Also drain with this commit's checkout (one worker), e.g. 906e634. */
  baseline?: string;
  /** Offered rates for the latency curve (each its own short scenario); empty: none. */
  rates: number[];
  latencySeconds: number;
  /** Steps to leave out: warmup, ceilings, ride-cdc, no-group-commit, baseline, flink, jdbc. */
  skip: string[];
  /** The generator's volume preset of the seeded world (src/generator/volumes.ts). */
  volume: string;
  /** Write V8 CPU profiles of the one-worker drain here. */
  cpuProfDir?: string;
  command: string;
}

/**
 * `npm run bench -- --only compare`: one pre-produced backlog drained in sequence by this box's
 * ceilings, ride-cdc with one and two workers (and a baseline commit), Flink SQL and Debezium's
 * JDBC sink; then the latency curve. One table, ratios, JSON + markdown + SVG in bench/results/.
 */
export async function benchCompare(opts: CompareOptions): Promise<CompareReport> {
  const want = (p: string) => !opts.skip.includes(p);
  // Resolve the baseline before the backlog exists: npm ci is slow and not part of any measurement.
  const base = opts.baseline && want('baseline') ? await baselineCheckout(opts.baseline) : null;
  const rows: PeerResult[] = [];
  let decodeProjectPerCore: number | null = null;
  const s = new Scenario();
  let total = 0;
  const failures: string[] = [];
  // A peer that fails is reported (and the run goes on with the others): one broken peer must not
  // cost the whole comparison, but it must not vanish from the table either.
  const step = async (label: string, fn: () => Promise<void>) => {
    const t = performance.now();
    console.log(`compare: ${label} …`);
    const before = rows.length;
    try {
      await fn();
    } catch (err) {
      failures.push(`${label}: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}`);
      console.error(`compare: ${label} FAILED: ${(err as Error).stack}`);
      return;
    }
    for (const r of rows.slice(before))
      console.log(
        `compare:   ${r.name}: ${Math.round(r.eventsPerSecond)} events/s over ${r.seconds.toFixed(1)} s, truth ${r.equalToTruth}${r.note ? ` (${r.note})` : ''}`,
      );
    console.log(`compare: ${label} done in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  };
  try {
    console.log(`compare: backlog of ≥ ${opts.events} events (volume ${opts.volume}) …`);
    total = await produceBacklog(s, opts.events, opts.volume);
    console.log(`compare: backlog holds ${total} change events`);
    if (want('warmup'))
      // A stack that has just started runs its first drain far slower (Elasticsearch's JIT and
      // start-up work: 77 against 24–28 CPU-seconds of Elasticsearch for the same drain), and whichever
      // row went first paid for it. One untimed drain first puts every row on a warm stack.
      await step('warm-up (one untimed ride-cdc drain, not a row)', async () => {
        const r = await drainWithRideCdc(s, total, { workers: 1, tag: 'warm', name: 'warm-up' });
        console.log(`compare:   warm-up drained ${Math.round(r.eventsPerSecond)} events/s (not reported)`);
      });
    if (want('ceilings')) {
      await step('ceiling: Kafka', async () => void rows.push(await kafkaCeiling(s, total)));
      await step('ceilings: Elasticsearch, PostgreSQL, both', async () => {
        const c = await sinkCeilings(s, total, { esBatchDocs: 2000, esConcurrency: 2, pgConnections: 2 });
        rows.push(...c.rows);
        decodeProjectPerCore = c.decodeProjectPerCore;
      });
    }
    if (want('ride-cdc')) {
      await step(
        'ride-cdc, one worker',
        async () =>
          void rows.push(
            await drainWithRideCdc(s, total, {
              workers: 1,
              tag: 'w1',
              name: 'ride-cdc, 1 worker',
              cpuProfDir: opts.cpuProfDir,
            }),
          ),
      );
      if (want('no-group-commit'))
        await step('ride-cdc, one worker, group commit off', async () => {
          const r = await drainWithRideCdc(s, total, {
            workers: 1,
            tag: 'ng',
            name: 'ride-cdc, 1 worker, group commit off',
            settings: { REPORTING_GROUP_MAX_EVENTS: '0' },
          });
          r.extra = { ...r.extra, groupCommit: false };
          rows.push(r);
        });
      await step(
        'ride-cdc, two workers',
        async () =>
          void rows.push(
            await drainWithRideCdc(s, total, { workers: 2, tag: 'w2', name: 'ride-cdc, 2 workers' }),
          ),
      );
    }
    if (base) {
      await step(`ride-cdc at ${base.commit.slice(0, 7)}, one worker`, async () => {
        const r = await drainWithRideCdc(s, total, {
          workers: 1,
          tag: 'base',
          name: `ride-cdc @${base.commit.slice(0, 7)}, 1 worker`,
          repo: base.dir,
          cpuProfDir: opts.cpuProfDir && join(opts.cpuProfDir, 'baseline'),
        });
        r.extra = { ...r.extra, baseline: base.commit };
        rows.push(r);
      });
    }
    if (want('flink')) {
      // ride-cdc on exactly the Flink peer's input, for the like-for-like ratio.
      await step('ride-cdc, one worker, bookings topic only', async () => {
        const bookings = await topicEvents(s, 'bookings');
        rows.push(
          await drainWithRideCdc(s, bookings, {
            workers: 1,
            tag: 'bk',
            name: 'ride-cdc, 1 worker, bookings topic only',
            bookingsOnly: true,
            cpuProfDir: opts.cpuProfDir && join(opts.cpuProfDir, 'bookings'),
          }),
        );
      });
      await step('Flink SQL', async () => void rows.push(await flinkPeer(s, 2)));
    }
    if (want('jdbc'))
      await step(
        'Debezium JDBC sink',
        async () => void rows.push(await jdbcSinkPeer(s, total, { tasks: 2, batchSize: 2000 })),
      );
  } finally {
    await s.stop();
  }
  const latency: LatencyResult[] = [];
  for (const rate of opts.rates)
    await step(
      `latency at ${rate}/s`,
      async () => void latency.push(await benchLatency(rate, opts.latencySeconds)),
    );

  const profiles: CompareReport['profiles'] = [];
  if (opts.cpuProfDir)
    for (const [run, dir] of [
      ['ride-cdc, 1 worker', opts.cpuProfDir],
      [`ride-cdc @${base?.commit.slice(0, 7)}, 1 worker`, join(opts.cpuProfDir, 'baseline')],
      ['ride-cdc, 1 worker, bookings topic only', join(opts.cpuProfDir, 'bookings')],
    ] as const) {
      // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the worker's main thread
      // (the others are tsx's module loader); one worker ran per directory, the newest is this run's.
      const main = /\.\d+\.0\.\d+\.cpuprofile$/;
      const files = existsSync(dir) ? readdirSync(dir).filter((f) => main.test(f)) : [];
      const file = files
        .map((f) => join(dir, f))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
      if (file) {
        const profile = readProfile(file);
        profiles.push({ run, file, frames: topFrames(profile, 15), owners: timeByOwner(profile, 12) });
      }
    }
  const rep: CompareReport = {
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', memGiB: totalmem() / 2 ** 30 },
    command: opts.command,
    events: total,
    rows,
    ratios: ratios(rows),
    decodeProjectPerCore,
    latency,
    profiles,
    failures,
  };
  printReport(rep);
  const dir = join(import.meta.dirname, '../results');
  mkdirSync(dir, { recursive: true });
  for (const f of writeReport(rep, join(dir, `compare-${Date.now()}`))) console.log(`results: ${f}`);
  return rep;
}
