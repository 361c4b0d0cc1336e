-- Least-privilege roles of reporting_db, created NOLOGIN; a deployment gives them a login and a
-- password (the secured native stack does: src/stack/components/postgres-security.ts).
--   ride_cdc_worker   the worker: reads and writes the mart's tables, nothing else (no DDL, not
--                     the migration ledger in public).
--   reporting_reader  analysts and dashboards: the analyst views and the fact tables, read-only;
--                     not the worker's state tables nor its consumer positions.
-- Roles are cluster-wide and migrations of several databases may run at once: a concurrent
-- creator's role is as good as ours.
DO $$
BEGIN
  CREATE ROLE ride_cdc_worker NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

DO $$
BEGIN
  CREATE ROLE reporting_reader NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

GRANT USAGE ON SCHEMA mart TO ride_cdc_worker, reporting_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA mart TO ride_cdc_worker;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA mart TO ride_cdc_worker;
-- Tables a later migration adds (created by the same migrating role) get the same grant.
ALTER DEFAULT PRIVILEGES IN SCHEMA mart GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ride_cdc_worker;
ALTER DEFAULT PRIVILEGES IN SCHEMA mart GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ride_cdc_worker;

GRANT SELECT ON
  mart.fact_metric_bucket,
  mart.fact_booking,
  mart.latest_metric_snapshot,
  mart.daily_summary,
  mart.zone_performance,
  mart.driver_leaderboard,
  mart.recent_bookings
TO reporting_reader;
