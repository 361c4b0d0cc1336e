-- reporting_db: the reporting mart maintained by the ride-cdc worker.
--
-- Invariant: after the pipeline drains, every KPI row here equals SQL over the CURRENT rows of
-- ride_hailing_db (src/project/metrics/truth-sql.ts; docs/kpis.md). The worker gets there with
-- exact deltas: it keeps the previously projected state of every source row (the *_state tables,
-- fact_booking for bookings), and for each change adds contributions(new) − contributions(old) to
-- the metric rows, in the same transaction as the state and the consumer offsets.
--
-- Idempotent (IF NOT EXISTS everywhere); applied in file-name order by the migration runner.

CREATE SCHEMA IF NOT EXISTS mart;
COMMENT ON SCHEMA mart IS 'Reporting mart fed by the ride-cdc worker from Debezium change events of ride_hailing_db. See docs/kpis.md.';

-- ---------------------------------------------------------------------------------------------
-- KPI catalog (synced from src/project/metrics/catalog.ts by the worker at start).

CREATE TABLE IF NOT EXISTS mart.metric_definition (
  metric_name    text PRIMARY KEY,
  metric_group   text NOT NULL CHECK (metric_group IN ('Passenger', 'Driver', 'Operation')),
  unit           text NOT NULL,
  kind           text NOT NULL CHECK (kind IN ('count', 'sum', 'avg', 'ratio', 'distinct', 'gauge')),
  value_rule     text NOT NULL CHECK (value_rule IN ('numerator', 'ratio')),
  event_time_key text,
  granularities  text[] NOT NULL,
  dimensions     text[] NOT NULL,
  distinct_part  text CHECK (distinct_part IN ('numerator', 'denominator')),
  description    text NOT NULL,
  truth_sql      text NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE mart.metric_definition IS 'The KPI catalog as data: one row per KPI, written from catalog.ts (the single definition) when the worker starts.';
COMMENT ON COLUMN mart.metric_definition.event_time_key IS 'table.column whose UTC minute/hour is the bucket; NULL for gauges (current state).';
COMMENT ON COLUMN mart.metric_definition.distinct_part IS 'Side of the ratio that is a distinct count kept exactly in mart.metric_member (NULL: both sides additive).';
COMMENT ON COLUMN mart.metric_definition.truth_sql IS 'SQL over ride_hailing_db that this KPI''s mart rows equal.';

-- ---------------------------------------------------------------------------------------------
-- KPI rows.

CREATE TABLE IF NOT EXISTS mart.fact_metric_bucket (
  bucket_granularity text NOT NULL CHECK (bucket_granularity IN ('MINUTE', 'HOUR')),
  bucket_start       timestamptz NOT NULL,
  metric_name        text NOT NULL,
  dimension          text NOT NULL,
  value_rule         text NOT NULL CHECK (value_rule IN ('numerator', 'ratio')),
  numerator          numeric NOT NULL DEFAULT 0,
  denominator        numeric NOT NULL DEFAULT 0,
  metric_value       numeric GENERATED ALWAYS AS (
                       CASE WHEN value_rule = 'ratio' THEN round(numerator / NULLIF(denominator, 0), 6) ELSE numerator END
                     ) STORED,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (bucket_granularity, bucket_start, metric_name, dimension),
  CONSTRAINT fact_metric_bucket_aligned CHECK (
    date_trunc(lower(bucket_granularity), bucket_start AT TIME ZONE 'UTC') = bucket_start AT TIME ZONE 'UTC'
  )
);
CREATE INDEX IF NOT EXISTS fact_metric_bucket_metric_idx
  ON mart.fact_metric_bucket (metric_name, dimension, bucket_granularity, bucket_start);
COMMENT ON TABLE mart.fact_metric_bucket IS 'Flow KPIs per UTC minute/hour bucket of their event-time key. Maintained by additive upserts (numerator += Δ, denominator += Δ), so any number of workers converge to the same totals; a row whose numerator and denominator both reach 0 is deleted.';
COMMENT ON COLUMN mart.fact_metric_bucket.bucket_start IS 'Start of the UTC minute or hour (aligned, see constraint).';
COMMENT ON COLUMN mart.fact_metric_bucket.dimension IS '''all'', or family:value — zone:<zone id>, vehicle:<vehicle_type>, cancelled_by:<actor>, method:<payment method>, rater:<rater_type>.';
COMMENT ON COLUMN mart.fact_metric_bucket.numerator IS 'Exact: count, sum, sum of the averaged quantity, rate numerator or distinct count.';
COMMENT ON COLUMN mart.fact_metric_bucket.denominator IS 'Exact: number of contributing source rows (count/sum/avg/distinct), rate denominator, or distinct count (ratios over distinct members).';
COMMENT ON COLUMN mart.fact_metric_bucket.metric_value IS 'numerator, or round(numerator / denominator, 6) for avg/ratio (NULL when the denominator is 0). Generated, never written.';

CREATE TABLE IF NOT EXISTS mart.metric_gauge (
  metric_name  text NOT NULL,
  dimension    text NOT NULL,
  value_rule   text NOT NULL CHECK (value_rule IN ('numerator', 'ratio')),
  numerator    numeric NOT NULL DEFAULT 0,
  denominator  numeric NOT NULL DEFAULT 0,
  metric_value numeric GENERATED ALWAYS AS (
                 CASE WHEN value_rule = 'ratio' THEN round(numerator / NULLIF(denominator, 0), 6) ELSE numerator END
               ) STORED,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (metric_name, dimension)
);
COMMENT ON TABLE mart.metric_gauge IS 'Gauge KPIs: functions of the current source rows with no time bucket (drivers_online, drivers_busy, driver_utilization, open_requests, ...). Same additive maintenance as fact_metric_bucket. Read through mart.latest_metric_snapshot.';

CREATE TABLE IF NOT EXISTS mart.metric_member (
  bucket_granularity text NOT NULL CHECK (bucket_granularity IN ('MINUTE', 'HOUR')),
  bucket_start       timestamptz NOT NULL,
  metric_name        text NOT NULL,
  dimension          text NOT NULL,
  member             text NOT NULL,
  part               text NOT NULL CHECK (part IN ('numerator', 'denominator')),
  ref_count          bigint NOT NULL,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (bucket_granularity, bucket_start, metric_name, dimension, member)
);
COMMENT ON TABLE mart.metric_member IS 'Exact member sets for distinct counts: one row per (bucket, metric, dimension, member) with the number of source rows referencing it. The member counts once while ref_count > 0; the 0↔positive transitions are what change the distinct count in fact_metric_bucket (numerator or denominator, see part).';
COMMENT ON COLUMN mart.metric_member.ref_count IS 'Number of current source rows that put this member in this bucket (e.g. bookings of one passenger requested in the minute). Rows at 0 are deleted.';

-- ---------------------------------------------------------------------------------------------
-- Source-row state: the previously projected image of every source row, read FOR UPDATE and
-- rewritten in the same transaction as the KPI deltas it produced.

CREATE TABLE IF NOT EXISTS mart.fact_booking (
  booking_id        bigint PRIMARY KEY,
  booking_present   boolean NOT NULL DEFAULT false,
  booking_uuid      uuid,
  passenger_id      bigint,
  driver_id         bigint,
  status            text,
  vehicle_type      text,
  pickup_lat        double precision,
  pickup_lon        double precision,
  pickup_zone_id    integer,
  dropoff_lat       double precision,
  dropoff_lon       double precision,
  dropoff_zone_id   integer,
  requested_at      timestamptz,
  accepted_at       timestamptz,
  arrived_at        timestamptz,
  started_at        timestamptz,
  completed_at      timestamptz,
  cancelled_at      timestamptz,
  cancelled_by      text,
  cancel_reason     text,
  estimated_fare    numeric(12,2),
  final_fare        numeric(12,2),
  distance_km       numeric(8,3),
  surge_multiplier  numeric(4,2),
  payment_method    text,
  source_updated_at timestamptz,
  -- Copy of the booking's payment (payments.booking_id is unique), written by payment events.
  payment_id        bigint,
  paid_amount       numeric(12,2),
  platform_fee      numeric(12,2),
  driver_earnings   numeric(12,2),
  paid_method       text,
  payment_status    text,
  paid_at           timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS fact_booking_requested_at_idx ON mart.fact_booking (requested_at) WHERE booking_present;
CREATE INDEX IF NOT EXISTS fact_booking_driver_idx ON mart.fact_booking (driver_id) WHERE booking_present;
CREATE INDEX IF NOT EXISTS fact_booking_passenger_idx ON mart.fact_booking (passenger_id) WHERE booking_present;
COMMENT ON TABLE mart.fact_booking IS 'One row per booking: its current lifecycle (all timestamps, status, zones, vehicle, fares, distance, surge, cancellation) and, once paid, its payment. Also the previous-state store the worker computes booking KPI deltas against.';
COMMENT ON COLUMN mart.fact_booking.booking_present IS 'true while the booking row exists in the source. A payment can arrive before its booking (topics are not ordered across tables): the row then exists with booking_present = false and only payment columns. Analysts: filter booking_present (the views do).';
COMMENT ON COLUMN mart.fact_booking.source_updated_at IS 'bookings.updated_at of the source row.';
COMMENT ON COLUMN mart.fact_booking.updated_at IS 'When the worker last wrote this row.';

CREATE TABLE IF NOT EXISTS mart.booking_status_history (
  booking_id          bigint NOT NULL,
  to_status           text NOT NULL,
  from_status         text,
  changed_at          timestamptz NOT NULL,
  seconds_in_previous numeric,
  PRIMARY KEY (booking_id, to_status)
);
CREATE INDEX IF NOT EXISTS booking_status_history_changed_at_idx ON mart.booking_status_history (changed_at);
COMMENT ON TABLE mart.booking_status_history IS 'One row per status a booking reached, derived from its lifecycle timestamps (requested_at, accepted_at, arrived_at, started_at → in_progress, completed_at, cancelled_at), so it is a function of the current row: a skipped intermediate state still appears once its timestamp is known, and a correction rewrites it.';
COMMENT ON COLUMN mart.booking_status_history.from_status IS 'The status reached just before (by time); NULL for requested.';
COMMENT ON COLUMN mart.booking_status_history.seconds_in_previous IS 'changed_at − the previous status''s changed_at, exact to the microsecond.';

CREATE TABLE IF NOT EXISTS mart.payment_state (
  payment_id      bigint PRIMARY KEY,
  booking_id      bigint,
  amount          numeric(12,2),
  platform_fee    numeric(12,2),
  driver_earnings numeric(12,2),
  method          text,
  status          text,
  paid_at         timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS payment_state_booking_idx ON mart.payment_state (booking_id);
COMMENT ON TABLE mart.payment_state IS 'Previous-state store for payments (KPI deltas by paid_at; a delete event carries only the id).';

CREATE TABLE IF NOT EXISTS mart.rating_state (
  rating_id  bigint PRIMARY KEY,
  booking_id bigint,
  rater_type text,
  rater_id   bigint,
  ratee_id   bigint,
  score      smallint,
  rated_at   timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS rating_state_ratee_idx ON mart.rating_state (ratee_id, rater_type);
COMMENT ON TABLE mart.rating_state IS 'Previous-state store for ratings (KPI deltas by rated_at).';

CREATE TABLE IF NOT EXISTS mart.driver_state (
  driver_id         bigint PRIMARY KEY,
  vehicle_type      text,
  status            text,
  home_zone_id      integer,
  created_at        timestamptz,
  source_updated_at timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE mart.driver_state IS 'Previous-state store for drivers: current status (gauges drivers_online/busy/available/utilization) and created_at (new_drivers).';

CREATE TABLE IF NOT EXISTS mart.passenger_state (
  passenger_id bigint PRIMARY KEY,
  home_zone_id integer,
  created_at   timestamptz,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE mart.passenger_state IS 'Previous-state store for passengers (new_passengers by created_at).';

CREATE TABLE IF NOT EXISTS mart.dim_zone (
  zone_id    integer PRIMARY KEY,
  code       text,
  name       text,
  city       text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE mart.dim_zone IS 'Zones (from zones change events) to label zone:<id> dimensions. KPIs use the zone id, which never changes, not the code.';

-- ---------------------------------------------------------------------------------------------
-- Consumer offsets: committed in the same transaction as the rows above (exactly-once).

CREATE TABLE IF NOT EXISTS mart.consumer_offsets (
  group_id    text NOT NULL,
  topic       text NOT NULL,
  "partition" integer NOT NULL,
  next_offset bigint NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic, "partition")
);
COMMENT ON TABLE mart.consumer_offsets IS 'Next Kafka offset to process per (group, topic, partition), written in the same transaction as the batch''s mart changes; the worker seeks here on start and on every rebalance.';
