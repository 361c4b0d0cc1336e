import {
  CATALOG,
  distinctPartOf,
  type MetricDef,
  type MetricPart,
  metricDef,
} from '../../../project/metrics/catalog.js';
import {
  type AdditiveDelta,
  type Delta,
  type MemberDelta,
  mergeDeltas,
  splitDeltas,
} from '../../../project/metrics/delta.js';
import { truthSql } from '../../../project/metrics/truth-sql.js';

/**
 * Pure SQL builders for the KPI tables of the mart writer. Every statement is parameterised, takes
 * its rows as arrays through unnest(...) WITH ORDINALITY (a fixed number of parameters whatever the
 * batch size) and inserts them in the order given — mergeDeltas' total order — so concurrent
 * workers lock mart rows in the same order and do not deadlock on each other.
 *
 * Writing one batch's metric deltas, inside the batch transaction:
 *   1. memberStatements(members): upsert the member references; the first statement RETURNS the
 *      distinct-count transitions (a member going 0 → >0 references adds 1, >0 → 0 subtracts 1).
 *   2. transitionsToDeltas(rows) turns them into additive deltas of the metric side they feed.
 *   3. additiveStatements(mergeDeltas([...additive, ...transitions])): upsert fact_metric_bucket and
 *      metric_gauge (numerator += Δ, denominator += Δ; metric_value is a generated column); they
 *      return the rows they left at numerator = denominator = 0,
 *   4. emptiedCleanupSql(those rows) deletes them and records their keys in kpi_mirror_tombstone.
 * planMetricWrite() packages the steps (mart-writes.ts writeMetricDeltas runs them). Doing members first and ALL bucket rows in one
 * sorted pass keeps one global lock order: state rows → metric_member → fact_metric_bucket →
 * metric_gauge → kpi_mirror_tombstone (bucket keys, then gauge keys) → consumer_offsets.
 */

export interface SqlStatement {
  readonly text: string;
  readonly values: unknown[];
}

/** Rows per statement; a bigger batch becomes several statements in the same order. */
export const DEFAULT_MAX_ROWS = 5000;

function chunks<T>(rows: readonly T[], max: number): T[][] {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`bad chunk size ${max}`);
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += max) out.push(rows.slice(i, i + max));
  return out;
}

function valueRuleOf(metric: string): MetricDef['valueRule'] {
  return metricDef(metric).valueRule;
}

// ---------------------------------------------------------------------------------------------
// fact_metric_bucket / metric_gauge

// The upserts return only the rows they left at numerator = denominator = 0, so the cleanup deletes
// those and touches nothing else (a DELETE over every key written costs as much as the upsert).
/** to_char format of a UTC timestamp as the ISO string the KPI keys carry. */
export const UTC_MS = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/** kpi_mirror_tombstone's bucket_start of a gauge key (a primary key column is never null). */
export const GAUGE_TOMBSTONE_BUCKET = '-infinity';

/**
 * Records the keys of the KPI rows a statement deleted (a CTE named `gone`, RETURNING the bucket
 * key columns or, for gauges, metric_name and dimension) in kpi_mirror_tombstone, in key order.
 */
export function recordTombstonesSql(target: 'bucket' | 'gauge'): string {
  const select =
    target === 'bucket'
      ? 'SELECT bucket_granularity, bucket_start, metric_name, dimension FROM gone ORDER BY 1, 2, 3, 4'
      : `SELECT 'CURRENT', '${GAUGE_TOMBSTONE_BUCKET}'::timestamptz, metric_name, dimension FROM gone ORDER BY 3, 4`;
  return `INSERT INTO mart.kpi_mirror_tombstone (bucket_granularity, bucket_start, metric_name, dimension)
${select}
ON CONFLICT DO NOTHING`;
}

