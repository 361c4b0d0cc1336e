-- Daily batch views: rider/driver cohorts and retention, churn and return, driver productivity.
-- Keyed by the BUSINESS DAY (BUSINESS_TIMEZONE, default Asia/Ho_Chi_Minh), not UTC; only closed
-- days. Written by `ride-cdc cohorts run` (and the worker's daily scheduler) from mart.fact_booking;
-- each row equals the SQL in mart.batch_view_definition.truth_sql over ride_hailing_db.
-- Definitions: src/batch/cohorts/sql.ts and catalog.ts; docs/cohorts.md.

CREATE TABLE IF NOT EXISTS mart.cohort_retention (
  cohort_kind    text NOT NULL CHECK (cohort_kind IN ('rider', 'driver')),
  cohort_day     date NOT NULL,
  day_offset     integer NOT NULL CHECK (day_offset IN (1, 3, 7)),
  cohort_size    integer NOT NULL,
  retained       integer NOT NULL,
  retention_rate numeric NOT NULL,
  computed_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cohort_kind, cohort_day, day_offset)
);
COMMENT ON TABLE mart.cohort_retention IS 'Members (riders by passenger_id, drivers by driver_id) whose first completed trip fell on cohort_day (business day), and how many completed a trip again exactly day_offset business days later. A row exists once cohort_day + day_offset has closed.';

CREATE TABLE IF NOT EXISTS mart.churn_daily (
  cohort_kind  text NOT NULL CHECK (cohort_kind IN ('rider', 'driver')),
  business_day date NOT NULL,
  churn_days   integer NOT NULL,
  churned      integer NOT NULL,
  returned     integer NOT NULL,
  computed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cohort_kind, business_day)
);
COMMENT ON TABLE mart.churn_daily IS 'Per business day: members who churned that day (last completed trip churn_days days before, none since) and members who returned that day (a trip after more than churn_days days without one).';

CREATE TABLE IF NOT EXISTS mart.driver_productivity_daily (
  business_day            date PRIMARY KEY,
  active_drivers          integer NOT NULL,
  completed_trips         integer NOT NULL,
  trips_per_active_driver numeric NOT NULL,
  computed_at             timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE mart.driver_productivity_daily IS 'Per business day: drivers with at least one completed trip, their completed trips, and trips per active driver.';

CREATE TABLE IF NOT EXISTS mart.batch_view_definition (
  view_name         text PRIMARY KEY,
  description       text NOT NULL,
  business_timezone text NOT NULL,
  truth_sql         text NOT NULL,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE mart.batch_view_definition IS 'The daily batch views as data (from src/batch/cohorts/catalog.ts, rewritten by every run). truth_sql runs on ride_hailing_db with ($1 zone, $2 first cohort day, $3 first day, $4 end day exclusive, $5 churn days).';

CREATE TABLE IF NOT EXISTS mart.batch_run (
  job             text PRIMARY KEY,
  last_closed_day date,
  watermark       timestamptz,
  last_since      date,
  last_run_at     timestamptz,
  last_rows       integer
);
COMMENT ON TABLE mart.batch_run IS 'State of the daily batch: the last business day closed and computed, and the reporting_db time up to which touched mart.fact_booking rows were taken into account (a later-touched row triggers a re-run from its business day).';
