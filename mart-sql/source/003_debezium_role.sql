-- The role Debezium logs in as (instead of the superuser), created NOLOGIN; a deployment gives it
-- a login and a password (the secured native stack does: src/stack/components/postgres-security.ts).
-- What the connector needs with the pre-created publication ride_cdc_pub
-- (publication.autocreate.mode=disabled), per Debezium's "Setting up permissions":
--   REPLICATION   create its slot and stream the WAL through pgoutput
--   SELECT        on the captured tables only, for the initial snapshot (no write, no other table)
--   USAGE         on schema public, to reach them
-- It owns nothing and is a member of no role: only a publication's owner may change its table
-- list, and with autocreation off the connector never does (001_schema.sql creates it).
-- Roles are cluster-wide and migrations of several databases may run at once: a concurrent
-- creator's role is as good as ours. The grants are per database, so they run everywhere.
DO $$
BEGIN
  CREATE ROLE ride_cdc_debezium NOLOGIN REPLICATION;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

GRANT USAGE ON SCHEMA public TO ride_cdc_debezium;
GRANT SELECT ON zones, passengers, drivers, driver_locations, bookings, payments, ratings TO ride_cdc_debezium;
