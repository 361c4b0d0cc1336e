-- Data-quality snapshots: completeness and freshness per captured table and store, written by
-- `ride-cdc quality snapshot` (and by the worker every QUALITY_INTERVAL_MS when set). The latest
-- snapshot is exported as Prometheus gauges (ride_cdc_data_quality_*). src/quality/snapshot.ts.

CREATE TABLE IF NOT EXISTS mart.data_quality (
  taken_at         timestamptz NOT NULL,
  table_name       text NOT NULL,
  store            text NOT NULL CHECK (store IN ('mart', 'es')),
  expected         bigint NOT NULL,
  actual           bigint NOT NULL,
  missing          bigint GENERATED ALWAYS AS (expected - actual) STORED,
  newest_source_at timestamptz,
  newest_store_at  timestamptz,
  PRIMARY KEY (taken_at, table_name, store)
);
COMMENT ON TABLE mart.data_quality IS 'One row per (snapshot, captured table, store). expected = rows in ride_hailing_db (for es booking_events: lifecycle steps with a timestamp), actual = mart state rows or Elasticsearch documents; missing > 0 = not (yet) there, < 0 = extra. newest_*: the newest business timestamp seen on each side (freshness).';
CREATE INDEX IF NOT EXISTS data_quality_latest_idx ON mart.data_quality (table_name, store, taken_at DESC);

CREATE OR REPLACE VIEW mart.data_quality_latest AS
SELECT DISTINCT ON (table_name, store) *
  FROM mart.data_quality
 ORDER BY table_name, store, taken_at DESC;
COMMENT ON VIEW mart.data_quality_latest IS 'The latest data-quality row per (table, store).';
