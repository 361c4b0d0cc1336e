import type pg from 'pg';
import { CATALOG } from '../../../src/project/metrics/catalog.js';
import {
  allTruthSql,
  diffMetricRows,
  truthSql,
  windowTruthSql,
  type MetricRow,
  type MetricRowDiff,
} from '../../../src/project/metrics/truth-sql.js';
import { MART_METRIC_ROWS_SQL } from '../../../src/sink/mart/sql/metric-sql.js';

/** Every KPI row (metric × granularity × bucket × dimension) of the mart against SQL over the source. */
export async function diffMart(
  source: pg.Client,
  reporting: pg.Client,
): Promise<{ diffs: MetricRowDiff[]; truthRows: number; metrics: number }> {
  const truth = (await source.query<MetricRow>(allTruthSql())).rows;
  const mart = (await reporting.query<MetricRow>(MART_METRIC_ROWS_SQL)).rows;
  return {
    diffs: diffMetricRows(truth, mart),
    truthRows: truth.length,
    metrics: new Set(truth.map((r) => r.metric_name)).size,
  };
}

/** mart.latest_metric_snapshot against the truth over the same trailing window (gauges: current). */
export async function diffSnapshot(source: pg.Client, reporting: pg.Client): Promise<MetricRowDiff[]> {
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

/** mart.fact_booking and mart.booking_status_history against bookings and payments. */
export async function diffBookingFacts(source: pg.Client, reporting: pg.Client): Promise<string[]> {
  const ts = (c: string) => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;
  const src = (
    await source.query(
      `SELECT b.id::text, b.status::text, b.final_fare::text, b.cancelled_by::text, ${ts('b.requested_at')} AS req, ${ts('b.completed_at')} AS done,
              p.id::text AS payment_id, p.amount::text AS paid_amount, p.status::text AS payment_status
         FROM bookings b LEFT JOIN payments p ON p.booking_id = b.id ORDER BY b.id`,
    )
  ).rows;
  const mart = (
    await reporting.query(
      `SELECT booking_id::text AS id, status, final_fare::text, cancelled_by, ${ts('requested_at')} AS req, ${ts('completed_at')} AS done,
              payment_id::text, paid_amount::text, payment_status
         FROM mart.fact_booking WHERE booking_present ORDER BY booking_id`,
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
      'SELECT (count(requested_at)+count(accepted_at)+count(arrived_at)+count(started_at)+count(completed_at)+count(cancelled_at))::int AS n FROM bookings',
    )
  ).rows[0]!.n;
  const hist = (
    await reporting.query<{ n: number }>('SELECT count(*)::int AS n FROM mart.booking_status_history')
  ).rows[0]!.n;
  if (steps !== hist) out.push(`status history rows: expected ${steps} got ${hist}`);
  return out;
}
