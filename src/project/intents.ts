/**
 * What projections ask the Elasticsearch sink to do. Pure data: the sink decides how (bulk,
 * optimistic concurrency, chunking); `origin` ties every intent back to its Kafka message so a
 * rejected document can be dead-lettered with the original bytes.
 */
export interface Origin {
  topic: string;
  partition: number;
  offset: string;
}

/** An event a sink or projection refused for good: it goes to the dead-letter topic with this reason. */
export interface Rejection {
  origin: Origin;
  reason: string;
}

/** One part of the driver's latest document, owned by one source table and guarded by its LSN. */
export type DriverPart = 'location' | 'status';

export interface DriverPatch {
  kind: 'driver-patch';
  driverId: string;
  part: DriverPart;
  lsn: number;
  /** Fields this part owns; UNCHANGED values are already dropped. */
  fields: Record<string, unknown>;
  origin: Origin;
}

export interface DriverDelete {
  kind: 'driver-delete';
  driverId: string;
  lsn: number;
  origin: Origin;
}

/** Append-only event document with a deterministic id: a replay rewrites the same document. */
export interface TimeSeriesDoc {
  kind: 'timeseries-doc';
  /** Index family, e.g. "driver_locations_timeseries"; the sink adds the prefix and the day suffix. */
  family: string;
  /** Event time (UTC ISO) that picks the daily index. */
  timestamp: string;
  id: string;
  doc: Record<string, unknown>;
  /** create: first write wins (immutable facts); upsert: partial merge (facts that can be corrected). */
  mode: 'create' | 'upsert';
  /**
   * Upserts: the source LSN of the change. The stored document keeps it (source_lsn) and an older
   * write never replaces a newer one — e.g. a worker that lost its partition while it retried
   * Elasticsearch, writing after the new owner.
   */
  lsn?: number;
  origin: Origin;
}

/** Remove every document of `family` whose `field` equals `value` (e.g. a deleted booking's events). */
export interface DeleteByField {
  kind: 'delete-by-field';
  family: string;
  field: string;
  value: string;
  origin: Origin;
}

export type EsIntent = DriverPatch | DriverDelete | TimeSeriesDoc | DeleteByField;

export const FAMILY = {
  driverLatest: 'driver_locations',
  /** The delete LSN of each deleted driver, so no older patch brings its document back (merge-latest.ts). */
  driverTombstones: 'driver_locations_tombstones',
  driverTimeseries: 'driver_locations_timeseries',
  bookingEvents: 'booking_events',
} as const;
