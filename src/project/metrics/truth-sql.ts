import { normalize } from '../../shared/decimal.js';
import { CATALOG, distinctPartOf, type MetricDef, type MetricSource, type Part } from './catalog.js';
import { toMicros } from './time.js';

/**
 * The truth: for every KPI, the SQL over ride_hailing_db that the mart must equal after the
 * pipeline drains. Generated from the catalog's SQL side (the same definitions contributions.ts
 * evaluates in TypeScript), so there is one definition of each KPI.
 *
 * Every query returns the mart's column names:
 *   metric_name, bucket_granularity ('MINUTE' | 'HOUR' | 'CURRENT'), bucket_start (timestamptz,
 *   NULL for gauges), dimension, numerator, denominator, metric_value
 * and can be compared row for row with martMetricRowsSql() run on reporting_db (diffMetricRows).
 */

/** metric_value from numerator/denominator — the same expression as the mart's generated column. */
export function valueSql(rule: MetricDef['valueRule'], num = 'numerator', den = 'denominator'): string {
  return rule === 'ratio' ? `round(${num} / NULLIF(${den}, 0), 6)` : num;
}

const GRANULARITY_UNITS = { MINUTE: 'minute', HOUR: 'hour' } as const;

function aggregate(side: Part['numerator']): string {
  return side.kind === 'distinct' ? `count(DISTINCT ${side.sql})::numeric` : `sum(${side.sql})::numeric`;
}

function dimensionsSql(p: Part): string {
  return `CROSS JOIN LATERAL (VALUES ${p.dimensions.map((d) => `(${d.sql})`).join(', ')}) AS d(dimension)`;
}

/**
 * Rows that can fall into a bucket starting in [since, until): event time in [since, until + 1 hour).
 * Placeholders are numbered after the query's own, so callers pass [since, until] last.
 */
function rangeSql(p: Part, range: TruthRange | undefined): string {
  if (!range || p.time === null) return '';
  return ` AND ${p.time} >= $${range.param}::timestamptz AND ${p.time} < $${range.param + 1}::timestamptz + interval '1 hour'`;
}

/** Restricts flow truth to buckets whose start is in [$param, $param + 1). Gauges are unaffected. */
export interface TruthRange {
  /** Number of the `since` placeholder; `until` is the next one. */
  param: number;
}

export interface TruthOptions {
  range?: TruthRange;
  /**
   * The relation a part reads its rows from; default the source table public.<source>. The
   * backfill passes the mart's stored row states shaped like the source table.
   */
  from?: (source: MetricSource) => string;
}

const sourceTable = (source: MetricSource) => `public.${source}`;

function partSql(m: MetricDef, p: Part, window: boolean, opts: TruthOptions = {}): string {
  const { range } = opts;
  const from = (opts.from ?? sourceTable)(p.source);
  const select = `SELECT d.dimension, ${aggregate(p.numerator)} AS numerator, ${aggregate(p.denominator)} AS denominator`;
  // An event time of ±infinity lies in no bucket (contributions.ts skips it the same way).
  const finite = p.time === null ? '' : ` AND isfinite(${p.time})`;
  const where = `WHERE (${p.where.sql}) AND d.dimension IS NOT NULL${finite}${rangeSql(p, range)}`;
  if (p.time === null) {
    return `${select}, 'CURRENT'::text AS bucket_granularity, NULL::timestamptz AS bucket_start\n  FROM ${from} ${dimensionsSql(p)}\n  ${where}\n  GROUP BY d.dimension`;
  }
  if (window) {
    return `${select}, 'TRAILING'::text AS bucket_granularity, $1::timestamptz AS bucket_start\n  FROM ${from} ${dimensionsSql(p)}\n  ${where} AND ${p.time} >= $1::timestamptz AND ${p.time} < $2::timestamptz\n  GROUP BY d.dimension`;
  }
  const units = m.granularities.map((g) => `('${g}', '${GRANULARITY_UNITS[g]}')`).join(', ');
  return (
    `${select}, g.bucket_granularity, date_trunc(g.unit, ${p.time} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket_start\n` +
    `  FROM ${from} CROSS JOIN (VALUES ${units}) AS g(bucket_granularity, unit) ${dimensionsSql(p)}\n` +
    `  ${where}\n  GROUP BY 1, 4, 5`
  );
}

function wrap(m: MetricDef, parts: string[], range?: TruthRange): string {
  const body = parts.length === 1 ? parts[0] : parts.join('\n  UNION ALL\n  ');
  const having = range
    ? `\nHAVING bucket_start IS NULL OR (bucket_start >= $${range.param}::timestamptz AND bucket_start < $${range.param + 1}::timestamptz)`
    : '';
  return (
    `SELECT '${m.name}'::text AS metric_name, bucket_granularity, bucket_start, dimension,\n` +
    `       sum(numerator) AS numerator, sum(denominator) AS denominator, ${valueSql(m.valueRule, 'sum(numerator)', 'sum(denominator)')} AS metric_value\n` +
    `FROM (\n  ${body}\n) AS p\nGROUP BY bucket_granularity, bucket_start, dimension${having}`
  );
}

