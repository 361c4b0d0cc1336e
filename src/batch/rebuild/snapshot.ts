import type pg from 'pg';
import type { Row } from '../../decode/change-event.js';
import { readSourceRows } from './source-rows.js';

/** The key column of each captured table (driver_locations is keyed by its driver). */
export const KEY_COLUMN: Readonly<Record<string, string>> = {
  zones: 'id',
  passengers: 'id',
  drivers: 'id',
  driver_locations: 'driver_id',
  bookings: 'id',
  payments: 'id',
  ratings: 'id',
};

/** The tables a rebuild of `table` reads: the views it feeds may be shared with another table. */
export function tablesToRead(table: string): string[] {
  // The driver's latest document is one view over drivers and driver_locations.
  if (table === 'drivers' || table === 'driver_locations') return ['drivers', 'driver_locations'];
  return [table];
}

export interface SourceSnapshot {
  /** The rebuilt tables' current rows, decoder form. */
  rows: Map<string, Row[]>;
  /** Rows of other tables a shared view needs (not rebuilt in the mart). */
  extra: Map<string, Row[]>;
}

/**
 * Reads the rows in one REPEATABLE READ transaction: one consistent instant of the source for
 * every table, taken after the end offsets were read.
 */
export async function readSnapshot(source: pg.Pool, tables: readonly string[]): Promise<SourceSnapshot> {
  const c = await source.connect();
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const rows = new Map<string, Row[]>();
    const extra = new Map<string, Row[]>();
    for (const t of tables) rows.set(t, await readSourceRows(c, t, KEY_COLUMN[t]!));
    for (const t of new Set(tables.flatMap(tablesToRead)))
      if (!rows.has(t)) extra.set(t, await readSourceRows(c, t, KEY_COLUMN[t]!));
    await c.query('COMMIT');
    return { rows, extra };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}