const BUCKET_UPSERT = `WITH up AS (
INSERT INTO mart.fact_metric_bucket AS f
  (bucket_granularity, bucket_start, metric_name, dimension, value_rule, numerator, denominator)
SELECT i.bucket_granularity, i.bucket_start, i.metric_name, i.dimension, i.value_rule, i.numerator, i.denominator
FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::numeric[])
  WITH ORDINALITY AS i(bucket_granularity, bucket_start, metric_name, dimension, value_rule, numerator, denominator, ord)
ORDER BY i.ord
ON CONFLICT (bucket_granularity, bucket_start, metric_name, dimension) DO UPDATE
SET numerator = f.numerator + EXCLUDED.numerator,
    denominator = f.denominator + EXCLUDED.denominator,
    updated_at = now()
RETURNING f.bucket_granularity, f.bucket_start, f.metric_name, f.dimension, f.numerator, f.denominator)
SELECT 'bucket' AS target, bucket_granularity, to_char(bucket_start AT TIME ZONE 'UTC', ${UTC_MS}) AS bucket_start,
  metric_name, dimension
FROM up WHERE numerator = 0 AND denominator = 0`;

// The cleanups delete the emptied rows and record each key in kpi_mirror_tombstone in the same
// transaction, so the KPI mirror can delete the document even if this worker dies before mirroring.
const BUCKET_CLEANUP = `WITH gone AS (
DELETE FROM mart.fact_metric_bucket f
USING unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[]) AS k(bucket_granularity, bucket_start, metric_name, dimension)
WHERE f.bucket_granularity = k.bucket_granularity AND f.bucket_start = k.bucket_start
  AND f.metric_name = k.metric_name AND f.dimension = k.dimension
  AND f.numerator = 0 AND f.denominator = 0
RETURNING f.bucket_granularity, f.bucket_start, f.metric_name, f.dimension)
${recordTombstonesSql('bucket')}`;

const GAUGE_UPSERT = `WITH up AS (
INSERT INTO mart.metric_gauge AS g (metric_name, dimension, value_rule, numerator, denominator)
SELECT i.metric_name, i.dimension, i.value_rule, i.numerator, i.denominator
FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::numeric[])
  WITH ORDINALITY AS i(metric_name, dimension, value_rule, numerator, denominator, ord)
ORDER BY i.ord
ON CONFLICT (metric_name, dimension) DO UPDATE
SET numerator = g.numerator + EXCLUDED.numerator,
    denominator = g.denominator + EXCLUDED.denominator,
    updated_at = now()
RETURNING g.metric_name, g.dimension, g.numerator, g.denominator)
SELECT 'gauge' AS target, 'CURRENT' AS bucket_granularity, NULL AS bucket_start, metric_name, dimension
FROM up WHERE numerator = 0 AND denominator = 0`;

const GAUGE_CLEANUP = `WITH gone AS (
DELETE FROM mart.metric_gauge g
USING unnest($1::text[], $2::text[]) AS k(metric_name, dimension)
WHERE g.metric_name = k.metric_name AND g.dimension = k.dimension
  AND g.numerator = 0 AND g.denominator = 0
RETURNING g.metric_name, g.dimension)
${recordTombstonesSql('gauge')}`;

/** A mart KPI row an additive upsert left at numerator = denominator = 0 (what the upserts return). */
export interface EmptiedRow {
  target: 'bucket' | 'gauge';
  bucket_granularity: string;
  bucket_start: string | null;
  metric_name: string;
  dimension: string;
}

/**
 * Additive upserts for bucket and gauge deltas, buckets first. Input must be merged (unique keys).
 * Each statement returns the EmptiedRow[] it left; hand them all to emptiedCleanupSql afterwards.
 */
