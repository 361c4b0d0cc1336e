import type pg from 'pg';

/**
 * KPI truth written by hand from what each KPI MEANS (docs/kpis.md, "Catalog"), deliberately not
 * generated from src/project/metrics: the catalog's truth SQL and the worker's contributions share
 * one definition, so a wrong definition would pass mart-truth.ts. These queries use another
 * formulation (GROUPING SETS, interval arithmetic, FILTER) so they also do not share its bugs.
 *
 * The mart contract (docs/kpis.md §3): count → numerator = denominator = rows; sum → Σ amount over
 * the rows with an amount, denominator = those rows; avg → Σ value / rows with a value; ratio →
 * cohort rows meeting the condition / cohort rows; distinct → distinct members / their rows;
 * metric_value = numerator, or round(numerator / denominator, 6) for avg and ratio. UTC buckets of
 * the event-time key (an event time of ±infinity lies in no bucket); a NULL dimension value is
 * not reported under that family.
 */

export interface TruthRow {
  metric_name: string;
  bucket_granularity: string;
  /** epoch seconds as text; '' for gauges */
  bucket: string;
  dimension: string;
  numerator: string;
  denominator: string;
  metric_value: string | null;
}

const UNITS = [
  ['MINUTE', 'minute'],
  ['HOUR', 'hour'],
] as const;

/** `body(unit)` must select: bucket (timestamptz), dimension, numerator, denominator. */
function flow(metric: string, ratio: boolean, body: (unit: string) => string): string {
  const value = ratio ? 'round(numerator / NULLIF(denominator, 0), 6)' : 'numerator';
  return UNITS.map(
    ([gran, unit]) =>
      `SELECT '${metric}' AS metric_name, '${gran}' AS bucket_granularity, bucket, dimension, numerator, denominator, ${value} AS metric_value
         FROM (${body(unit)}) q`,
  ).join('\nUNION ALL\n');
}

/** UTC bucket of a timestamptz column. */
const b = (unit: string, col: string) =>
  `(date_trunc('${unit}', ${col} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`;

/** dimension from GROUPING SETS over (bucket), (bucket, zone), (bucket, vehicle). */
const zoneVehicleDim = (zone: string, vehicle: string) =>
  `CASE WHEN GROUPING(${zone}) = 0 THEN 'zone:' || ${zone} WHEN GROUPING(${vehicle}) = 0 THEN 'vehicle:' || ${vehicle} ELSE 'all' END`;
const zoneVehicleSets = (bucket: string, zone: string, vehicle: string) =>
  `GROUPING SETS ((${bucket}), (${bucket}, ${zone}), (${bucket}, ${vehicle}))`;

/** Bookings KPIs per (bucket of `tsCol`) with the all/zone/vehicle dimensions. */
function bookingsFlow(
  metric: string,
  ratio: boolean,
  tsCol: string,
  numerator: string,
  denominator: string,
  where: string,
): string {
  return flow(
    metric,
    ratio,
    (unit) =>
      `SELECT ${b(unit, tsCol)} AS bucket, ${zoneVehicleDim('pickup_zone_id', 'vehicle_type::text')} AS dimension,
              ${numerator}::numeric AS numerator, ${denominator}::numeric AS denominator
         FROM bookings WHERE isfinite(${tsCol}) AND (${where})
        GROUP BY ${zoneVehicleSets(b(unit, tsCol), 'pickup_zone_id', 'vehicle_type::text')}`,
  );
}

/** Paid or refunded payments per bucket of paid_at, dimensions all and method. */
function paymentsFlow(metric: string, ratio: boolean, numerator: string, where: string): string {
  return flow(
    metric,
    ratio,
    (unit) =>
      `SELECT ${b(unit, 'paid_at')} AS bucket,
              CASE WHEN GROUPING(method) = 0 THEN 'method:' || method ELSE 'all' END AS dimension,
              ${numerator}::numeric AS numerator, count(*)::numeric AS denominator
         FROM payments WHERE isfinite(paid_at) AND (${where})
        GROUP BY GROUPING SETS ((${b(unit, 'paid_at')}), (${b(unit, 'paid_at')}, method))`,
  );
}

const secondsBetween = (later: string, earlier: string) => `EXTRACT(EPOCH FROM (${later} - ${earlier}))`;

