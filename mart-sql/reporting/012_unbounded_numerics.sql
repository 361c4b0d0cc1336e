-- The mart stores the source's amounts, distances and multipliers as unbounded `numeric`, not with
-- the source's precision and scale: a source column widened later (`final_fare numeric(12,2) →
-- numeric(16,2)`, or `distance_km numeric(8,3) → numeric(12,4)`) then still fits, exactly, with no
-- mart migration and no replay. With bounded columns a widened value overflowed (SQLSTATE 22003)
-- or was rounded, and the mart differed from the source.
--
-- Views over these columns block ALTER ... TYPE, so the two that read them are dropped and
-- re-created here (same definitions as 002_views.sql), with their grant.

DROP VIEW IF EXISTS mart.recent_bookings;
DROP VIEW IF EXISTS mart.driver_leaderboard;

ALTER TABLE mart.fact_booking
  ALTER COLUMN estimated_fare   TYPE numeric,
  ALTER COLUMN final_fare       TYPE numeric,
  ALTER COLUMN distance_km      TYPE numeric,
  ALTER COLUMN surge_multiplier TYPE numeric,
  ALTER COLUMN paid_amount      TYPE numeric,
  ALTER COLUMN platform_fee     TYPE numeric,
  ALTER COLUMN driver_earnings  TYPE numeric;

ALTER TABLE mart.payment_state
  ALTER COLUMN amount          TYPE numeric,
  ALTER COLUMN platform_fee    TYPE numeric,
  ALTER COLUMN driver_earnings TYPE numeric;

CREATE VIEW mart.driver_leaderboard AS
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

CREATE VIEW mart.recent_bookings AS
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

GRANT SELECT ON mart.driver_leaderboard, mart.recent_bookings TO reporting_reader;
GRANT SELECT ON mart.driver_leaderboard, mart.recent_bookings TO ride_cdc_worker;