export function additiveStatements(
  deltas: readonly AdditiveDelta[],
  maxRows = DEFAULT_MAX_ROWS,
): SqlStatement[] {
  const { buckets, gauges } = splitDeltas(mergeDeltas(deltas));
  const out: SqlStatement[] = [];
  for (const part of chunks(buckets as AdditiveDelta[], maxRows)) {
    out.push({
      text: BUCKET_UPSERT,
      values: [
        part.map((d) => d.granularity),
        part.map((d) => d.bucketStart),
        part.map((d) => d.metric),
        part.map((d) => d.dimension),
        part.map((d) => valueRuleOf(d.metric)),
        part.map((d) => d.num),
        part.map((d) => d.den),
      ],
    });
  }
  for (const part of chunks(gauges as AdditiveDelta[], maxRows)) {
    out.push({
      text: GAUGE_UPSERT,
      values: [
        part.map((d) => d.metric),
        part.map((d) => d.dimension),
        part.map((d) => valueRuleOf(d.metric)),
        part.map((d) => d.num),
        part.map((d) => d.den),
      ],
    });
  }
  return out;
}

/**
 * Deletes the rows the upserts left empty (a KPI row exists only while some source row contributes
 * to it) and records their keys for the KPI mirror (kpi_mirror_tombstone). Runs after all upserts,
 * so it deletes only rows this transaction already holds, in the upserts' order; the zero test is
 * repeated so the statement is right on its own.
 */
export function emptiedCleanupSql(rows: readonly EmptiedRow[]): SqlStatement[] {
  const buckets = rows.filter((r) => r.target === 'bucket');
  const gauges = rows.filter((r) => r.target === 'gauge');
  const out: SqlStatement[] = [];
  if (buckets.length > 0)
    out.push({
      text: BUCKET_CLEANUP,
      values: [
        buckets.map((r) => r.bucket_granularity),
        buckets.map((r) => r.bucket_start),
        buckets.map((r) => r.metric_name),
        buckets.map((r) => r.dimension),
      ],
    });
  if (gauges.length > 0)
    out.push({
      text: GAUGE_CLEANUP,
      values: [gauges.map((r) => r.metric_name), gauges.map((r) => r.dimension)],
    });
  return out;
}

// ---------------------------------------------------------------------------------------------
// metric_member (exact distinct counts)

const MEMBER_UPSERT = `WITH input AS (
  SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
    WITH ORDINALITY AS i(bucket_granularity, bucket_start, metric_name, dimension, member, part, delta, ord)
), upserted AS (
  INSERT INTO mart.metric_member AS m (bucket_granularity, bucket_start, metric_name, dimension, member, part, ref_count)
  SELECT bucket_granularity, bucket_start, metric_name, dimension, member, part, delta FROM input ORDER BY ord
  ON CONFLICT (bucket_granularity, bucket_start, metric_name, dimension, member) DO UPDATE
  SET ref_count = m.ref_count + EXCLUDED.ref_count, updated_at = now()
  RETURNING m.bucket_granularity, m.bucket_start, m.metric_name, m.dimension, m.member, m.part, m.ref_count
)
SELECT u.bucket_granularity,
       to_char(u.bucket_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS bucket_start,
       u.metric_name, u.dimension, u.part,
       sum(CASE WHEN u.ref_count > 0 AND u.ref_count - i.delta <= 0 THEN 1
                WHEN u.ref_count <= 0 AND u.ref_count - i.delta > 0 THEN -1
                ELSE 0 END)::bigint AS change
FROM upserted u
JOIN input i USING (bucket_granularity, bucket_start, metric_name, dimension, member)
GROUP BY u.bucket_granularity, u.bucket_start, u.metric_name, u.dimension, u.part
HAVING sum(CASE WHEN u.ref_count > 0 AND u.ref_count - i.delta <= 0 THEN 1
                WHEN u.ref_count <= 0 AND u.ref_count - i.delta > 0 THEN -1
                ELSE 0 END) <> 0`;

