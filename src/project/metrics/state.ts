import { type ChangeEvent, type Row, UNCHANGED, type Value } from '../../decode/change-event.js';
import { PoisonMessageError, SystemicError } from '../../shared/errors.js';

/**
 * The row images the mart keeps per source row ("previous known contribution state").
 *
 * A KPI delta is contributions(new state) − contributions(previous state), so the worker must know
 * the previous state of every row it has seen. It is stored in reporting_db (mart.fact_booking,
 * mart.payment_state, ...; see mart-sql/reporting/001_mart.sql) and read/written (src/sink/mart/sql/state-sql.ts) in the same
 * transaction as the KPI merges. A state is the source row restricted to the columns below, every
 * value as `string | null` (ids, enums, decimals as exact strings, timestamps as ISO strings), so a
 * state read back from PostgreSQL and the state built from an event give the same contributions.
 */

export const STATE_COLUMNS = {
  bookings: [
    'id',
    'booking_uuid',
    'passenger_id',
    'driver_id',
    'status',
    'vehicle_type',
    'pickup_lat',
    'pickup_lon',
    'pickup_zone_id',
    'dropoff_lat',
    'dropoff_lon',
    'dropoff_zone_id',
    'requested_at',
    'accepted_at',
    'arrived_at',
    'started_at',
    'completed_at',
    'cancelled_at',
    'cancelled_by',
    'cancel_reason',
    'estimated_fare',
    'final_fare',
    'distance_km',
    'surge_multiplier',
    'payment_method',
    'updated_at',
  ],
  payments: ['id', 'booking_id', 'amount', 'platform_fee', 'driver_earnings', 'method', 'status', 'paid_at'],
  ratings: ['id', 'booking_id', 'rater_type', 'rater_id', 'ratee_id', 'score', 'rated_at'],
  drivers: ['id', 'vehicle_type', 'status', 'home_zone_id', 'created_at', 'updated_at'],
  passengers: ['id', 'home_zone_id', 'created_at'],
  zones: ['id', 'code', 'name', 'city'],
} as const;

export type StateTable = keyof typeof STATE_COLUMNS;

type StateShape<T extends StateTable> = Readonly<Record<(typeof STATE_COLUMNS)[T][number], string | null>> & {
  readonly id: string;
};

export type BookingState = StateShape<'bookings'>;
export type PaymentState = StateShape<'payments'>;
export type RatingState = StateShape<'ratings'>;
export type DriverState = StateShape<'drivers'>;
export type PassengerState = StateShape<'passengers'>;
export type ZoneState = StateShape<'zones'>;

export interface StateOf {
  bookings: BookingState;
  payments: PaymentState;
  ratings: RatingState;
  drivers: DriverState;
  passengers: PassengerState;
  zones: ZoneState;
}
export type AnyState = StateOf[StateTable];

export function isStateTable(table: string): table is StateTable {
  return Object.hasOwn(STATE_COLUMNS, table);
}

/** One value in state form: exact strings, never a float re-rendering of a decimal. */
export function stateValue(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}

/**
 * prev ⊕ after: the new state of a row. A column that is UNCHANGED (TOAST placeholder) or absent
 * from `after` keeps its previous value — or null when there is no previous state, which only
 * affects descriptive columns (no KPI reads a TOASTable column).
 */
export function mergeState<T extends StateTable>(table: T, prev: StateOf[T] | null, after: Row): StateOf[T] {
  const out: Record<string, string | null> = {};
  const before = prev as Readonly<Record<string, string | null>> | null;
  for (const c of STATE_COLUMNS[table]) {
    const v: Value | undefined = after[c];
    out[c] = v === undefined || v === UNCHANGED ? (before?.[c] ?? null) : stateValue(v);
  }
  if (out.id === null || out.id === undefined)
    throw new PoisonMessageError('missing-key', `${table} row without id`);
  return out as unknown as StateOf[T];
}

/** The source row id of an event: from `after`, else `before`, else the Kafka key. */
export function eventRowId(e: ChangeEvent): string | null {
  for (const r of [e.after, e.before, e.key]) {
    const v = r?.id;
    if (v !== undefined && v !== null && v !== UNCHANGED) return stateValue(v);
  }
  return null;
}

/**
 * The state after one event. c/u/r → merge(prev, after); d → null (the row is gone); duplicates
 * (a re-delivered event after a Debezium or worker restart) give the same state again, hence a
 * zero delta. Truncate is not a row change: the worker stops before it (src/worker/pipeline/
 * truncate-stage.ts); should one reach this point anyway it is systemic, never a dead letter.
 */
export function nextState<T extends StateTable>(
  table: T,
  prev: StateOf[T] | null,
  e: ChangeEvent,
): StateOf[T] | null {
  switch (e.op) {
    case 'd':
      return null;
    case 'c':
    case 'u':
    case 'r':
      if (!e.after)
        throw new PoisonMessageError('missing-after', `${table} ${e.op} event without after image`);
      return mergeState(table, prev, e.after);
    case 't':
      throw new SystemicError(
        'source-truncate',
        `truncate of ${table} cannot be projected row by row: ride-cdc mart rebuild --table ${table}`,
      );
    default:
      throw new PoisonMessageError('unknown-op', `unknown op ${JSON.stringify(e.op)} on ${table}`);
  }
}
