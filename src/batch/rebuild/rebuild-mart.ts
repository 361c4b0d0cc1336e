import type pg from 'pg';
import { describeOtherSessions, LOCK_NOT_AVAILABLE } from '../../db/pg.js';
import type { ChangeEvent } from '../../decode/change-event.js';
import { CATALOG } from '../../project/metrics/catalog.js';
import { foldMart, rowsTouched } from '../../project/mart-fold.js';
import { isStateTable, type StateTable } from '../../project/metrics/state.js';
import { readStoredStates, writeFold } from '../../sink/mart/mart-writes.js';
import { setPositionSql } from '../../sink/mart/sql/offsets-sql.js';
import { STATE_SQL } from '../../sink/mart/sql/state-sql.js';
import { BACKFILL_LOCK_ORDER, backfillInTransaction, type BackfillResult } from '../backfill/backfill.js';
import { rebuildEvents } from './rebuild-events.js';
import type { SourceSnapshot } from './snapshot.js';

/** A partition's end offset, read before the source rows: where the workers resume. */
export interface EndOffset {
  topic: string;
  partition: number;
  high: string;
}

export interface MartRebuildResult {
  /** Per table: rows in the source now, states removed. */
  tables: { table: string; rows: number; removed: number }[];
  backfills: Omit<BackfillResult, 'ms'>[];
  positions: EndOffset[];
}

/** Every KPI that reads one of the tables. */
export function metricsReading(tables: readonly string[]): typeof CATALOG {
  return CATALOG.filter((m) => m.parts.some((p) => tables.includes(p.source)));
}

/**
 * The mart side of a rebuild, in ONE reporting_db transaction: the tables' stored states become
 * the current source rows (through the worker's own fold, so payment copies and status history
 * follow), every KPI reading them is backfilled from the new states, and the tables' stored
 * positions move to the end offsets read before the source rows. Events after those offsets are
 * applied again by the workers on top (deltas against the stored states telescope).
 * The tables are locked against writes for the transaction; the workers must be stopped anyway.
 */
export async function rebuildMart(
  pool: pg.Pool,
  groupId: string,
  snapshot: SourceSnapshot,
  ends: readonly EndOffset[],
  opts: { lockTimeoutMs?: number } = {},
): Promise<MartRebuildResult> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await lockMart(c, opts.lockTimeoutMs ?? REBUILD_LOCK_TIMEOUT_MS);
    const events: ChangeEvent[] = [];
    const tables: MartRebuildResult['tables'] = [];
    for (const [table, rows] of snapshot.rows) {
      if (!isStateTable(table)) continue;
      const stored = await storedIds(c, table);
      const evs = rebuildEvents(table, 'id', rows, stored);
      tables.push({ table, rows: rows.length, removed: evs.length - rows.length });
      events.push(...evs);
    }
    const touched = rowsTouched(events);
    const { stored, lockedBookings } = await readStoredStates(c, touched);
    const fold = foldMart(touched, stored);
    if (fold.rejected.length > 0)
      throw new Error(
        `${fold.rejected.length} source rows cannot be projected (nothing was changed): ` +
          fold.rejected
            .slice(0, 5)
            .map((r) => `row #${r.origin.offset}: ${r.reason}`)
            .join('; '),
      );
    await writeFold(c, fold, lockedBookings);
    const backfills: MartRebuildResult['backfills'] = [];
    for (const m of metricsReading([...snapshot.rows.keys()]))
      backfills.push(await backfillInTransaction(c, m));
    for (const e of ends) {
      const s = setPositionSql(groupId, e.topic, e.partition, e.high);
      await c.query(s.text, s.values);
    }
    await c.query('COMMIT');
    return { tables, backfills, positions: [...ends] };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

/** How long the rebuild waits for its table locks before it names who holds them. */
export const REBUILD_LOCK_TIMEOUT_MS = 60_000;

/**
 * Locks the mart's tables against writes for the transaction. The workers are stopped, but a
 * stopped worker's last statement can still be running inside PostgreSQL (it only notices the
 * closed connection when it answers): waiting for it is right, waiting without end is not. After
 * `timeoutMs` the rebuild fails, changes nothing and names the sessions in its way.
 */
async function lockMart(c: pg.PoolClient, timeoutMs: number): Promise<void> {
  await c.query(`SET LOCAL lock_timeout = ${Math.round(timeoutMs)}`);
  try {
    await c.query(
      `LOCK TABLE ${[...BACKFILL_LOCK_ORDER, 'mart.dim_zone', 'mart.booking_status_history', 'mart.consumer_offsets'].join(', ')} IN SHARE ROW EXCLUSIVE MODE`,
    );
  } catch (err) {
    if ((err as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw err;
    // The transaction is aborted; its own connection reads who is in the way (the pool may have one).
    await c.query('ROLLBACK');
    const others = await describeOtherSessions(c).catch(() => '(could not read pg_stat_activity)');
    throw new Error(
      `the mart's tables stayed locked for ${timeoutMs / 1000} s, nothing was changed; ` +
        `sessions at work in this database: ${others || 'none any more'}. ` +
        `Wait for them to finish (or pg_cancel_backend(pid)), then run the command again`,
      { cause: err },
    );
  }
}

async function storedIds(c: Pick<pg.ClientBase, 'query'>, table: StateTable): Promise<string[]> {
  const s = STATE_SQL[table];
  const r = await c.query<{ id: string }>(
    `SELECT ${s.key}::text AS id FROM ${s.table}${s.presentFlag ? ` WHERE ${s.presentFlag}` : ''}`,
  );
  return r.rows.map((x) => x.id);
}
