-- Read side of the mart: the KPI snapshot and the analyst views. Views only (CREATE OR REPLACE),
-- so they are always consistent with the tables the worker maintains and cost nothing to write.

-- ---------------------------------------------------------------------------------------------
-- mart.latest_metric_snapshot: one row per (metric_name, dimension).
--   window_kind 'CURRENT'      gauges: the current value (mart.metric_gauge), window_* NULL.
--   window_kind 'TRAILING_60M' flows: the last 60 UTC minute buckets including the current one,
--                              [window_start, window_end) with window_end = start of next minute.
--                              Sums of exact numerators/denominators; distinct counts are
--                              recounted over the window from mart.metric_member (a passenger
--                              active in two minutes counts once). Rows exist only for
--                              (metric, dimension) pairs with data in the window.
-- Computed on read, so it is exact at any moment and needs no refresh job.

CREATE OR REPLACE VIEW mart.latest_metric_snapshot AS
WITH w AS (
  SELECT (date_trunc('minute', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') + interval '1 minute' - interval '60 minutes' AS window_start,
         (date_trunc('minute', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') + interval '1 minute' AS window_end
), flows AS (
  SELECT f.metric_name, f.dimension, max(f.value_rule) AS value_rule,
         sum(f.numerator) AS numerator, sum(f.denominator) AS denominator, max(f.updated_at) AS last_updated
  FROM mart.fact_metric_bucket f CROSS JOIN w
  WHERE f.bucket_granularity = 'MINUTE' AND f.bucket_start >= w.window_start AND f.bucket_start < w.window_end
  GROUP BY f.metric_name, f.dimension
), members AS (
  SELECT m.metric_name, m.dimension, max(m.part) AS part, count(DISTINCT m.member)::numeric AS distinct_count
  FROM mart.metric_member m CROSS JOIN w
  WHERE m.bucket_granularity = 'MINUTE' AND m.bucket_start >= w.window_start AND m.bucket_start < w.window_end
    AND m.ref_count > 0
  GROUP BY m.metric_name, m.dimension
), combined AS (
  SELECT fl.metric_name, fl.dimension, fl.value_rule, fl.last_updated,
         CASE WHEN mb.part = 'numerator' THEN mb.distinct_count ELSE fl.numerator END AS numerator,
         CASE WHEN mb.part = 'denominator' THEN mb.distinct_count ELSE fl.denominator END AS denominator
  FROM flows fl LEFT JOIN members mb USING (metric_name, dimension)
)
SELECT c.metric_name, c.dimension, 'TRAILING_60M'::text AS window_kind, w.window_start, w.window_end,
       c.numerator, c.denominator,
       CASE WHEN c.value_rule = 'ratio' THEN round(c.numerator / NULLIF(c.denominator, 0), 6) ELSE c.numerator END AS metric_value,
       c.last_updated
FROM combined c CROSS JOIN w
UNION ALL
SELECT g.metric_name, g.dimension, 'CURRENT'::text, NULL::timestamptz, NULL::timestamptz,
       g.numerator, g.denominator, g.metric_value, g.updated_at
FROM mart.metric_gauge g;
COMMENT ON VIEW mart.latest_metric_snapshot IS 'Current value of every KPI per dimension: gauges as of now (window_kind CURRENT), flows over the trailing 60 UTC minutes [window_start, window_end) (window_kind TRAILING_60M). See docs/kpis.md.';

-- ---------------------------------------------------------------------------------------------
-- mart.daily_summary: one row per UTC day, rolled up from the HOUR buckets of the KPIs
-- (dimension 'all'), so each figure keeps its KPI's event-time key (requested by requested_at,
-- gmv by completed_at, revenue by paid_at...). Daily distinct counts come from the hourly member
-- sets, not from summing hourly counts.

CREATE OR REPLACE VIEW mart.daily_summary AS
WITH hourly AS (
  SELECT (f.bucket_start AT TIME ZONE 'UTC')::date AS day, f.metric_name,
         sum(f.numerator) AS num, sum(f.denominator) AS den
  FROM mart.fact_metric_bucket f
  WHERE f.bucket_granularity = 'HOUR' AND f.dimension = 'all'
  GROUP BY 1, 2
), members AS (
  SELECT (m.bucket_start AT TIME ZONE 'UTC')::date AS day, m.metric_name, count(DISTINCT m.member) AS n
  FROM mart.metric_member m
  WHERE m.bucket_granularity = 'HOUR' AND m.dimension = 'all' AND m.ref_count > 0
    AND m.metric_name IN ('active_passengers', 'active_drivers')
  GROUP BY 1, 2
), days AS (
  SELECT day FROM hourly UNION SELECT day FROM members
)
SELECT d.day,
  coalesce(sum(h.num) FILTER (WHERE h.metric_name = 'bookings_requested'), 0) AS bookings_requested,
  coalesce(sum(h.num) FILTER (WHERE h.metric_name = 'bookings_accepted'), 0) AS bookings_accepted,
  coalesce(sum(h.num) FILTER (WHERE h.metric_name = 'bookings_completed'), 0) AS bookings_completed,
  coalesce(sum(h.num) FILTER (WHERE h.metric_name = 'bookings_cancelled'), 0) AS bookings_cancelled,
  round(sum(h.num) FILTER (WHERE h.metric_name = 'match_rate') / NULLIF(sum(h.den) FILTER (WHERE h.metric_name = 'match_rate'), 0), 6) AS match_rate,
  round(sum(h.num) FILTER (WHERE h.metric_name = 'completion_rate') / NULLIF(sum(h.den) FILTER (WHERE h.metric_name = 'completion_rate'), 0), 6) AS completion_rate,
  round(sum(h.num) FILTER (WHERE h.metric_name = 'cancellation_rate') / NULLIF(sum(h.den) FILTER (WHERE h.metric_name = 'cancellation_rate'), 0), 6) AS cancellation_rate,
  coalesce(sum(h.num) FILTER (WHERE h.metric_name = 'gmv'), 0) AS gmv,
  round(sum(h.num) FILTER (WHERE h.metric_name = 'avg_fare') / NULLIF(sum(h.den) FILTER (WHERE h.metric_name = 'avg_fare'), 0), 2) AS avg_fare,
  round(sum(h.num) FILTER (WHERE h.metric_name = 'avg_trip_duration_s') / NULLIF(sum(h.den) FILTER (WHERE h.metric_name = 'avg_trip_duration_s'), 0), 1) AS avg_trip_duration_s,
  round(sum(h.num) FILTER (WHERE h.metric_name = 'avg_time_to_accept_s') / NULLIF(sum(h.den) FILTER (WHERE h.metric_name = 'avg_time_to_accept_s'), 0), 1) AS avg_time_to_accept_s,
  coalesce(sum(h.num) FILTER (WHERE h.metric_name = 'payment_volume'), 0) AS payment_volume,
  coalesce(sum(h.num) FILTER (WHERE h.metric_name = 'platform_revenue'), 0) AS platform_revenue,
  coalesce(sum(h.num) FILTER (WHERE h.metric_name = 'driver_earnings'), 0) AS driver_earnings,
  coalesce(sum(h.num) FILTER (WHERE h.metric_name = 'refunded_amount'), 0) AS refunded_amount,
  coalesce((SELECT mb.n FROM members mb WHERE mb.day = d.day AND mb.metric_name = 'active_passengers'), 0) AS active_passengers,
  coalesce((SELECT mb.n FROM members mb WHERE mb.day = d.day AND mb.metric_name = 'active_drivers'), 0) AS active_drivers,
  coalesce(sum(h.num) FILTER (WHERE h.metric_name = 'new_passengers'), 0) AS new_passengers,
  coalesce(sum(h.num) FILTER (WHERE h.metric_name = 'new_drivers'), 0) AS new_drivers,
  round(sum(h.num) FILTER (WHERE h.metric_name = 'avg_driver_rating') / NULLIF(sum(h.den) FILTER (WHERE h.metric_name = 'avg_driver_rating'), 0), 3) AS avg_driver_rating
FROM days d LEFT JOIN hourly h ON h.day = d.day
GROUP BY d.day;
COMMENT ON VIEW mart.daily_summary IS 'One row per UTC day: headline KPIs rolled up exactly from the hourly buckets (each by its own event-time key) and daily distinct actives from the member sets.';

-- ---------------------------------------------------------------------------------------------
-- mart.zone_performance: one row per (UTC day, pickup zone), from the HOUR buckets of the
-- booking KPIs under dimension zone:<id>.

CREATE OR REPLACE VIEW mart.zone_performance AS
WITH hourly AS (
  SELECT (f.bucket_start AT TIME ZONE 'UTC')::date AS day,
         substr(f.dimension, 6)::integer AS zone_id, f.metric_name,
         sum(f.numerator) AS num, sum(f.denominator) AS den
  FROM mart.fact_metric_bucket f
  WHERE f.bucket_granularity = 'HOUR' AND f.dimension LIKE 'zone:%'
    AND f.metric_name IN ('bookings_requested', 'bookings_completed', 'bookings_cancelled', 'match_rate',
                          'completion_rate', 'cancellation_rate', 'gmv', 'avg_time_to_accept_s',
                          'avg_pickup_wait_s', 'surge_share', 'avg_surge_multiplier')
  GROUP BY 1, 2, 3
)
SELECT h.day, h.zone_id, z.code AS zone_code, z.name AS zone_name,
  coalesce(sum(h.num) FILTER (WHERE h.metric_name = 'bookings_requested'), 0) AS bookings_requested,
  coalesce(sum(h.num) FILTER (WHERE h.metric_name = 'bookings_completed'), 0) AS bookings_completed,
  coalesce(sum(h.num) FILTER (WHERE h.metric_name = 'bookings_cancelled'), 0) AS bookings_cancelled,
  round(sum(h.num) FILTER (WHERE h.metric_name = 'match_rate') / NULLIF(sum(h.den) FILTER (WHERE h.metric_name = 'match_rate'), 0), 6) AS match_rate,
  round(sum(h.num) FILTER (WHERE h.metric_name = 'completion_rate') / NULLIF(sum(h.den) FILTER (WHERE h.metric_name = 'completion_rate'), 0), 6) AS completion_rate,
  round(sum(h.num) FILTER (WHERE h.metric_name = 'cancellation_rate') / NULLIF(sum(h.den) FILTER (WHERE h.metric_name = 'cancellation_rate'), 0), 6) AS cancellation_rate,
  coalesce(sum(h.num) FILTER (WHERE h.metric_name = 'gmv'), 0) AS gmv,
  round(sum(h.num) FILTER (WHERE h.metric_name = 'gmv') / NULLIF(sum(h.den) FILTER (WHERE h.metric_name = 'gmv'), 0), 2) AS avg_fare,
  round(sum(h.num) FILTER (WHERE h.metric_name = 'avg_time_to_accept_s') / NULLIF(sum(h.den) FILTER (WHERE h.metric_name = 'avg_time_to_accept_s'), 0), 1) AS avg_time_to_accept_s,
  round(sum(h.num) FILTER (WHERE h.metric_name = 'avg_pickup_wait_s') / NULLIF(sum(h.den) FILTER (WHERE h.metric_name = 'avg_pickup_wait_s'), 0), 1) AS avg_pickup_wait_s,
  round(sum(h.num) FILTER (WHERE h.metric_name = 'surge_share') / NULLIF(sum(h.den) FILTER (WHERE h.metric_name = 'surge_share'), 0), 6) AS surge_share,
  round(sum(h.num) FILTER (WHERE h.metric_name = 'avg_surge_multiplier') / NULLIF(sum(h.den) FILTER (WHERE h.metric_name = 'avg_surge_multiplier'), 0), 3) AS avg_surge_multiplier
FROM hourly h LEFT JOIN mart.dim_zone z ON z.zone_id = h.zone_id
GROUP BY h.day, h.zone_id, z.code, z.name;
COMMENT ON VIEW mart.zone_performance IS 'Per UTC day and pickup zone: demand, outcomes, GMV, wait times and surge, rolled up from the hourly zone:<id> buckets. Current supply/demand per zone: mart.latest_metric_snapshot (drivers_available, open_requests, demand_supply_ratio).';

-- ---------------------------------------------------------------------------------------------
-- mart.driver_leaderboard: all-time per driver, from the booking facts, payments and ratings.

CREATE OR REPLACE VIEW mart.driver_leaderboard AS
WITH trips AS (
  SELECT b.driver_id,
         count(*) FILTER (WHERE b.accepted_at IS NOT NULL) AS trips_accepted,
         count(*) FILTER (WHERE b.completed_at IS NOT NULL) AS trips_completed,
         count(*) FILTER (WHERE b.cancelled_by = 'driver') AS cancelled_by_driver,
         coalesce(sum(b.final_fare) FILTER (WHERE b.completed_at IS NOT NULL), 0) AS gmv,
         coalesce(sum(b.driver_earnings) FILTER (WHERE b.payment_status = 'paid'), 0) AS earnings,
         coalesce(sum(b.distance_km) FILTER (WHERE b.completed_at IS NOT NULL), 0) AS distance_km,
         max(b.completed_at) AS last_completed_at
  FROM mart.fact_booking b
  WHERE b.booking_present AND b.driver_id IS NOT NULL
  GROUP BY b.driver_id
), rated AS (
  SELECT r.ratee_id AS driver_id, count(*) AS ratings, round(avg(r.score), 3) AS avg_rating
  FROM mart.rating_state r
  WHERE r.rater_type = 'passenger'
  GROUP BY r.ratee_id
)
SELECT rank() OVER (ORDER BY t.trips_completed DESC, t.gmv DESC) AS rank,
       t.driver_id, d.vehicle_type, d.status AS current_status, d.home_zone_id, z.name AS home_zone_name,
       t.trips_completed, t.trips_accepted, t.cancelled_by_driver,
       round(t.cancelled_by_driver::numeric / NULLIF(t.trips_accepted, 0), 6) AS driver_cancel_rate,
       t.gmv, t.earnings, t.distance_km, r.avg_rating, coalesce(r.ratings, 0) AS ratings,
       t.last_completed_at
FROM trips t
LEFT JOIN rated r ON r.driver_id = t.driver_id
LEFT JOIN mart.driver_state d ON d.driver_id = t.driver_id
LEFT JOIN mart.dim_zone z ON z.zone_id = d.home_zone_id;
COMMENT ON VIEW mart.driver_leaderboard IS 'All-time per driver: completed trips (rank), GMV, paid earnings, driver cancellations, distance and average rating received from passengers.';

-- ---------------------------------------------------------------------------------------------
-- mart.recent_bookings: bookings requested in the last 24 hours, newest first.

CREATE OR REPLACE VIEW mart.recent_bookings AS
SELECT b.booking_id, b.booking_uuid, b.status, b.vehicle_type,
       b.passenger_id, b.driver_id,
       b.pickup_zone_id, pz.name AS pickup_zone_name, b.dropoff_zone_id, dz.name AS dropoff_zone_name,
       b.requested_at, b.accepted_at, b.arrived_at, b.started_at, b.completed_at, b.cancelled_at,
       b.cancelled_by, b.cancel_reason,
       EXTRACT(EPOCH FROM b.accepted_at) - EXTRACT(EPOCH FROM b.requested_at) AS time_to_accept_s,
       EXTRACT(EPOCH FROM b.arrived_at) - EXTRACT(EPOCH FROM b.accepted_at) AS pickup_wait_s,
       EXTRACT(EPOCH FROM b.completed_at) - EXTRACT(EPOCH FROM b.started_at) AS trip_duration_s,
       b.estimated_fare, b.final_fare, b.distance_km, b.surge_multiplier, b.payment_method,
       b.payment_status, b.paid_amount, b.paid_at, b.updated_at
FROM mart.fact_booking b
LEFT JOIN mart.dim_zone pz ON pz.zone_id = b.pickup_zone_id
LEFT JOIN mart.dim_zone dz ON dz.zone_id = b.dropoff_zone_id
WHERE b.booking_present AND b.requested_at >= now() - interval '24 hours'
ORDER BY b.requested_at DESC;
COMMENT ON VIEW mart.recent_bookings IS 'Bookings requested in the last 24 hours (newest first) with zone names, step durations and payment.';
