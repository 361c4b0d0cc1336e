import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, type PgSettings } from '../src/db/pg.js';
import { Scenario, type WorkerProcess } from '../src/stack/scenario.js';
import { generate } from '../src/stack/generator-process.js';

/**
 * Benchmarks on the real native stack (it must be up: `npm run stack -- up`). Each run gets an
 * isolated scenario (own databases, connector, topics, indices) and tears it down.
 */

export interface DrainResult {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** Mart rows upserted per second of drain (fact_metric_bucket, gauges, members). */
  martRowsPerSecond: number;
  /** Where the time went: summed seconds per stage, from the worker's histograms. */
  stageSeconds: Record<string, number>;
}

/** Sum of high watermarks of the scenario's table topics (= change events Debezium produced). */
export async function producedEvents(s: Scenario): Promise<number> {
  const admin = s.kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${s.topicPrefix}.public.`));
    let total = 0;
    for (const t of topics) for (const p of await admin.fetchTopicOffsets(t)) total += Number(p.high);
    return total;
  } finally {
    await admin.disconnect();
  }
}

/** Sum of the positions a worker committed in `reporting` (default: the scenario's database). */
export async function consumedEvents(s: Scenario, reporting: PgSettings = s.reporting): Promise<number> {
  const c = createClient(reporting);
  await c.connect();
  try {
    const r = await c.query<{ n: string }>(
      `SELECT coalesce(sum(next_offset), 0)::text AS n FROM mart.consumer_offsets WHERE topic LIKE $1`,
      [`${s.topicPrefix}.public.%`],
    );
    return Number(r.rows[0]!.n);
  } finally {
    await c.end();
  }
}

/** Writes `rounds` UPDATEs of every driver_locations row (one change event per row per round). */
async function moveAllDrivers(s: Scenario, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await s.sourceDb.query(
      `UPDATE driver_locations SET lat = lat + (random() - 0.5) * 0.001, lon = lon + (random() - 0.5) * 0.001,
              heading = mod((heading + 7)::numeric, 360)::double precision, speed_kmh = 10 + random() * 30, updated_at = clock_timestamp()`,
    );
  }
}

/**
 * A scenario whose topics hold a backlog of at least `minEvents` change events of the realistic
 * mix: a seeded world (zones, passengers, drivers, booking history with payments and ratings), the
 * simulation streaming at full speed for 30 s (booking lifecycles, payments, ratings: the
 * mart-heavy part), then rounds of driver position updates up to the count. Returns the number of
 * events Debezium published once it has published everything.
 */
export async function produceBacklog(s: Scenario, minEvents: number, volume = 'small'): Promise<number> {
  await s.start({
    beforeConnector: () =>
      generate(s.generatorEnv(), ['--mode', 'seed', '--volume', volume, '--seed', '1']).then(() => undefined),
  });
  const drivers = (await s.sourceDb.query<{ n: number }>('SELECT count(*)::int AS n FROM driver_locations'))
    .rows[0]!.n;
  await generate(s.generatorEnv(), [
    '--mode',
    'stream',
    '--volume',
    volume,
    '--seconds',
    '30',
    '--seed',
    '3',
    '--stream-sleep-min',
    '0',
    '--stream-sleep-max',
    '5',
  ]);
  const seeded = await waitStable(() => producedEvents(s));
  await moveAllDrivers(s, Math.ceil(Math.max(0, minEvents - seeded) / Math.max(1, drivers)));
  return waitStable(() => producedEvents(s));
}

/**
 * Drain: a backlog of at least `minEvents` change events (seeded rows + driver movements) sits in
 * Kafka before the worker starts; time from worker start to the last offset committed.
 */
export async function benchDrain(minEvents: number, volume = 'small'): Promise<DrainResult> {
  const s = new Scenario();
  try {
    const total = await produceBacklog(s, minEvents, volume);
    const started = performance.now();
    const w = await s.startWorker({ LOG_LEVEL: 'error' });
    while ((await consumedEvents(s)) < total) await sleep(250);
    const seconds = (performance.now() - started) / 1000;
    const martRows = await w.metric('ride_cdc_mart_rows_merged_total');
    const stageSeconds = await stageTimes(w);
    await w.kill('SIGTERM');
    return {
      events: total,
      seconds,
      eventsPerSecond: total / seconds,
      martRowsPerSecond: martRows / seconds,
      stageSeconds,
    };
  } finally {
    await s.stop();
  }
}

export async function stageTimes(w: WorkerProcess): Promise<Record<string, number>> {
  return stageHistograms(w, 'sum');
}

/** How many batches / requests each stage ran (the histograms' counts), to read its times per call. */
export async function stageCounts(w: WorkerProcess): Promise<Record<string, number>> {
  return stageHistograms(w, 'count');
}

async function stageHistograms(w: WorkerProcess, part: 'sum' | 'count'): Promise<Record<string, number>> {
  const { body } = await w.get('/metrics');
  const out: Record<string, number> = {};
  const re = new RegExp(
    `^ride_cdc_(sink_request_seconds|batch_processing_seconds)_${part}(?:\\{sink="([^"]+)",operation="([^"]+)"\\})? ([0-9.e+-]+)$`,
  );
  for (const line of body.split('\n')) {
    const m = re.exec(line);
    if (m) out[m[2] ? `${m[2]}:${m[3]}` : 'batch total'] = Number(m[4]);
  }
  return out;
}

/** Waits until a growing count stops growing for 5 s (Debezium has published everything). */
export async function waitStable(read: () => Promise<number>): Promise<number> {
  let last = -1;
  let stableSince = Date.now();
  for (;;) {
    const n = await read();
    if (n !== last) {
      last = n;
      stableSince = Date.now();
    } else if (Date.now() - stableSince > 5000) {
      return n;
    }
    await sleep(500);
  }
}

export interface LatencyResult {
  targetRate: number;
  achievedRate: number;
  seconds: number;
  p50: number;
  p95: number;
  p99: number;
}

/** Quantile from a Prometheus histogram (linear within the bucket, like histogram_quantile). */
export function histogramQuantile(q: number, buckets: { le: number; count: number }[]): number {
  const total = buckets.at(-1)!.count;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / Math.max(1, b.count - prevCount);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

export async function latencyBuckets(w: WorkerProcess): Promise<{ le: number; count: number }[]> {
  const { body } = await w.get('/metrics');
  const out: { le: number; count: number }[] = [];
  for (const line of body.split('\n')) {
    const m = /^ride_cdc_e2e_latency_seconds_bucket\{le="([^"]+)"\} (\d+)/.exec(line);
    if (m) out.push({ le: m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), count: Number(m[2]) });
  }
  return out;
}

/**
 * End-to-end latency (source commit → both sinks acknowledged) at a steady write rate: driver
 * position updates in batches every 100 ms, measured from the worker's histogram after a warm-up.
 */
export async function benchLatency(rate: number, seconds: number): Promise<LatencyResult> {
  const s = new Scenario();
  try {
    await s.start({
      beforeConnector: () =>
        generate(s.generatorEnv(), [
          '--mode',
          'seed',
          '--volume',
          'small',
          '--drivers',
          '1000',
          '--bookings',
          '300',
          '--days',
          '1',
          '--seed',
          '2',
        ]).then(() => undefined),
    });
    const w = await s.startWorker({ LOG_LEVEL: 'error' });
    // Measure the steady state only: the snapshot backlog is drained first.
    const snapshot = await waitStable(() => producedEvents(s));
    while ((await consumedEvents(s)) < snapshot) await sleep(250);
    const drivers = (await s.sourceDb.query<{ n: number }>('SELECT count(*)::int AS n FROM driver_locations'))
      .rows[0]!.n;
    const perTick = Math.max(1, Math.round(rate / 10));
    const before = await latencyBuckets(w);
    const started = performance.now();
    let written = 0;
    let offset = 0;
    for (let tick = 0; tick < seconds * 10; tick++) {
      const due = started + tick * 100;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      // perTick distinct rows per tick, cycling through the fleet: one change event each.
      const r = await s.sourceDb.query(
        `UPDATE driver_locations SET lat = lat + 0.00001, speed_kmh = 20 + random() * 10, updated_at = clock_timestamp()
          WHERE driver_id IN (SELECT driver_id FROM driver_locations ORDER BY driver_id OFFSET $1 LIMIT $2)`,
        [offset, perTick],
      );
      written += r.rowCount ?? 0;
      offset = (offset + perTick) % Math.max(1, drivers - perTick);
    }
    const elapsed = (performance.now() - started) / 1000;
    await sleep(5000);
    const after = await latencyBuckets(w);
    const delta = after.map((b, i) => ({ le: b.le, count: b.count - (before[i]?.count ?? 0) }));
    return {
      targetRate: rate,
      achievedRate: written / elapsed,
      seconds: elapsed,
      p50: histogramQuantile(0.5, delta),
      p95: histogramQuantile(0.95, delta),
      p99: histogramQuantile(0.99, delta),
    };
  } finally {
    await s.stop();
  }
}
