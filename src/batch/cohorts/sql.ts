/**
 * The one definition of the daily batch views, as SQL over a set of booking rows. The batch runs
 * it over the mart's per-row state (mart.fact_booking, in reporting_db, so it never touches the
 * source); the truth is the very same SQL over public.bookings in ride_hailing_db. Both sides have
 * the columns used here with the same meaning (status is an enum in the source, text in the mart;
 * the comparison with a literal works for both).
 *
 * Parameters of every query (named once in the `p` CTE):
 *   $1 tz: business time zone         $2 cohort_from: first cohort day    $3 day_from: first day
 *   $4 day_until: end of the range (exclusive, cohort days and days)    $5 today: the open day
 *   $6 churn_days: N
 * Only closed business days are reported (every day used is < today), so no row is a forecast.
 */

/** Bookings as the mart keeps them (rows of deleted bookings are flagged, not counted). */
export const MART_BOOKINGS = '(SELECT * FROM mart.fact_booking WHERE booking_present)';
/** Bookings in ride_hailing_db. */
export const SOURCE_BOOKINGS = 'public.bookings';

const PARAMS = `p AS (SELECT $1::text AS tz, $2::date AS cohort_from, $3::date AS day_from, $4::date AS day_until,
  $5::date AS today, $6::int AS churn_days)`;

/** (kind, member, business day) of every completed trip: riders by passenger, drivers by driver. */
function tripDays(bookings: string): string {
  return `trip_days AS (
  SELECT DISTINCT x.kind, x.member, (b.completed_at AT TIME ZONE p.tz)::date AS day
    FROM ${bookings} AS b CROSS JOIN p
    CROSS JOIN LATERAL (VALUES ('rider'::text, b.passenger_id), ('driver'::text, b.driver_id)) AS x(kind, member)
   WHERE b.status = 'completed' AND b.completed_at IS NOT NULL AND x.member IS NOT NULL
)`;
}

export const RETENTION_OFFSETS = [1, 3, 7] as const;

/**
 * cohort_retention: members whose first completed trip fell on cohort_day, and how many of them
 * completed a trip again exactly day_offset business days later (t+1, t+3, t+7). A row appears once
 * cohort_day + day_offset has closed.
 */
export function cohortRetentionSql(bookings: string): string {
  return `WITH ${PARAMS}, ${tripDays(bookings)},
first_day AS (SELECT kind, member, min(day) AS cohort_day FROM trip_days GROUP BY kind, member),
offsets(day_offset) AS (VALUES ${RETENTION_OFFSETS.map((k) => `(${k})`).join(', ')})
SELECT f.kind AS cohort_kind, f.cohort_day, o.day_offset,
       count(*)::int AS cohort_size, count(t.member)::int AS retained,
       round(count(t.member)::numeric / count(*), 6) AS retention_rate
  FROM first_day f CROSS JOIN offsets o CROSS JOIN p
  LEFT JOIN trip_days t ON t.kind = f.kind AND t.member = f.member AND t.day = f.cohort_day + o.day_offset
 WHERE f.cohort_day >= p.cohort_from AND f.cohort_day < p.day_until AND f.cohort_day + o.day_offset < p.today
 GROUP BY f.kind, f.cohort_day, o.day_offset`;
}

/**
 * churn_daily: per business day, members who churned that day (their last trip was N days before
 * and no trip followed within N days) and members who returned that day (a trip after more than
 * N days without one). One row per (kind, day) where either is non-zero.
 */
export function churnSql(bookings: string): string {
  return `WITH ${PARAMS}, ${tripDays(bookings)},
seq AS (
  SELECT kind, member, day,
         lag(day) OVER (PARTITION BY kind, member ORDER BY day) AS prev_day,
         lead(day) OVER (PARTITION BY kind, member ORDER BY day) AS next_day
    FROM trip_days
),
churned AS (
  SELECT kind, day + p.churn_days AS business_day, count(*)::int AS n FROM seq CROSS JOIN p
   WHERE next_day IS NULL OR next_day > day + p.churn_days GROUP BY 1, 2
),
returned AS (
  SELECT kind, day AS business_day, count(*)::int AS n FROM seq CROSS JOIN p
   WHERE prev_day IS NOT NULL AND day - prev_day > p.churn_days GROUP BY 1, 2
)
SELECT kind AS cohort_kind, business_day, p.churn_days, COALESCE(c.n, 0) AS churned, COALESCE(r.n, 0) AS returned
  FROM churned c FULL JOIN returned r USING (kind, business_day) CROSS JOIN p
 WHERE business_day >= p.day_from AND business_day < p.day_until AND business_day < p.today`;
}

/** driver_productivity_daily: drivers with a completed trip that business day, and their trips. */
export function productivitySql(bookings: string): string {
  return `WITH ${PARAMS},
trips AS (
  SELECT (b.completed_at AT TIME ZONE p.tz)::date AS business_day, b.driver_id
    FROM ${bookings} AS b CROSS JOIN p
   WHERE b.status = 'completed' AND b.completed_at IS NOT NULL AND b.driver_id IS NOT NULL
)
SELECT business_day, count(DISTINCT driver_id)::int AS active_drivers, count(*)::int AS completed_trips,
       round(count(*)::numeric / count(DISTINCT driver_id), 6) AS trips_per_active_driver
  FROM trips CROSS JOIN p
 WHERE business_day >= p.day_from AND business_day < p.day_until AND business_day < p.today
 GROUP BY business_day`;
}
