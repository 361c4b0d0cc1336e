import { compareIds } from '../../../project/row.js';
import {
  type AnyState,
  STATE_COLUMNS,
  type StateOf,
  type StateTable,
  stateValue,
} from '../../../project/metrics/state.js';
import type { SqlStatement } from './metric-sql.js';

/**
 * Where each source row's previous state lives in reporting_db, and the SQL to read (locked) and
 * write it. Read expressions return every column as text in the state format (timestamps as ISO UTC
 * with microseconds), so a state read back gives exactly the contributions of the state written.
 */

interface ColumnSpec {
  /** Column in the state (= source column name). */
  readonly state: string;
  /** Column in the mart table. */
  readonly db: string;
  readonly type:
    'bigint' | 'integer' | 'smallint' | 'text' | 'uuid' | 'numeric' | 'double precision' | 'timestamptz';
}

export interface StateTableSpec {
  readonly table: string;
  readonly key: string;
  /** A state row exists only while this flag is true (fact_booking also holds payment copies). */
  readonly presentFlag: string | null;
  readonly columns: readonly ColumnSpec[];
}

type Types = Record<string, ColumnSpec['type']>;

function spec<T extends StateTable>(
  source: T,
  table: string,
  key: string,
  types: Types,
  rename: Record<string, string> = {},
  presentFlag: string | null = null,
): StateTableSpec {
  const columns = STATE_COLUMNS[source].map((c): ColumnSpec => {
    const type = types[c];
    if (!type) throw new Error(`no SQL type for ${source}.${c}`);
    return { state: c, db: c === 'id' ? key : (rename[c] ?? c), type };
  });
  return { table, key, presentFlag, columns };
}

const TS = 'timestamptz' as const;
const MONEY = 'numeric' as const;

export const STATE_SQL: Readonly<Record<StateTable, StateTableSpec>> = {
  bookings: spec(
    'bookings',
    'mart.fact_booking',
    'booking_id',
    {
      id: 'bigint',
      booking_uuid: 'uuid',
      passenger_id: 'bigint',
      driver_id: 'bigint',
      status: 'text',
      vehicle_type: 'text',
      pickup_lat: 'double precision',
      pickup_lon: 'double precision',
      pickup_zone_id: 'integer',
      dropoff_lat: 'double precision',
      dropoff_lon: 'double precision',
      dropoff_zone_id: 'integer',
      requested_at: TS,
      accepted_at: TS,
      arrived_at: TS,
      started_at: TS,
      completed_at: TS,
      cancelled_at: TS,
      cancelled_by: 'text',
      cancel_reason: 'text',
      estimated_fare: MONEY,
      final_fare: MONEY,
      distance_km: 'numeric',
      surge_multiplier: 'numeric',
      payment_method: 'text',
      updated_at: TS,
    },
    { updated_at: 'source_updated_at' },
    'booking_present',
  ),
  payments: spec('payments', 'mart.payment_state', 'payment_id', {
    id: 'bigint',
    booking_id: 'bigint',
    amount: MONEY,
    platform_fee: MONEY,
    driver_earnings: MONEY,
    method: 'text',
    status: 'text',
    paid_at: TS,
  }),
  ratings: spec('ratings', 'mart.rating_state', 'rating_id', {
    id: 'bigint',
    booking_id: 'bigint',
    rater_type: 'text',
    rater_id: 'bigint',
    ratee_id: 'bigint',
    score: 'smallint',
    rated_at: TS,
  }),
  drivers: spec(
    'drivers',
    'mart.driver_state',
    'driver_id',
    {
      id: 'bigint',
      vehicle_type: 'text',
      status: 'text',
      home_zone_id: 'integer',
      created_at: TS,
      updated_at: TS,
    },
    { updated_at: 'source_updated_at' },
  ),
  passengers: spec('passengers', 'mart.passenger_state', 'passenger_id', {
    id: 'bigint',
    home_zone_id: 'integer',
    created_at: TS,
  }),
  zones: spec('zones', 'mart.dim_zone', 'zone_id', {
    id: 'integer',
    code: 'text',
    name: 'text',
    city: 'text',
  }),
};