// One index lookup per key (LATERAL … LIMIT 1 is not flattened into a join), then a TID scan.
// Written as a join, the planner hashes the batch's keys against a sequential scan of the whole
// table once the keys number thousands: 1.6 s instead of 0.07 s for 5,000 keys over 1M members.
const MEMBER_CLEANUP = `DELETE FROM mart.metric_member m WHERE m.ctid = ANY (ARRAY(
  SELECT x.ctid
  FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[]) AS k(bucket_granularity, bucket_start, metric_name, dimension, member)
  CROSS JOIN LATERAL (
    SELECT m2.ctid FROM mart.metric_member m2
    WHERE m2.bucket_granularity = k.bucket_granularity AND m2.bucket_start = k.bucket_start
      AND m2.metric_name = k.metric_name AND m2.dimension = k.dimension AND m2.member = k.member
      AND m2.ref_count = 0
    LIMIT 1) x))`;

/** A row returned by the member upsert: the change of one bucket's distinct count. */
export interface MemberTransitionRow {
  bucket_granularity: string;
  bucket_start: string;
  metric_name: string;
  dimension: string;
  part: string;
  change: string | number;
}

/**
 * Member reference upserts. Every statement of kind 'upsert' returns MemberTransitionRow[]; run
 * them all (in order), collect their rows, then run the 'cleanup' statements.
 */
export function memberStatements(
  members: readonly MemberDelta[],
  maxRows = DEFAULT_MAX_ROWS,
): { upserts: SqlStatement[]; cleanups: SqlStatement[] } {
  const { members: sorted } = splitDeltas(mergeDeltas(members));
  const upserts: SqlStatement[] = [];
  const cleanups: SqlStatement[] = [];
  for (const part of chunks(sorted, maxRows)) {
    const cols = [
      part.map((d) => d.granularity),
      part.map((d) => d.bucketStart),
      part.map((d) => d.metric),
      part.map((d) => d.dimension),
      part.map((d) => d.member),
    ];
    upserts.push({ text: MEMBER_UPSERT, values: [...cols, part.map((d) => d.part), part.map((d) => d.ref)] });
    cleanups.push({ text: MEMBER_CLEANUP, values: cols });
  }
  return { upserts, cleanups };
}

/** Distinct-count transitions → additive deltas on the side (numerator/denominator) the members feed. */
export function transitionsToDeltas(rows: readonly MemberTransitionRow[]): AdditiveDelta[] {
  return rows.map((r) => {
    const def = metricDef(r.metric_name);
    const part = r.part as MetricPart;
    if (distinctPartOf(def) !== part)
      throw new Error(`member rows of ${r.metric_name} feed ${distinctPartOf(def)}, not ${r.part}`);
    if (r.bucket_granularity !== 'MINUTE' && r.bucket_granularity !== 'HOUR')
      throw new Error(`bad granularity ${r.bucket_granularity}`);
    const change = String(r.change);
    return {
      kind: 'add',
      metric: r.metric_name,
      granularity: r.bucket_granularity,
      bucketStart: new Date(r.bucket_start).toISOString(),
      dimension: r.dimension,
      num: part === 'numerator' ? change : '0',
      den: part === 'denominator' ? change : '0',
    };
  });
}

/**
 * The whole metric write of a batch, as a plan in phases (each depends on what the previous
 * returned; mart-writes.ts writeMetricDeltas runs it):
 *
 *   const plan = planMetricWrite(deltas);
 *   const transitions = [], emptied = [];
 *   for (const s of plan.memberUpserts) transitions.push(...(await tx.query(s)).rows);
 *   for (const s of plan.afterMembers(transitions)) emptied.push(...(await tx.query(s)).rows);
 *   for (const s of emptiedCleanupSql(emptied)) await tx.query(s);
 */