/** The KPIs checked independently, by name: what each one means, as SQL over ride_hailing_db. */
export const INDEPENDENT_KPIS: Record<string, string> = {
  // A booking is requested when it has a requested_at; each booking counts once in its minute/hour.
  bookings_requested: bookingsFlow(
    'bookings_requested',
    false,
    'requested_at',
    'count(*)',
    'count(*)',
    'true',
  ),
  // Completed = has a completed_at; bucketed when it completed.
  bookings_completed: bookingsFlow(
    'bookings_completed',
    false,
    'completed_at',
    'count(*)',
    'count(*)',
    'true',
  ),
  // Cancelled = has a cancelled_at; also reported per actor who cancelled (when known).
  bookings_cancelled: `${bookingsFlow('bookings_cancelled', false, 'cancelled_at', 'count(*)', 'count(*)', 'true')}
    UNION ALL
    ${flow(
      'bookings_cancelled',
      false,
      (unit) =>
        `SELECT ${b(unit, 'cancelled_at')} AS bucket, 'cancelled_by:' || cancelled_by AS dimension,
                count(*)::numeric AS numerator, count(*)::numeric AS denominator
           FROM bookings WHERE isfinite(cancelled_at) AND cancelled_by IS NOT NULL GROUP BY 1, 2`,
    )}`,
  // Money taken on completed trips: Σ final_fare, by completion time.
  gmv: bookingsFlow(
    'gmv',
    false,
    'completed_at',
    'sum(final_fare)',
    'count(final_fare)',
    'final_fare IS NOT NULL',
  ),
  avg_fare: bookingsFlow(
    'avg_fare',
    true,
    'completed_at',
    'sum(final_fare)',
    'count(final_fare)',
    'final_fare IS NOT NULL',
  ),
  // Trip length in exact seconds from pickup (started) to drop-off (completed).
  avg_trip_duration_s: bookingsFlow(
    'avg_trip_duration_s',
    true,
    'completed_at',
    `sum(${secondsBetween('completed_at', 'started_at')})`,
    'count(*)',
    'started_at IS NOT NULL',
  ),
  // Of the bookings requested in a bucket (the cohort): how many got a driver / finished / were cancelled.
  match_rate: bookingsFlow(
    'match_rate',
    true,
    'requested_at',
    'count(*) FILTER (WHERE accepted_at IS NOT NULL)',
    'count(*)',
    'true',
  ),
  completion_rate: bookingsFlow(
    'completion_rate',
    true,
    'requested_at',
    'count(*) FILTER (WHERE completed_at IS NOT NULL)',
    'count(*)',
    'true',
  ),
  cancellation_rate: bookingsFlow(
    'cancellation_rate',
    true,
    'requested_at',
    'count(*) FILTER (WHERE cancelled_at IS NOT NULL)',
    'count(*)',
    'true',
  ),
  // Distinct passengers who asked for a ride in the bucket; the denominator counts their bookings.
  active_passengers: flow(
    'active_passengers',
    false,
    (unit) =>
      `SELECT ${b(unit, 'requested_at')} AS bucket,
              CASE WHEN GROUPING(pickup_zone_id) = 0 THEN 'zone:' || pickup_zone_id ELSE 'all' END AS dimension,
              count(DISTINCT passenger_id)::numeric AS numerator, count(*)::numeric AS denominator
         FROM bookings WHERE isfinite(requested_at)
        GROUP BY GROUPING SETS ((${b(unit, 'requested_at')}), (${b(unit, 'requested_at')}, pickup_zone_id))`,
  ),
  // What drivers earned on paid payments, and the money that moved, by payment time.
  driver_earnings: paymentsFlow('driver_earnings', false, 'sum(driver_earnings)', "status = 'paid'"),
  payment_volume: paymentsFlow('payment_volume', false, 'sum(amount)', "status = 'paid'"),
  refunded_amount: paymentsFlow('refunded_amount', false, 'sum(amount)', "status = 'refunded'"),
  // Ratings given, in total and per side that gave them.
  ratings_submitted: flow(
    'ratings_submitted',
    false,
    (unit) =>
      `SELECT ${b(unit, 'rated_at')} AS bucket,
              CASE WHEN GROUPING(rater_type) = 0 THEN 'rater:' || rater_type ELSE 'all' END AS dimension,
              count(*)::numeric AS numerator, count(*)::numeric AS denominator
         FROM ratings WHERE isfinite(rated_at) GROUP BY GROUPING SETS ((${b(unit, 'rated_at')}), (${b(unit, 'rated_at')}, rater_type))`,
  ),
  // Stars passengers gave their drivers.
  avg_driver_rating: flow(
    'avg_driver_rating',
    true,
    (unit) =>
      `SELECT ${b(unit, 'rated_at')} AS bucket, 'all' AS dimension,
              sum(score)::numeric AS numerator, count(*)::numeric AS denominator
         FROM ratings WHERE isfinite(rated_at) AND rater_type = 'passenger' GROUP BY 1`,
  ),
  // Driver sign-ups, by home zone and vehicle.
  new_drivers: flow(
    'new_drivers',
    false,
    (unit) =>
      `SELECT ${b(unit, 'created_at')} AS bucket, ${zoneVehicleDim('home_zone_id', 'vehicle_type::text')} AS dimension,
              count(*)::numeric AS numerator, count(*)::numeric AS denominator
         FROM drivers WHERE isfinite(created_at)
        GROUP BY ${zoneVehicleSets(b(unit, 'created_at'), 'home_zone_id', 'vehicle_type::text')}`,
  ),
};

