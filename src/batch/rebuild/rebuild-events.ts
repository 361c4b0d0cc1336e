import type { ChangeEvent, Row } from '../../decode/change-event.js';
import { stateValue } from '../../project/metrics/state.js';

/**
 * A table's rebuild as change events, so the worker's own projections (the mart fold, the
 * Elasticsearch intents) do the work and no second definition of a view exists: every current
 * source row is a snapshot read ('r'), every row the mart still holds but the source no longer
 * has is a delete ('d').
 *
 * LSN 0: a rebuilt view yields to every real event after it. After the rebuild the worker resumes
 * at the end offsets read before the source rows, so events it applies again may be older than
 * the rows read; each is applied as a delta against the stored state (deltas telescope) and every
 * Elasticsearch write is guarded by the event's LSN, so the views end at the newest event either
 * way (docs/schema-changes.md#truncate).
 */
export const REBUILD_LSN = 0;
export const REBUILD_TOPIC = 'ride-cdc.rebuild';

function event(table: string, op: 'r' | 'd', key: Row, after: Row | null, n: number): ChangeEvent {
  return {
    table,
    op,
    key,
    before: null,
    after,
    sourceTsMs: Date.now(),
    lsn: REBUILD_LSN,
    txId: null,
    snapshot: true,
    topic: REBUILD_TOPIC,
    partition: 0,
    offset: String(n),
  };
}

/**
 * `rows`: the current source rows (decoder form, src/batch/rebuild/source-rows.ts); `storedIds`:
 * the ids the mart holds a state for. Returns one event per id of either set.
 */
export function rebuildEvents(
  table: string,
  keyColumn: string,
  rows: readonly Row[],
  storedIds: readonly string[] = [],
): ChangeEvent[] {
  const out: ChangeEvent[] = [];
  const present = new Set<string>();
  for (const row of rows) {
    const id = stateValue(row[keyColumn]);
    if (id === null) throw new Error(`source row of ${table} without ${keyColumn}`);
    present.add(id);
    out.push(event(table, 'r', { [keyColumn]: id }, row, out.length));
  }
  for (const id of storedIds)
    if (!present.has(id)) out.push(event(table, 'd', { [keyColumn]: id }, null, out.length));
  return out;
}
