import type pg from 'pg';
import { CATALOG } from '../project/metrics/catalog.js';
import {
  allTruthSql,
  diffMetricRows,
  truthSql,
  windowTruthSql,
  type MetricRow,
  type MetricRowDiff,
} from '../project/metrics/truth-sql.js';
import { MART_METRIC_ROWS_SQL } from '../sink/mart/sql/metric-sql.js';

/**
 * SQL over the source and over the mart that the reconciliation (ride-cdc verify) and the e2e
 * tests compare. Read-only: nothing here writes to either database.
 */

/** Flow buckets starting in [since, until); gauges are always compared (they have no time). */
export interface TimeRange {
  since: Date;
  until: Date;
}

type Queryable = Pick<pg.ClientBase, 'query'>;

/**
 * A source timestamp may be 'infinity' (PostgreSQL allows it); node-postgres parses such a bucket
 * as the number ±Infinity, which the catalog's comparator (microsecond keys) cannot take. Those
 * rows are compared here by their text.
 */
const finite = (r: MetricRow) => typeof r.bucket_start !== 'number';
function diffInfinite(truth: MetricRow[], mart: MetricRow[]): MetricRowDiff[] {
  const norm = (v: unknown) =>
    v === null || v === undefined
      ? 'null'
      : String(v)
          .replace(/(\.\d*?)0+$/, '$1')
          .replace(/\.$/, '');
  const key = (r: MetricRow) =>
    `${r.metric_name}|${r.bucket_granularity}|${String(r.bucket_start)}|${r.dimension}`;
  const val = (r: MetricRow) => `${norm(r.numerator)}/${norm(r.denominator)}=${norm(r.metric_value)}`;
  const t = new Map(truth.filter((r) => !finite(r)).map((r) => [key(r), r]));
  const m = new Map(mart.filter((r) => !finite(r)).map((r) => [key(r), r]));
  const out: MetricRowDiff[] = [];
  for (const [k, r] of t)
    if (!m.has(k) || val(m.get(k)!) !== val(r)) out.push({ key: k, truth: r, mart: m.get(k) ?? null });
  for (const [k, r] of m) if (!t.has(k)) out.push({ key: k, truth: null, mart: r });
  return out;
}

/** Every KPI row (metric × granularity × bucket × dimension) of the mart against SQL over the source. */
export async function diffMart(
  source: Queryable,
  reporting: Queryable,
  range?: TimeRange,
): Promise<{ diffs: MetricRowDiff[]; truthRows: number; martRows: number; metrics: number }> {
  const params = range ? [range.since, range.until] : [];
  const [truthRes, martRes] = await Promise.all([
    source.query<MetricRow>(allTruthSql(CATALOG, range ? { range: { param: 1 } } : {}), params),
    reporting.query<MetricRow>(
      range
        ? `SELECT * FROM (${MART_METRIC_ROWS_SQL}) m WHERE bucket_start IS NULL OR (bucket_start >= $1 AND bucket_start < $2)`
        : MART_METRIC_ROWS_SQL,
      params,
    ),
  ]);
  const truth = truthRes.rows;
  return {
    diffs: [
      ...diffMetricRows(truth.filter(finite), martRes.rows.filter(finite)),
      ...diffInfinite(truth, martRes.rows),
    ],
    truthRows: truth.length,
    martRows: martRes.rows.length,
    metrics: new Set(truth.map((r) => r.metric_name)).size,
  };
}

