import type { Metrics } from './metrics.js';

/**
 * A point-in-time reading of the worker's own Prometheus metrics, and the rates between two
 * readings: what the pipeline-health dashboard and the status page chart. Pure apart from read().
 */
export interface MetricsReading {
  atMs: number;
  ready: boolean;
  eventsIn: number;
  esDocs: number;
  martRows: number;
  batches: number;
  deadLetters: number;
  retries: number;
  lag: number;
  paused: number;
  inFlight: number;
  /** Cumulative e2e latency histogram: upper bounds (seconds, ascending, last +Inf) and counts. */
  latencyBuckets: { le: number; count: number }[];
  kpis: Record<string, number>;
}

export interface PipelineSnapshot {
  '@timestamp': string;
  worker: string;
  interval_s: number;
  ready: boolean;
  events_in_total: number;
  events_per_s: number;
  es_docs_per_s: number;
  mart_rows_per_s: number;
  batches_per_s: number;
  dead_letters_total: number;
  dead_letters_in_interval: number;
  retries_in_interval: number;
  consumer_lag: number;
  paused_partitions: number;
  in_flight_batches: number;
  e2e_latency_p50_s: number | null;
  e2e_latency_p95_s: number | null;
  e2e_latency_p99_s: number | null;
  drivers_online: number | null;
  drivers_busy: number | null;
}

async function sum(metric: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await metric.get()).values.reduce((n, v) => n + v.value, 0);
}

export async function readMetrics(m: Metrics, now = Date.now()): Promise<MetricsReading> {
  const latency = await m.e2eLatency.get();
  const buckets = latency.values
    .filter((v) => v.metricName?.endsWith('_bucket'))
    .map((v) => ({ le: v.labels.le === '+Inf' ? Infinity : Number(v.labels.le), count: v.value }))
    .sort((a, b) => a.le - b.le);
  const batches = (await m.batchSeconds.get()).values.find((v) => v.metricName?.endsWith('_count'));
  const kpis: Record<string, number> = {};
  for (const v of (await m.kpi.get()).values)
    if (v.labels.dimension === 'all') kpis[String(v.labels.metric)] = v.value;
  return {
    atMs: now,
    ready: (await sum(m.ready)) === 1,
    eventsIn: await sum(m.eventsIn),
    esDocs: await sum(m.docsWritten),
    martRows: await sum(m.martRowsMerged),
    batches: batches?.value ?? 0,
    deadLetters: await sum(m.deadLettered),
    retries: await sum(m.retries),
    lag: await sum(m.consumerLag),
    paused: await sum(m.pausedPartitions),
    inFlight: await sum(m.inFlight),
    latencyBuckets: buckets,
    kpis,
  };
}

/**
 * Quantile q of the observations between two cumulative histograms, interpolated linearly inside
 * the bucket it falls in (as Prometheus' histogram_quantile does); null without observations.
 */
export function quantileBetween(
  prev: readonly { le: number; count: number }[],
  cur: readonly { le: number; count: number }[],
  q: number,
): number | null {
  const before = new Map(prev.map((b) => [b.le, b.count]));
  const diff = cur.map((b) => ({ le: b.le, count: b.count - (before.get(b.le) ?? 0) }));
  const total = diff.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const b of diff) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return lower; // beyond the last finite bound: report that bound
      const inBucket = b.count - below;
      return inBucket <= 0 ? b.le : lower + ((b.le - lower) * (rank - below)) / inBucket;
    }
    lower = b.le;
    below = b.count;
  }
  return lower;
}

const rate = (a: number, b: number, dt: number) => (dt > 0 ? Math.max(0, b - a) / dt : 0);

export function snapshotBetween(prev: MetricsReading, cur: MetricsReading, worker: string): PipelineSnapshot {
  const dt = (cur.atMs - prev.atMs) / 1000;
  const q = (x: number) => quantileBetween(prev.latencyBuckets, cur.latencyBuckets, x);
  return {
    '@timestamp': new Date(cur.atMs).toISOString(),
    worker,
    interval_s: dt,
    ready: cur.ready,
    events_in_total: cur.eventsIn,
    events_per_s: rate(prev.eventsIn, cur.eventsIn, dt),
    es_docs_per_s: rate(prev.esDocs, cur.esDocs, dt),
    mart_rows_per_s: rate(prev.martRows, cur.martRows, dt),
    batches_per_s: rate(prev.batches, cur.batches, dt),
    dead_letters_total: cur.deadLetters,
    dead_letters_in_interval: Math.max(0, cur.deadLetters - prev.deadLetters),
    retries_in_interval: Math.max(0, cur.retries - prev.retries),
    consumer_lag: cur.lag,
    paused_partitions: cur.paused,
    in_flight_batches: cur.inFlight,
    e2e_latency_p50_s: q(0.5),
    e2e_latency_p95_s: q(0.95),
    e2e_latency_p99_s: q(0.99),
    drivers_online: cur.kpis.drivers_online ?? null,
    drivers_busy: cur.kpis.drivers_busy ?? null,
  };
}

/** Daily index of the snapshots, like the other time-series indices (UTC day). */
export function snapshotIndex(prefix: string, atIso: string): string {
  return `${prefix}pipeline_metrics-${atIso.slice(0, 10).replaceAll('-', '.')}`;
}