/** Text rendering of a column in state format. */
export function readExpr(c: ColumnSpec): string {
  return c.type === 'timestamptz'
    ? `to_char(${c.db} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ${c.state}`
    : `${c.db}::text AS ${c.state}`;
}

/**
 * SELECT ... FOR UPDATE of the stored states of `ids` (ordered by key, so lock order is stable).
 * Absent ids are absent from the result: their previous state is null.
 */
export function selectStatesSql(table: StateTable, ids: readonly string[]): SqlStatement {
  const s = STATE_SQL[table];
  const present = s.presentFlag ? ` AND ${s.presentFlag}` : '';
  return {
    text: `SELECT ${s.columns.map(readExpr).join(', ')}\nFROM ${s.table}\nWHERE ${s.key} = ANY($1::bigint[])${present}\nORDER BY ${s.key}\nFOR UPDATE`,
    values: [[...ids].sort(compareIds)],
  };
}

/** A row returned by selectStatesSql → state. */
export function stateFromDb<T extends StateTable>(table: T, row: Record<string, unknown>): StateOf[T] {
  const out: Record<string, string | null> = {};
  for (const c of STATE_COLUMNS[table]) out[c] = stateValue(row[c]);
  return out as unknown as StateOf[T];
}

/** Upserts new states (one per id). */
export function upsertStatesSql(table: StateTable, states: readonly AnyState[]): SqlStatement | null {
  if (states.length === 0) return null;
  const s = STATE_SQL[table];
  const sorted = [...states].sort((a, b) => compareIds(a.id, b.id));
  const cols = s.columns;
  const params = cols.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
  const names = cols.map((c) => c.db);
  const flagCol = s.presentFlag ? `, ${s.presentFlag}` : '';
  const flagVal = s.presentFlag ? ', true' : '';
  const sets = [
    ...names.filter((n) => n !== s.key).map((n) => `${n} = EXCLUDED.${n}`),
    ...(s.presentFlag ? [`${s.presentFlag} = true`] : []),
    'updated_at = now()',
  ];
  return {
    text:
      `INSERT INTO ${s.table} AS t (${names.join(', ')}${flagCol})\n` +
      `SELECT ${names.map((n) => `i.${n}`).join(', ')}${flagVal}\n` +
      `FROM unnest(${params}) WITH ORDINALITY AS i(${names.join(', ')}, ord)\nORDER BY i.ord\n` +
      `ON CONFLICT (${s.key}) DO UPDATE SET ${sets.join(', ')}`,
    values: cols.map((c) =>
      sorted.map((st) => (st as unknown as Record<string, string | null>)[c.state] ?? null),
    ),
  };
}

/**
 * Removes the stored states of deleted rows. fact_booking keeps a row that still holds a payment
 * copy (booking columns cleared, booking_present = false) and deletes it otherwise.
 */
export function deleteStatesSql(table: StateTable, ids: readonly string[]): SqlStatement[] {
  if (ids.length === 0) return [];
  const s = STATE_SQL[table];
  const sorted = [...ids].sort(compareIds);
  if (!s.presentFlag)
    return [{ text: `DELETE FROM ${s.table} WHERE ${s.key} = ANY($1::bigint[])`, values: [sorted] }];
  const clear = s.columns.filter((c) => c.db !== s.key).map((c) => `${c.db} = NULL`);
  return [
    {
      text: `UPDATE ${s.table} SET ${clear.join(', ')}, ${s.presentFlag} = false, updated_at = now() WHERE ${s.key} = ANY($1::bigint[])`,
      values: [sorted],
    },
    {
      text: `DELETE FROM ${s.table} WHERE ${s.key} = ANY($1::bigint[]) AND NOT ${s.presentFlag} AND payment_id IS NULL`,
      values: [sorted],
    },
  ];
}