/** mart.latest_metric_snapshot against the truth over the same trailing window (gauges: current). */
export async function diffSnapshot(source: Queryable, reporting: Queryable): Promise<MetricRowDiff[]> {
  await reporting.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
  try {
    const snap = (
      await reporting.query<MetricRow & { window_end: Date | null }>(
        `SELECT metric_name, CASE window_kind WHEN 'CURRENT' THEN 'CURRENT' ELSE 'TRAILING' END AS bucket_granularity,
                window_start AS bucket_start, window_end, dimension, numerator, denominator, metric_value
           FROM mart.latest_metric_snapshot`,
      )
    ).rows;
    const w = (
      await reporting.query<{ start: Date; end: Date }>(
        `SELECT (date_trunc('minute', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') + interval '1 minute' - interval '60 minutes' AS start,
              (date_trunc('minute', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') + interval '1 minute' AS end`,
      )
    ).rows[0]!;
    const truth: MetricRow[] = [];
    for (const m of CATALOG) {
      const gauge = m.kind === 'gauge';
      truth.push(
        ...(
          await source.query<MetricRow>(
            gauge ? truthSql(m) : windowTruthSql(m),
            gauge ? [] : [w.start, w.end],
          )
        ).rows,
      );
    }
    return diffMetricRows(truth, snap);
  } finally {
    await reporting.query('COMMIT');
  }
}

/**
 * mart.fact_booking and mart.booking_status_history against bookings and payments (with a range:
 * the bookings requested in it).
 */
export async function diffBookingFacts(
  source: Queryable,
  reporting: Queryable,
  range?: TimeRange,
): Promise<string[]> {
  const ts = (c: string) => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;
  // Amounts compare by value: a source column whose scale grew renders old rows with more zeros
  // (41000.000) than the mart stored from their events (41000.00).
  const amount = (c: string) => `trim_scale(${c})::text`;
  const params = range ? [range.since, range.until] : [];
  const inRange = (col: string) => (range ? ` AND ${col} >= $1 AND ${col} < $2` : '');
  const src = (
    await source.query(
      `SELECT b.id::text, b.status::text, ${amount('b.final_fare')} AS final_fare, b.cancelled_by::text, ${ts('b.requested_at')} AS req, ${ts('b.completed_at')} AS done,
              p.id::text AS payment_id, ${amount('p.amount')} AS paid_amount, p.status::text AS payment_status
         FROM bookings b LEFT JOIN payments p ON p.booking_id = b.id WHERE TRUE${inRange('b.requested_at')} ORDER BY b.id`,
      params,
    )
  ).rows;
  const mart = (
    await reporting.query(
      `SELECT booking_id::text AS id, status, ${amount('final_fare')} AS final_fare, cancelled_by, ${ts('requested_at')} AS req, ${ts('completed_at')} AS done,
              payment_id::text, ${amount('paid_amount')} AS paid_amount, payment_status
         FROM mart.fact_booking WHERE booking_present${inRange('requested_at')} ORDER BY booking_id`,
      params,
    )
  ).rows;
  const out: string[] = [];
  const m = new Map(mart.map((r) => [r.id, JSON.stringify(r)]));
  for (const r of src)
    if (m.get(r.id) !== JSON.stringify(r))
      out.push(`fact_booking ${r.id}: source ${JSON.stringify(r)} mart ${m.get(r.id) ?? 'missing'}`);
  if (src.length !== mart.length) out.push(`fact_booking rows: source ${src.length} mart ${mart.length}`);
  const steps = (
    await source.query<{ n: number }>(
      `SELECT (count(requested_at)+count(accepted_at)+count(arrived_at)+count(started_at)+count(completed_at)+count(cancelled_at))::int AS n
         FROM bookings WHERE TRUE${inRange('requested_at')}`,
      params,
    )
  ).rows[0]!.n;
  const hist = (
    await reporting.query<{ n: number }>(
      range
        ? `SELECT count(*)::int AS n FROM mart.booking_status_history h JOIN mart.fact_booking b USING (booking_id)
            WHERE b.booking_present${inRange('b.requested_at')}`
        : 'SELECT count(*)::int AS n FROM mart.booking_status_history',
      params,
    )
  ).rows[0]!.n;
  if (steps !== hist) out.push(`status history rows: expected ${steps} got ${hist}`);
  return out;
}
