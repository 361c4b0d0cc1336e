import type { Pool, PoolClient } from 'pg';
import type { ChangeEvent } from '../../decode/change-event.js';
import { delta, type Delta } from '../../project/metrics/delta.js';
import type { MetricSource } from '../../project/metrics/catalog.js';
import {
  eventRowId,
  nextState,
  type AnyState,
  type BookingState,
  type PaymentState,
  type StateTable,
} from '../../project/metrics/state.js';
import {
  compareIds,
  deleteStatesSql,
  selectStatesSql,
  stateFromDb,
  upsertStatesSql,
} from '../../project/metrics/state-sql.js';
import {
  catalogSyncStatements,
  planMetricWrite,
  type MemberTransitionRow,
  type SqlStatement,
} from '../../project/metrics/upsert-sql.js';
import {
  lockBookingRowsSql,
  paymentCopyBookingIds,
  paymentCopySql,
  releaseBookingRowsSql,
  replaceStatusHistorySql,
  statusHistory,
  type PaymentChange,
} from '../../project/bookings/mart-booking.js';
import { projectRowOrReject } from '../../project/metrics/project-or-reject.js';
import type { Metrics } from '../../observe/metrics.js';
import type { Rejection } from '../elasticsearch/es-sink.js';
import { touchedKeys, type MetricKey } from '../elasticsearch/kpi-mirror-doc.js';

/**
 * Tables in the order their state rows are locked (docs/kpis.md §11): payments before the shared
 * fact_booking rows, then the rest. Every worker follows it, so transactions never wait in a cycle.
 */
const ORDER = [
  'payments',
  'bookings',
  'ratings',
  'drivers',
  'passengers',
  'zones',
] as const satisfies readonly StateTable[];

interface RowGroup {
  table: StateTable;
  id: string;
  events: ChangeEvent[];
}

/**
 * The reporting mart as the transactional sink of a batch: reads the previous state of every row
 * the batch touches (locked), folds the events onto it, writes the new states, the booking facts,
 * status history and the KPI deltas, all inside the caller's transaction (which also advances the
 * offsets). An event whose row cannot be projected (truncate, unreadable value) is returned as a
 * rejection for the dead-letter topic and contributes nothing.
 */
export class MartSink {
  constructor(private readonly metrics: Metrics) {}

  /** Fills mart.metric_definition from the catalog; once at start. */
  static async syncCatalog(pool: Pool): Promise<void> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      for (const s of catalogSyncStatements()) await client.query(s.text, s.values);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async apply(
    client: PoolClient,
    events: readonly ChangeEvent[],
  ): Promise<{ rejected: Rejection[]; touched: MetricKey[] }> {
    const rejected: Rejection[] = [];
    const groups = groupByRow(events, rejected);
    const run = (s: SqlStatement | null) => (s ? client.query(s.text, s.values) : Promise.resolve());

    const deltas: Delta[] = [];
    const paymentChanges: PaymentChange[] = [];
    const bookingIds: string[] = [];
    const history: ReturnType<typeof statusHistory> = [];
    const writes: SqlStatement[] = [];
    let locked: string[] = [];

    for (const table of ORDER) {
      const rows = groups.filter((g) => g.table === table).sort((a, b) => compareIds(a.id, b.id));
      if (table === 'bookings') {
        locked = [...rows.map((g) => g.id), ...paymentCopyBookingIds(paymentChanges)];
        await run(lockBookingRowsSql(locked));
      }
      if (rows.length === 0) continue;
      const sel = selectStatesSql(
        table,
        rows.map((g) => g.id),
      );
      const prevs = new Map<string, AnyState>();
      for (const r of (await client.query(sel.text, sel.values)).rows) {
        const st = stateFromDb(table, r as Record<string, unknown>);
        prevs.set(st.id, st);
      }
      const upserts: AnyState[] = [];
      const deletes: string[] = [];
      for (const g of rows) {
        const prev = prevs.get(g.id) ?? null;
        const { next, deltas: d } = projectRowOrReject(table, prev, g.events, rejected);
        deltas.push(...d);
        if (next) upserts.push(next);
        else if (prev) deletes.push(g.id);
        if (table === 'payments')
          paymentChanges.push({ prev: prev as PaymentState | null, next: next as PaymentState | null });
        if (table === 'bookings') {
          bookingIds.push(g.id);
          history.push(...statusHistory(next as BookingState | null));
        }
      }
      const up = upsertStatesSql(table, upserts);
      if (up) writes.push(up);
      writes.push(...deleteStatesSql(table, deletes));
    }

    for (const s of writes) await run(s);
    for (const s of paymentCopySql(paymentChanges)) await run(s);
    await run(releaseBookingRowsSql(locked));
    for (const s of replaceStatusHistorySql(bookingIds, history)) await run(s);

    const plan = planMetricWrite(deltas);
    const transitions: MemberTransitionRow[] = [];
    for (const s of plan.memberUpserts)
      transitions.push(...((await client.query(s.text, s.values)).rows as MemberTransitionRow[]));
    const after = plan.afterMembers(transitions);
    for (const s of after) await run(s);
    this.metrics.martRowsMerged.inc({ table: 'fact_metric_bucket' }, deltas.length);
    return { rejected, touched: touchedKeys(deltas) };
  }
}

function groupByRow(events: readonly ChangeEvent[], rejected: Rejection[]): RowGroup[] {
  const groups = new Map<string, RowGroup>();
  for (const e of events) {
    if (!(ORDER as readonly string[]).includes(e.table)) continue;
    const id = eventRowId(e);
    if (id === null) {
      rejected.push({
        origin: { topic: e.topic, partition: e.partition, offset: e.offset },
        reason: 'mart: event without a row id',
      });
      continue;
    }
    const k = `${e.table}|${id}`;
    let g = groups.get(k);
    if (!g) {
      g = { table: e.table as StateTable, id, events: [] };
      groups.set(k, g);
    }
    g.events.push(e);
  }
  return [...groups.values()];
}