export function planMetricWrite(
  deltas: readonly Delta[],
  maxRows = DEFAULT_MAX_ROWS,
): {
  memberUpserts: SqlStatement[];
  afterMembers: (transitions: readonly MemberTransitionRow[]) => SqlStatement[];
} {
  const merged = mergeDeltas(deltas);
  const { buckets, gauges, members } = splitDeltas(merged);
  const { upserts, cleanups } = memberStatements(members, maxRows);
  return {
    memberUpserts: upserts,
    afterMembers: (transitions) => [
      ...cleanups,
      ...additiveStatements([...buckets, ...gauges, ...transitionsToDeltas(transitions)], maxRows),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// mart.metric_definition

/** Upserts the catalog into mart.metric_definition and removes KPIs no longer defined. */
export function catalogSyncStatements(catalog: readonly MetricDef[] = CATALOG): SqlStatement[] {
  const rows = catalog.map((m) => ({
    metric_name: m.name,
    metric_group: m.group,
    unit: m.unit,
    kind: m.kind,
    value_rule: m.valueRule,
    event_time_key: m.parts.some((p) => p.time !== null)
      ? [...new Set(m.parts.map((p) => `${p.source}.${p.time}`))].join(', ')
      : null,
    granularities: [...m.granularities],
    dimensions: [...new Set(m.parts.flatMap((p) => p.dimensions.map((d) => d.name)))],
    distinct_part: distinctPartOf(m),
    description: m.description,
    truth_sql: truthSql(m),
  }));
  return [
    {
      text: `INSERT INTO mart.metric_definition AS d
  (metric_name, metric_group, unit, kind, value_rule, event_time_key, granularities, dimensions, distinct_part, description, truth_sql)
SELECT x.metric_name, x.metric_group, x.unit, x.kind, x.value_rule, x.event_time_key, x.granularities, x.dimensions, x.distinct_part, x.description, x.truth_sql
FROM jsonb_to_recordset($1::jsonb) AS x(metric_name text, metric_group text, unit text, kind text, value_rule text,
  event_time_key text, granularities text[], dimensions text[], distinct_part text, description text, truth_sql text)
ORDER BY x.metric_name
ON CONFLICT (metric_name) DO UPDATE
SET metric_group = EXCLUDED.metric_group, unit = EXCLUDED.unit, kind = EXCLUDED.kind, value_rule = EXCLUDED.value_rule,
    event_time_key = EXCLUDED.event_time_key, granularities = EXCLUDED.granularities, dimensions = EXCLUDED.dimensions,
    distinct_part = EXCLUDED.distinct_part, description = EXCLUDED.description, truth_sql = EXCLUDED.truth_sql,
    updated_at = now()
WHERE (d.metric_group, d.unit, d.kind, d.value_rule, d.event_time_key, d.granularities, d.dimensions, d.distinct_part, d.description, d.truth_sql)
  IS DISTINCT FROM (EXCLUDED.metric_group, EXCLUDED.unit, EXCLUDED.kind, EXCLUDED.value_rule, EXCLUDED.event_time_key,
                    EXCLUDED.granularities, EXCLUDED.dimensions, EXCLUDED.distinct_part, EXCLUDED.description, EXCLUDED.truth_sql)`,
      values: [JSON.stringify(rows)],
    },
    {
      text: 'DELETE FROM mart.metric_definition WHERE NOT (metric_name = ANY($1::text[]))',
      values: [catalog.map((m) => m.name)],
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// reading back

/** Every KPI row of the mart, in the shape of the catalog's truth SQL (project/metrics/truth-sql.ts). */
export const MART_METRIC_ROWS_SQL = `SELECT metric_name, bucket_granularity, bucket_start, dimension, numerator, denominator, metric_value
FROM mart.fact_metric_bucket
UNION ALL
SELECT metric_name, 'CURRENT', NULL, dimension, numerator, denominator, metric_value
FROM mart.metric_gauge`;

/** The latest value (dimension 'all') of the given KPIs, from the mart's snapshot view. */
export function latestKpisSql(names: readonly string[]): SqlStatement {
  return {
    text: `SELECT metric_name, metric_value::text FROM mart.latest_metric_snapshot WHERE dimension = 'all' AND metric_name = ANY($1)`,
    values: [names],
  };
}
