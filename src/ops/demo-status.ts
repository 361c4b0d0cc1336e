/**
 * Pure parts of the demo's live status line: a reader for the Prometheus text format the worker
 * serves on /metrics, a histogram quantile over two scrapes (like PromQL's histogram_quantile of
 * a rate), and the line itself.
 */

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition → samples by metric name (comments skipped). */
export function parseMetrics(text: string): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = m[3] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[3]);
    const list = out.get(m[1] as string) ?? [];
    list.push({ labels, value });
    out.set(m[1] as string, list);
  }
  return out;
}

export interface Snapshot {
  atMs: number;
  eventsIn: number;
  lag: number;
  ready: boolean;
  deadLetters: number;
  /** Cumulative e2e latency buckets, ascending by upper bound (seconds). */
  latencyBuckets: { le: number; count: number }[];
  kpis: Record<string, number>;
}

const sum = (s: Sample[] | undefined) => (s ?? []).reduce((n, x) => n + x.value, 0);

export function snapshot(text: string, atMs: number): Snapshot {
  const m = parseMetrics(text);
  const kpis: Record<string, number> = {};
  for (const s of m.get('ride_cdc_kpi') ?? [])
    if (s.labels.dimension === 'all') kpis[s.labels.metric ?? '?'] = s.value;
  return {
    atMs,
    eventsIn: sum(m.get('ride_cdc_events_in_total')),
    lag: sum(m.get('ride_cdc_consumer_lag')),
    ready: sum(m.get('ride_cdc_ready')) > 0,
    deadLetters: sum(m.get('ride_cdc_dead_letter_total')),
    latencyBuckets: (m.get('ride_cdc_e2e_latency_seconds_bucket') ?? [])
      .map((s) => ({
        le: s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le),
        count: s.value,
      }))
      .sort((a, b) => a.le - b.le),
    kpis,
  };
}

/**
 * q-quantile of the observations made between two scrapes of a cumulative histogram, with
 * Prometheus' linear interpolation inside the bucket. Undefined when nothing was observed.
 */
export function histogramQuantile(
  q: number,
  before: { le: number; count: number }[],
  after: { le: number; count: number }[],
): number | undefined {
  const prev = new Map(before.map((b) => [b.le, b.count]));
  const delta = after.map((b) => ({ le: b.le, count: b.count - (prev.get(b.le) ?? 0) }));
  const total = delta.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const b of delta) {
    if (b.count >= rank) {
      // Above the highest finite bound Prometheus answers with that bound.
      if (!Number.isFinite(b.le)) return lower;
      const inBucket = b.count - below;
      return inBucket <= 0 ? b.le : lower + ((b.le - lower) * (rank - below)) / inBucket;
    }
    lower = b.le;
    below = b.count;
  }
  return lower;
}

const pct = (v: number | undefined) => (v === undefined ? '-' : `${(v * 100).toFixed(1)}%`);
const num = (v: number | undefined) => (v === undefined ? '-' : Math.round(v).toLocaleString('en-US'));

/** One line: throughput, lag, p95 latency over the interval, readiness and headline KPIs. */
export function statusLine(prev: Snapshot, cur: Snapshot): string {
  const secs = Math.max(0.001, (cur.atMs - prev.atMs) / 1000);
  const rate = Math.max(0, cur.eventsIn - prev.eventsIn) / secs;
  const p95 = histogramQuantile(0.95, prev.latencyBuckets, cur.latencyBuckets);
  const k = cur.kpis;
  return [
    `${num(rate)} ev/s`,
    `lag ${num(cur.lag)}`,
    `p95 ${p95 === undefined ? '-' : p95 >= 10 ? `${p95.toFixed(0)} s` : `${Math.round(p95 * 1000)} ms`}`,
    cur.ready ? 'ready' : 'NOT READY',
    ...(cur.deadLetters > 0 ? [`DLQ ${num(cur.deadLetters)}`] : []),
    `| 60 min: requested ${num(k.bookings_requested)}`,
    `completed ${num(k.bookings_completed)}`,
    `match ${pct(k.match_rate)}`,
    `cancel ${pct(k.cancellation_rate)}`,
    `GMV ${num(k.gmv)}`,
    `drivers online ${num(k.drivers_online)}`,
  ].join('  ');
}
