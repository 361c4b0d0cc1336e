-- ride_hailing_db: the operational source of truth that Debezium captures.
-- Column types are chosen on purpose so every Debezium logical type the worker must decode flows
-- through the pipeline: numeric (Decimal), timestamptz (ZonedTimestamp), enum (Enum), jsonb (Json),
-- uuid (Uuid), double precision, smallint, text.
--
-- Replica identity: every captured table keeps REPLICA IDENTITY DEFAULT (the primary key). The
-- worker never needs the full "before" image: it keeps the previously projected state of each row
-- itself (mart.fact_booking, mart.payment_state, ...) and computes deltas against that, so updates
-- and deletes are exact without the extra WAL volume of FULL. The consequence is that unchanged
-- TOASTed values (bookings.metadata, bookings.cancel_reason) arrive as Debezium's
-- "__debezium_unavailable_value" placeholder; the decoder turns that into an explicit Unchanged
-- marker and projections keep the stored value.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

DO $$ BEGIN
  CREATE TYPE driver_status AS ENUM ('offline', 'available', 'busy');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
  CREATE TYPE vehicle_type AS ENUM ('bike', 'car', 'car_xl');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
  CREATE TYPE booking_status AS ENUM ('requested', 'accepted', 'arrived', 'in_progress', 'completed', 'cancelled');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
  CREATE TYPE cancel_actor AS ENUM ('passenger', 'driver', 'system');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
  CREATE TYPE payment_method AS ENUM ('cash', 'card', 'wallet');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
  CREATE TYPE payment_status AS ENUM ('paid', 'refunded');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
  CREATE TYPE rating_party AS ENUM ('passenger', 'driver');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

-- A city split into zones (districts); bounds are a simple lat/lon box around the centroid.
CREATE TABLE IF NOT EXISTS zones (
  id            integer PRIMARY KEY,
  code          text NOT NULL UNIQUE,
  name          text NOT NULL,
  city          text NOT NULL DEFAULT 'Ho Chi Minh City',
  center_lat    double precision NOT NULL,
  center_lon    double precision NOT NULL,
  min_lat       double precision NOT NULL,
  max_lat       double precision NOT NULL,
  min_lon       double precision NOT NULL,
  max_lon       double precision NOT NULL,
  demand_weight numeric(6,3) NOT NULL DEFAULT 1.000
);

CREATE TABLE IF NOT EXISTS passengers (
  id           bigserial PRIMARY KEY,
  full_name    text NOT NULL,
  phone        text NOT NULL,
  email        text,
  home_zone_id integer NOT NULL REFERENCES zones(id),
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS drivers (
  id           bigserial PRIMARY KEY,
  full_name    text NOT NULL,
  phone        text NOT NULL,
  vehicle_type vehicle_type NOT NULL,
  plate_number text NOT NULL,
  status       driver_status NOT NULL DEFAULT 'offline',
  home_zone_id integer NOT NULL REFERENCES zones(id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- One row per driver, updated in place every time the driver app reports a position.
CREATE TABLE IF NOT EXISTS driver_locations (
  driver_id  bigint PRIMARY KEY REFERENCES drivers(id) ON DELETE CASCADE,
  lat        double precision NOT NULL,
  lon        double precision NOT NULL,
  heading    double precision NOT NULL DEFAULT 0,
  speed_kmh  double precision NOT NULL DEFAULT 0,
  zone_id    integer REFERENCES zones(id),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS bookings (
  id               bigserial PRIMARY KEY,
  booking_uuid     uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  passenger_id     bigint NOT NULL REFERENCES passengers(id),
  driver_id        bigint REFERENCES drivers(id),
  status           booking_status NOT NULL DEFAULT 'requested',
  vehicle_type     vehicle_type NOT NULL,
  pickup_lat       double precision NOT NULL,
  pickup_lon       double precision NOT NULL,
  pickup_zone_id   integer NOT NULL REFERENCES zones(id),
  dropoff_lat      double precision NOT NULL,
  dropoff_lon      double precision NOT NULL,
  dropoff_zone_id  integer NOT NULL REFERENCES zones(id),
  requested_at     timestamptz NOT NULL,
  accepted_at      timestamptz,
  arrived_at       timestamptz,
  started_at       timestamptz,
  completed_at     timestamptz,
  cancelled_at     timestamptz,
  cancelled_by     cancel_actor,
  cancel_reason    text,
  estimated_fare   numeric(12,2),
  final_fare       numeric(12,2),
  distance_km      numeric(8,3),
  surge_multiplier numeric(4,2) NOT NULL DEFAULT 1.00,
  payment_method   payment_method NOT NULL,
  metadata         jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS bookings_status_idx ON bookings (status);
CREATE INDEX IF NOT EXISTS bookings_requested_at_idx ON bookings (requested_at);

CREATE TABLE IF NOT EXISTS payments (
  id              bigserial PRIMARY KEY,
  booking_id      bigint NOT NULL UNIQUE REFERENCES bookings(id),
  amount          numeric(12,2) NOT NULL,
  platform_fee    numeric(12,2) NOT NULL,
  driver_earnings numeric(12,2) NOT NULL,
  method          payment_method NOT NULL,
  status          payment_status NOT NULL DEFAULT 'paid',
  paid_at         timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS ratings (
  id         bigserial PRIMARY KEY,
  booking_id bigint NOT NULL REFERENCES bookings(id),
  rater_type rating_party NOT NULL,
  rater_id   bigint NOT NULL,
  ratee_id   bigint NOT NULL,
  score      smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
  comment    text,
  rated_at   timestamptz NOT NULL,
  UNIQUE (booking_id, rater_type)
);

-- Not captured by Debezium: an audit trail written by a trigger, one row per position the source
-- accepted. It is the ground truth the tests count time-series documents against.
CREATE TABLE IF NOT EXISTS driver_location_history (
  id          bigserial PRIMARY KEY,
  driver_id   bigint NOT NULL,
  lat         double precision NOT NULL,
  lon         double precision NOT NULL,
  recorded_at timestamptz NOT NULL
);

CREATE OR REPLACE FUNCTION record_driver_location() RETURNS trigger AS $$
BEGIN
  INSERT INTO driver_location_history (driver_id, lat, lon, recorded_at)
  VALUES (NEW.driver_id, NEW.lat, NEW.lon, NEW.updated_at);
  RETURN NEW;
END $$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS driver_locations_history ON driver_locations;
CREATE TRIGGER driver_locations_history AFTER INSERT OR UPDATE ON driver_locations
  FOR EACH ROW EXECUTE FUNCTION record_driver_location();

-- Debezium publishes exactly these tables (publication.autocreate.mode=disabled in the connector).
DO $$ BEGIN
  CREATE PUBLICATION ride_cdc_pub FOR TABLE zones, passengers, drivers, driver_locations, bookings, payments, ratings;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
