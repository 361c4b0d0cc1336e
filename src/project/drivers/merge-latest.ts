import type { DriverDelete, DriverPart, DriverPatch } from '../intents.js';

/**
 * The driver's latest document is fed by two tables whose topics have no order between them, so
 * a single external version cannot guard it: a status change at LSN 110 must not be rejected just
 * because a location at LSN 120 was written first. Each part keeps its own LSN instead; a patch
 * applies only if it is newer than the part it replaces. Pure, so the sink can re-run it after an
 * optimistic-concurrency conflict.
 */
export interface DriverDoc {
  driver_id: number;
  location_lsn?: number;
  status_lsn?: number;
  /** Latest source position of any part; lets a reader see how fresh the document is. */
  source_lsn?: number;
  updated_at?: string | null;
  [field: string]: unknown;
}

export interface MergeResult {
  doc: DriverDoc | null;
  /** Patches skipped because the document already held that part at the same or a newer LSN. */
  stale: number;
  changed: boolean;
}

const LSN_FIELD: Record<DriverPart, 'location_lsn' | 'status_lsn'> = {
  location: 'location_lsn',
  status: 'status_lsn',
};

export function mergeDriverDoc(
  current: DriverDoc | null,
  ops: readonly (DriverPatch | DriverDelete)[],
): MergeResult {
  let doc: DriverDoc | null = current ? { ...current } : null;
  let stale = 0;
  let changed = false;
  for (const op of ops) {
    if (op.kind === 'driver-delete') {
      if (doc && (doc.source_lsn ?? 0) > op.lsn) {
        stale++;
        continue;
      }
      if (doc) changed = true;
      doc = null;
      continue;
    }
    const lsnField = LSN_FIELD[op.part];
    if (doc && (doc[lsnField] ?? -1) >= op.lsn) {
      stale++;
      continue;
    }
    doc = { ...(doc ?? { driver_id: Number(op.driverId) }), ...op.fields, [lsnField]: op.lsn };
    doc.source_lsn = Math.max(doc.source_lsn ?? 0, op.lsn);
    const times = [doc.location_updated_at, doc.status_updated_at].filter(
      (t): t is string => typeof t === 'string',
    );
    doc.updated_at = times.length > 0 ? times.sort().at(-1)! : null;
    changed = true;
  }
  return { doc, stale, changed };
}
