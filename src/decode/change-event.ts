/**
 * The one typed record that leaves decode/ and enters project/.
 *
 * Values inside `before`/`after` are normalised from Debezium's logical types:
 *  - Decimal / VariableScaleDecimal → `string` in plain decimal notation ("45000.50"); exact, never a float.
 *  - int64 (bigint, bigserial) → always a decimal `string` ("42", "9223372036854775807"): one type
 *    whatever the magnitude (a JS number is exact only below 2^53). int16/int32 stay numbers.
 *  - Timestamp / MicroTimestamp / NanoTimestamp / ZonedTimestamp → `string` ISO-8601 in UTC with
 *    microsecond precision kept ("2026-11-21T04:32:10.123456Z"); PostgreSQL's 'infinity' and
 *    '-infinity' → the strings "infinity" / "-infinity" (see docs/capture.md for what the sinks do).
 *  - Date → "YYYY-MM-DD" (or "infinity" / "-infinity"); Time / MicroTime / ZonedTime → "HH:MM:SS.ffffff".
 *  - Json → the exact JSON text as a `string` (parsing it into JS numbers would round
 *    12345678901234567890); Uuid / Enum → string; Point/Geometry → { lat, lon } or WKB hex.
 *  - The TOAST placeholder configured in the connector (`unavailable.value.placeholder`, see
 *    TOAST_PLACEHOLDER) → the UNCHANGED symbol: the column did not change and its value was not
 *    sent; projections must keep what they already have. Debezium's default placeholder text
 *    "__debezium_unavailable_value" is ordinary data.
 */
export const UNCHANGED: unique symbol = Symbol.for('ride-cdc.unchanged');
export type Unchanged = typeof UNCHANGED;

export type Value = string | number | boolean | null | Unchanged | Value[] | { [k: string]: unknown };
export type Row = Record<string, Value>;

/** c = insert, u = update, d = delete, r = snapshot read, t = truncate. */
export type Op = 'c' | 'u' | 'd' | 'r' | 't';

export interface ChangeEvent {
  /** Source table without schema, e.g. "bookings". */
  table: string;
  op: Op;
  /** Decoded Kafka key (the primary key columns). */
  key: Row | null;
  before: Row | null;
  after: Row | null;
  /** Commit time in the source database (source.ts_ms). */
  sourceTsMs: number;
  /** Position in the WAL (source.lsn); monotonic per row, used for ES external versions and ids. */
  lsn: number;
  txId: number | null;
  /** True for rows emitted by the initial snapshot (source.snapshot != false). */
  snapshot: boolean;
  topic: string;
  partition: number;
  offset: string;
}
