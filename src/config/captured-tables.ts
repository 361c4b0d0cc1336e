/**
 * The source tables Debezium captures and the worker consumes: the one list. The files that cannot
 * import it — the publication in mart-sql/source/001_schema.sql and `table.include.list` in
 * connectors/ride-hailing-postgres.json — are checked against it by tests/unit/captured-tables.test.ts.
 */
export const CAPTURED_TABLES = [
  'zones',
  'passengers',
  'drivers',
  'driver_locations',
  'bookings',
  'payments',
  'ratings',
] as const;
export type CapturedTable = (typeof CAPTURED_TABLES)[number];
