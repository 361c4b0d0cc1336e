/**
 * `ride-cdc mart backfill --metric M`: a KPI's whole history computed from the row states the mart
 * already keeps (mart.fact_booking, payment_state, rating_state, driver_state, passenger_state),
 * without replaying Kafka. The KPI's truth SQL (truth-sql.ts, the catalog's SQL side) runs over
 * those states shaped like the source tables, and its rows replace the KPI's rows in
 * fact_metric_bucket / metric_gauge (and, for a distinct count, its members in metric_member) in
 * one transaction. Idempotent: running it again writes the same rows.
 *
 * A worker may be running. The transaction first locks the state and metric tables against writes
 * (SHARE ROW EXCLUSIVE: readers go on, the worker's next batch waits a moment), so the rows written
 * are exactly the KPI of the states at that instant, and every later event's delta applies on top.
 * That is why a new KPI is deployed first (the worker starts maintaining it for new events) and
 * backfilled second: events between the two are counted once, in the states the backfill reads.
 */
import type pg from 'pg';
import type { MetricDef, MetricSource } from '../../project/metrics/catalog.js';
import { STATE_SQL } from '../../sink/mart/sql/state-sql.js';
import { distinctMembersSql, truthSql } from '../../project/metrics/truth-sql.js';
import { catalogSyncStatements, recordTombstonesSql } from '../../sink/mart/sql/metric-sql.js';

/** A source table's stored states, with the source's column names and types. */
export function stateRelation(source: MetricSource): string {
  const s = STATE_SQL[source];
  const cols = s.columns.map((c) => (c.db === c.state ? c.db : `${c.db} AS ${c.state}`)).join(', ');
  return `(SELECT ${cols} FROM ${s.table}${s.presentFlag ? ` WHERE ${s.presentFlag}` : ''}) AS ${source}`;
}

/** The worker's lock order (mart-sink ORDER, then the metric tables), so neither waits in a cycle. */
export const BACKFILL_LOCK_ORDER = [
  'mart.payment_state',
  'mart.fact_booking',
  'mart.rating_state',
  'mart.driver_state',
  'mart.passenger_state',
  'mart.metric_member',
  'mart.fact_metric_bucket',
  'mart.metric_gauge',
];

// The KPI's old rows go; each bucket and gauge key is recorded in mart.kpi_mirror_tombstone (as
// the worker does for a row it empties) so the KPI mirror in Elasticsearch deletes the documents of
// keys the backfill does not write again. Each statement returns how many rows it deleted.
const DELETE_KPI_ROWS = [
  `WITH gone AS (DELETE FROM mart.fact_metric_bucket WHERE metric_name = $1
     RETURNING bucket_granularity, bucket_start, metric_name, dimension),
   t AS (${recordTombstonesSql('bucket')})
   SELECT count(*) AS n FROM gone`,
  `WITH gone AS (DELETE FROM mart.metric_gauge WHERE metric_name = $1 RETURNING metric_name, dimension),
   t AS (${recordTombstonesSql('gauge')})
   SELECT count(*) AS n FROM gone`,
  `WITH gone AS (DELETE FROM mart.metric_member WHERE metric_name = $1 RETURNING 1) SELECT count(*) AS n FROM gone`,
];

/** After the new rows are in: the keys written again are not deleted rows (their documents stay). */
const FORGET_RECREATED = `DELETE FROM mart.kpi_mirror_tombstone t
WHERE t.metric_name = $1 AND (
  EXISTS (SELECT 1 FROM mart.fact_metric_bucket f
          WHERE f.bucket_granularity = t.bucket_granularity AND f.bucket_start = t.bucket_start
            AND f.metric_name = t.metric_name AND f.dimension = t.dimension)
  OR EXISTS (SELECT 1 FROM mart.metric_gauge g
             WHERE t.bucket_granularity = 'CURRENT' AND g.metric_name = t.metric_name AND g.dimension = t.dimension))`;

export interface BackfillResult {
  metric: string;
  deleted: number;
  rows: number;
  members: number;
  ms: number;
}

export async function backfillMetric(pool: pg.Pool, metric: MetricDef): Promise<BackfillResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await backfillOnce(pool, metric);
    } catch (err) {
      // A deadlock with a worker batch that started before the lock: PostgreSQL aborted us, retry.
      if ((err as { code?: string }).code === '40P01' && attempt < 5) continue;
      throw err;
    }
  }
}

async function backfillOnce(pool: pg.Pool, metric: MetricDef): Promise<BackfillResult> {
  const t0 = performance.now();
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query(`LOCK TABLE ${BACKFILL_LOCK_ORDER.join(', ')} IN SHARE ROW EXCLUSIVE MODE`);
    const r = await backfillInTransaction(c, metric);
    await c.query('COMMIT');
    return { ...r, ms: performance.now() - t0 };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

/**
 * The backfill's statements inside a transaction the caller opened and locked (BACKFILL_LOCK_ORDER
 * or stronger), e.g. a table rebuild that replaces the states first (src/batch/rebuild/).
 */
export async function backfillInTransaction(
  c: Pick<pg.ClientBase, 'query'>,
  metric: MetricDef,
): Promise<Omit<BackfillResult, 'ms'>> {
  // The definition row first (a new KPI may not be known to this reporting_db yet); only the
  // upsert — the sync's second statement would drop every other KPI's definition.
  const [define] = catalogSyncStatements([metric]);
  await c.query(define!.text, define!.values);
  const name = [metric.name];
  let deleted = 0;
  for (const sql of DELETE_KPI_ROWS) deleted += Number((await c.query(sql, name)).rows[0]?.n ?? 0);
  const truth = truthSql(metric, { from: stateRelation });
  const isGauge = metric.granularities.length === 0;
  const rows = isGauge
    ? await c.query(
        `INSERT INTO mart.metric_gauge (metric_name, dimension, value_rule, numerator, denominator)
           SELECT metric_name, dimension, $1, numerator, denominator FROM (${truth}) AS t
            WHERE numerator <> 0 OR denominator <> 0`,
        [metric.valueRule],
      )
    : await c.query(
        `INSERT INTO mart.fact_metric_bucket (bucket_granularity, bucket_start, metric_name, dimension, value_rule, numerator, denominator)
           SELECT bucket_granularity, bucket_start, metric_name, dimension, $1, numerator, denominator FROM (${truth}) AS t
            WHERE numerator <> 0 OR denominator <> 0`,
        [metric.valueRule],
      );
  await c.query(FORGET_RECREATED, name);
  const membersSql = distinctMembersSql(metric, { from: stateRelation });
  const members = membersSql
    ? await c.query(
        `INSERT INTO mart.metric_member (bucket_granularity, bucket_start, metric_name, dimension, member, part, ref_count)
           SELECT bucket_granularity, bucket_start, metric_name, dimension, member, part, ref_count FROM (${membersSql}) AS m`,
      )
    : null;
  return {
    metric: metric.name,
    deleted,
    rows: rows.rowCount ?? 0,
    members: members?.rowCount ?? 0,
  };
}
