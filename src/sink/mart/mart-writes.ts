import type { PoolClient } from 'pg';
import {
  MART_TABLE_ORDER,
  bookingIdsToLock,
  touchedIds,
  type MartFold,
  type RowsTouched,
  type StoredStates,
} from '../../project/mart-fold.js';
import { paymentCopyBookingIds } from '../../project/bookings/status-history.js';
import type { StateOf, StateTable } from '../../project/metrics/state.js';
import {
  lockBookingRowsSql,
  paymentCopySql,
  releaseBookingRowsSql,
  replaceStatusHistorySql,
} from './sql/booking-sql.js';
import {
  emptiedCleanupSql,
  planMetricWrite,
  type EmptiedRow,
  type MemberTransitionRow,
  type SqlStatement,
} from './sql/metric-sql.js';
import type { Delta } from '../../project/metrics/delta.js';
import { deleteStatesSql, selectStatesSql, stateFromDb, upsertStatesSql } from './sql/state-sql.js';

/**
 * The reads and writes of one batch inside its open transaction, in the global lock order
 * (state rows → fact_booking → metric_member → fact_metric_bucket → metric_gauge → kpi_mirror_tombstone
 * → consumer_offsets)
 * so concurrent workers never wait on each other in a cycle.
 */

const run = (client: PoolClient, s: SqlStatement | null) =>
  s ? client.query(s.text, s.values) : Promise.resolve();

/**
 * Reads (FOR UPDATE) the stored state of every row the batch touches. The fact_booking rows are
 * locked in one sorted pass after the payments and before the booking states are read (returned
 * as `lockedBookings`, to release placeholders after the writes).
 */
export async function readStoredStates(
  client: PoolClient,
  touched: RowsTouched,
): Promise<{ stored: StoredStates; lockedBookings: string[] }> {
  const stored: { [T in StateTable]?: Map<string, StateOf[T]> } = {};
  let lockedBookings: string[] = [];
  for (const table of MART_TABLE_ORDER) {
    if (table === 'bookings') {
      lockedBookings = bookingIdsToLock(touched, stored.payments ?? new Map());
      await run(client, lockBookingRowsSql(lockedBookings));
    }
    const ids = touchedIds(touched, table);
    if (ids.length === 0) continue;
    const sel = selectStatesSql(table, ids);
    const rows = new Map<string, StateOf[typeof table]>();
    for (const r of (await client.query(sel.text, sel.values)).rows) {
      const st = stateFromDb(table, r as Record<string, unknown>);
      rows.set(st.id, st);
    }
    (stored as Record<StateTable, Map<string, unknown>>)[table] = rows;
  }
  return { stored, lockedBookings };
}

/** Writes a folded batch: states, payment copies, status history, then the KPI deltas. Returns the KPI rows merged. */
export async function writeFold(
  client: PoolClient,
  fold: MartFold,
  lockedBookings: readonly string[],
): Promise<number> {
  const locked = new Set(lockedBookings);
  const unlocked = paymentCopyBookingIds(fold.payments).filter((id) => !locked.has(id));
  if (unlocked.length > 0) throw new Error(`bug: payment copies of unlocked bookings ${unlocked.join(', ')}`);

  for (const t of fold.states) {
    await run(client, upsertStatesSql(t.table, t.upserts));
    for (const s of deleteStatesSql(t.table, t.deletes)) await run(client, s);
  }
  for (const s of paymentCopySql(fold.payments)) await run(client, s);
  await run(client, releaseBookingRowsSql(lockedBookings));
  for (const s of replaceStatusHistorySql(fold.statusHistory.bookingIds, fold.statusHistory.rows))
    await run(client, s);

  await writeMetricDeltas(client, fold.deltas);
  return fold.deltas.length;
}

/** The KPI rows of a batch (metric-sql.ts planMetricWrite), in the transaction's lock order. */
export async function writeMetricDeltas(client: PoolClient, deltas: readonly Delta[]): Promise<void> {
  const plan = planMetricWrite(deltas);
  const transitions: MemberTransitionRow[] = [];
  for (const s of plan.memberUpserts)
    transitions.push(...((await client.query(s.text, s.values)).rows as MemberTransitionRow[]));
  const emptied: EmptiedRow[] = [];
  for (const s of plan.afterMembers(transitions))
    emptied.push(...((await client.query(s.text, s.values)).rows as EmptiedRow[]));
  for (const s of emptiedCleanupSql(emptied)) await run(client, s);
}