/**
 * Truth for one KPI: every MINUTE and HOUR bucket (flows) or the CURRENT row per dimension
 * (gauges); with `range`, only the flow buckets starting in [since, until) (ride-cdc verify).
 */
export function truthSql(metric: MetricDef, opts: TruthOptions = {}): string {
  return wrap(
    metric,
    metric.parts.map((p) => partSql(metric, p, false, opts)),
    opts.range,
  );
}

/**
 * The members behind a distinct-count KPI, as mart.metric_member holds them: one row per (bucket,
 * dimension, member) with the number of rows referencing it. Null for a KPI without a distinct side.
 */
export function distinctMembersSql(metric: MetricDef, opts: TruthOptions = {}): string | null {
  const part = distinctPartOf(metric);
  const p = metric.parts[0];
  if (!part || !p || p.time === null) return null;
  const side = p[part];
  const from = (opts.from ?? sourceTable)(p.source);
  const units = metric.granularities.map((g) => `('${g}', '${GRANULARITY_UNITS[g]}')`).join(', ');
  return (
    `SELECT g.bucket_granularity, date_trunc(g.unit, ${p.time} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket_start,\n` +
    `       '${metric.name}'::text AS metric_name, d.dimension, ${side.sql} AS member, '${part}'::text AS part, count(*) AS ref_count\n` +
    `  FROM ${from} CROSS JOIN (VALUES ${units}) AS g(bucket_granularity, unit) ${dimensionsSql(p)}\n` +
    `  WHERE (${p.where.sql}) AND d.dimension IS NOT NULL AND isfinite(${p.time})\n  GROUP BY 1, 2, 4, 5`
  );
}

/**
 * Truth for a flow KPI over the window [$1, $2) — what mart.latest_metric_snapshot reports for its
 * trailing window (bucket_granularity 'TRAILING', bucket_start = $1). Gauges: same as truthSql.
 */
export function windowTruthSql(metric: MetricDef): string {
  return wrap(
    metric,
    metric.parts.map((p) => partSql(metric, p, true)),
  );
}

/** Truth for the whole catalog (one statement; run against ride_hailing_db). */
export function allTruthSql(catalog: readonly MetricDef[] = CATALOG, opts: TruthOptions = {}): string {
  return catalog.map((m) => `(${truthSql(m, opts)})`).join('\nUNION ALL\n');
}

export interface MetricRow {
  metric_name: string;
  bucket_granularity: string;
  bucket_start: Date | string | null;
  dimension: string;
  numerator: string | number;
  denominator: string | number;
  metric_value: string | number | null;
}

export interface MetricRowDiff {
  key: string;
  truth: MetricRow | null;
  mart: MetricRow | null;
}

function rowKey(r: MetricRow): string {
  const b =
    r.bucket_start === null
      ? ''
      : r.bucket_start instanceof Date
        ? r.bucket_start.toISOString()
        : new Date(Number(toMicros(r.bucket_start) / 1000n)).toISOString();
  return `${r.metric_name}|${r.bucket_granularity}|${b}|${r.dimension}`;
}

const isEmpty = (r: MetricRow) => normalize(r.numerator) === '0' && normalize(r.denominator) === '0';
const same = (a: MetricRow, b: MetricRow) =>
  normalize(a.numerator) === normalize(b.numerator) &&
  normalize(a.denominator) === normalize(b.denominator) &&
  (a.metric_value === null
    ? b.metric_value === null
    : b.metric_value !== null && normalize(a.metric_value) === normalize(b.metric_value));

/**
 * Row-for-row comparison of truth and mart (exact decimals, value included). A mart row with
 * numerator = denominator = 0 counts as absent (the writer deletes them, but a reader racing the
 * writer's cleanup may see one). Empty result = the mart equals the truth.
 */
export function diffMetricRows(truth: readonly MetricRow[], mart: readonly MetricRow[]): MetricRowDiff[] {
  const t = new Map(truth.map((r) => [rowKey(r), r]));
  const m = new Map(mart.filter((r) => !isEmpty(r)).map((r) => [rowKey(r), r]));
  const diffs: MetricRowDiff[] = [];
  for (const [key, tr] of t) {
    const mr = m.get(key) ?? null;
    if (!mr || !same(tr, mr)) diffs.push({ key, truth: tr, mart: mr });
  }
  for (const [key, mr] of m) if (!t.has(key)) diffs.push({ key, truth: null, mart: mr });
  return diffs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
