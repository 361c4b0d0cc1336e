import type { ChangeEvent } from '../decode/change-event.js';
import type { Rejection } from './intents.js';
import { compareIds } from './row.js';
import { SystemicError } from '../shared/errors.js';
import { statusHistory, type PaymentChange, type StatusHistoryRow } from './bookings/status-history.js';
import type { Delta } from './metrics/delta.js';
import { projectRow } from './metrics/project-row.js';
import { eventRowId, isStateTable, stateValue, type StateOf, type StateTable } from './metrics/state.js';

/**
 * The reporting mart as a pure function of a batch:
 *
 *   (stored states of the rows the batch touches, events) → (next states, KPI deltas,
 *    status-history rows, payment copies, rejections)
 *
 * The mart sink (src/sink/mart/) reads the stored states (locked), calls foldMart, and writes the
 * result in the same transaction as the offsets. Nothing here knows SQL.
 */

/**
 * Tables in the order their state rows are locked (docs/kpis.md §11): payments before the shared
 * fact_booking rows, then the rest. Every worker follows it, so transactions never wait in a cycle.
 */
export const MART_TABLE_ORDER = [
  'payments',
  'bookings',
  'ratings',
  'drivers',
  'passengers',
  'zones',
] as const satisfies readonly StateTable[];

/** Stored state per table and row id; a row that is absent has never been seen (or was deleted). */
export type StoredStates = { readonly [T in StateTable]?: ReadonlyMap<string, StateOf[T]> };

/** The rows a batch touches, per table in lock order, each with its events in Kafka order. */
export interface RowsTouched {
  readonly rows: ReadonlyMap<StateTable, ReadonlyMap<string, readonly ChangeEvent[]>>;
  /** Events without a row id: they cannot touch any row. */
  readonly rejected: readonly Rejection[];
}

export interface TableChanges<T extends StateTable = StateTable> {
  table: T;
  /** New states to store, one per row id. */
  upserts: StateOf[T][];
  /** Ids of rows whose stored state is removed. */
  deletes: string[];
}

export interface MartFold {
  /** Per table, in lock order. */
  states: TableChanges[];
  deltas: Delta[];
  /** Payment rows before/after, for the payment copy on each booking. */
  payments: PaymentChange[];
  /** Bookings whose status history is replaced, and the rows replacing it. */
  statusHistory: { bookingIds: string[]; rows: StatusHistoryRow[] };
  rejected: Rejection[];
}

const originOf = (e: ChangeEvent) => ({ topic: e.topic, partition: e.partition, offset: e.offset });

/** Groups the events by the mart row they change. Tables the mart does not keep are left out. */
export function rowsTouched(events: readonly ChangeEvent[]): RowsTouched {
  const rows = new Map<StateTable, Map<string, ChangeEvent[]>>();
  const rejected: Rejection[] = [];
  for (const e of events) {
    if (!isStateTable(e.table)) continue;
    // No row id, but not bad data: a truncate must never become a dead letter (truncate-stage.ts).
    if (e.op === 't')
      throw new SystemicError(
        'source-truncate',
        `truncate of ${e.table}: ride-cdc mart rebuild --table ${e.table}`,
      );
    const id = eventRowId(e);
    if (id === null) {
      rejected.push({ origin: originOf(e), reason: 'mart: event without a row id' });
      continue;
    }
    let byId = rows.get(e.table);
    if (!byId) rows.set(e.table, (byId = new Map()));
    const list = byId.get(id);
    if (list) list.push(e);
    else byId.set(id, [e]);
  }
  return { rows, rejected };
}

/** Sorted ids of the rows of `table` the batch touches (the order they are locked in). */
export function touchedIds(touched: RowsTouched, table: StateTable): string[] {
  return [...(touched.rows.get(table)?.keys() ?? [])].sort(compareIds);
}

/**
 * Every fact_booking row the batch may write, known before the booking states are read so they can
 * be locked in one sorted pass: the batch's bookings plus the old and new booking of each payment
 * (a superset of what foldMart's payment copies write; extra ids only cost a placeholder row the
 * sink removes again).
 */
export function bookingIdsToLock(
  touched: RowsTouched,
  storedPayments: ReadonlyMap<string, StateOf['payments']>,
): string[] {
  const ids = new Set(touched.rows.get('bookings')?.keys() ?? []);
  for (const [id, events] of touched.rows.get('payments') ?? []) {
    const prev = storedPayments.get(id)?.booking_id;
    if (prev) ids.add(prev);
    for (const e of events) {
      const b = e.after ? stateValue(e.after.booking_id) : null;
      if (b !== null && /^-?\d+$/.test(b)) ids.add(b);
    }
  }
  return [...ids].sort(compareIds);
}

/**
 * The whole mart change of a batch, given the stored state of every row it touches. `kpis`: the
 * KPIs maintained (absent: the whole catalog); the others' deltas are not computed, states are.
 */
export function foldMart(touched: RowsTouched, stored: StoredStates, kpis?: ReadonlySet<string>): MartFold {
  const out: MartFold = {
    states: [],
    deltas: [],
    payments: [],
    statusHistory: { bookingIds: [], rows: [] },
    rejected: [...touched.rejected],
  };
  for (const table of MART_TABLE_ORDER) foldTable(table, touched, stored, out, kpis);
  return out;
}

function foldTable<T extends StateTable>(
  table: T,
  touched: RowsTouched,
  stored: StoredStates,
  out: MartFold,
  kpis: ReadonlySet<string> | undefined,
): void {
  const ids = touchedIds(touched, table);
  if (ids.length === 0) return;
  const prevs = (stored[table] ?? new Map()) as ReadonlyMap<string, StateOf[T]>;
  const changes: TableChanges<T> = { table, upserts: [], deletes: [] };
  for (const id of ids) {
    const prev = prevs.get(id) ?? null;
    const r = projectRow(table, prev, touched.rows.get(table)!.get(id)!, kpis);
    out.deltas.push(...r.deltas);
    out.rejected.push(...r.rejected);
    if (r.next) changes.upserts.push(r.next);
    else if (prev) changes.deletes.push(id);
    if (table === 'payments')
      out.payments.push({
        prev: prev as StateOf['payments'] | null,
        next: r.next as StateOf['payments'] | null,
      });
    if (table === 'bookings') {
      out.statusHistory.bookingIds.push(id);
      out.statusHistory.rows.push(...statusHistory(r.next as StateOf['bookings'] | null));
    }
  }
  out.states.push(changes as TableChanges);
}