/** Current-state KPIs (mart.metric_gauge): drivers on the road, and requests nobody took yet. */
export const INDEPENDENT_GAUGES: Record<string, string> = {
  drivers_online: `SELECT 'drivers_online' AS metric_name, 'CURRENT' AS bucket_granularity, NULL::timestamptz AS bucket,
         ${zoneVehicleDim('home_zone_id', 'vehicle_type::text')} AS dimension, count(*)::numeric AS numerator,
         count(*)::numeric AS denominator, count(*)::numeric AS metric_value
    FROM drivers WHERE status IN ('available', 'busy')
   GROUP BY GROUPING SETS ((), (home_zone_id), (vehicle_type::text))`,
  open_requests: `SELECT 'open_requests' AS metric_name, 'CURRENT' AS bucket_granularity, NULL::timestamptz AS bucket,
         ${zoneVehicleDim('pickup_zone_id', 'vehicle_type::text')} AS dimension, count(*)::numeric AS numerator,
         count(*)::numeric AS denominator, count(*)::numeric AS metric_value
    FROM bookings WHERE status = 'requested'
   GROUP BY GROUPING SETS ((), (pickup_zone_id), (vehicle_type::text))`,
};

/** Same text form on both sides: trailing zeros trimmed, buckets as epoch seconds. */
const normalised = (inner: string) =>
  `SELECT metric_name, bucket_granularity, coalesce(EXTRACT(EPOCH FROM bucket)::text, '') AS bucket, dimension,
          trim_scale(numerator)::text AS numerator, trim_scale(denominator)::text AS denominator,
          trim_scale(metric_value)::text AS metric_value
     FROM (${inner}) t WHERE NOT (numerator = 0 AND denominator = 0)`;

export interface IndependentDiff {
  key: string;
  truth: string;
  mart: string;
}

/**
 * Every MINUTE/HOUR row of mart.fact_metric_bucket and CURRENT row of mart.metric_gauge for the
 * independent KPIs against the hand-written truth. Empty = exact.
 */
export async function diffIndependent(
  source: pg.Client,
  reporting: pg.Client,
): Promise<{ diffs: IndependentDiff[]; truthRows: number; kpis: number }> {
  const flows = Object.keys(INDEPENDENT_KPIS);
  const gauges = Object.keys(INDEPENDENT_GAUGES);
  const truthSql = normalised(
    [...Object.values(INDEPENDENT_KPIS), ...Object.values(INDEPENDENT_GAUGES)].join('\nUNION ALL\n'),
  );
  const martSql = normalised(
    `SELECT metric_name, bucket_granularity, bucket_start AS bucket, dimension, numerator, denominator, metric_value
       FROM mart.fact_metric_bucket WHERE metric_name = ANY($1)
     UNION ALL
     SELECT metric_name, 'CURRENT', NULL::timestamptz, dimension, numerator, denominator, metric_value
       FROM mart.metric_gauge WHERE metric_name = ANY($2)`,
  );
  const truth = (await source.query<TruthRow>(truthSql)).rows;
  const mart = (await reporting.query<TruthRow>(martSql, [flows, gauges])).rows;
  const key = (r: TruthRow) => `${r.metric_name} ${r.bucket_granularity} ${r.bucket} ${r.dimension}`;
  const val = (r: TruthRow | undefined) =>
    r ? `${r.numerator}/${r.denominator}=${r.metric_value}` : 'absent';
  const m = new Map(mart.map((r) => [key(r), r]));
  const t = new Map(truth.map((r) => [key(r), r]));
  const diffs: IndependentDiff[] = [];
  for (const [k, r] of t)
    if (val(r) !== val(m.get(k))) diffs.push({ key: k, truth: val(r), mart: val(m.get(k)) });
  for (const [k, r] of m) if (!t.has(k)) diffs.push({ key: k, truth: 'absent', mart: val(r) });
  return { diffs, truthRows: truth.length, kpis: flows.length + gauges.length };
}
