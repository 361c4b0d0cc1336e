import type { DriverDelete, DriverPart, DriverPatch } from '../intents.js';

/**
 * The driver's latest document is fed by two tables whose topics have no order between them, so
 * a single external version cannot guard it: a status change at LSN 110 must not be rejected just
 * because a location at LSN 120 was written first. Each part keeps its own LSN instead; a patch
 * applies only if it is newer than the part it replaces. Pure, so the sink can re-run it after an
 * optimistic-concurrency conflict.
 *
 * A deleted driver leaves a tombstone (its delete LSN, kept by the sink outside the document,
 * src/sink/elasticsearch/es-sink.ts): the delete must win over every older patch whichever order
 * they arrive in — a location written before the delete but processed after it, the cascaded
 * location delete — and lose to newer ones (a row inserted again with the same id). So every part
 * at or below the tombstone's LSN is removed, every patch at or below it is stale, and a document
 * left with neither a status part nor a location is no document at all.
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
  /** The tombstone after these operations: the newest delete LSN seen (null: never deleted). */
  tombstone: number | null;
}

const LSN_FIELD: Record<DriverPart, 'location_lsn' | 'status_lsn'> = {
  location: 'location_lsn',
  status: 'status_lsn',
};

/** The fields each part owns (projectDriver / projectDriverLocation write exactly these). */
export const PART_FIELDS: Record<DriverPart, readonly string[]> = {
  status: [
    'status',
    'vehicle_type',
    'home_zone_id',
    'full_name',
    'plate_number',
    'status_updated_at',
    'status_lsn',
  ],
  location: ['location', 'heading', 'speed_kmh', 'zone_id', 'location_updated_at', 'location_lsn'],
};

/** A document shows a driver while it holds the drivers row's part or a known position. */
function isLive(doc: DriverDoc): boolean {
  return doc.status_lsn !== undefined || (doc.location ?? null) !== null;
}

function finish(doc: DriverDoc): DriverDoc {
  const lsns = [doc.status_lsn, doc.location_lsn].filter((x): x is number => x !== undefined);
  if (lsns.length > 0) doc.source_lsn = Math.max(...lsns);
  else delete doc.source_lsn;
  const times = [doc.location_updated_at, doc.status_updated_at].filter(
    (t): t is string => typeof t === 'string',
  );
  doc.updated_at = times.length > 0 ? times.sort().at(-1)! : null;
  return doc;
}

/** Removes every part written at or before the tombstone. */
function strip(doc: DriverDoc, tombstone: number): DriverDoc {
  const out: DriverDoc = { ...doc };
  for (const part of ['status', 'location'] as const) {
    const lsn = out[LSN_FIELD[part]];
    if (lsn !== undefined && lsn <= tombstone) for (const f of PART_FIELDS[part]) delete out[f];
  }
  return finish(out);
}

const same = (a: DriverDoc | null, b: DriverDoc | null): boolean =>
  JSON.stringify(a && Object.entries(a).sort(([x], [y]) => (x < y ? -1 : 1))) ===
  JSON.stringify(b && Object.entries(b).sort(([x], [y]) => (x < y ? -1 : 1)));

/**
 * `current`: the stored document; `tombstone`: the stored delete LSN of this driver (null: none).
 * The result does not depend on the order of `ops` nor on which writer stored what first.
 */
export function mergeDriverDoc(
  current: DriverDoc | null,
  ops: readonly (DriverPatch | DriverDelete)[],
  tombstone: number | null = null,
): MergeResult {
  let t = tombstone;
  let stale = 0;
  for (const op of ops) if (op.kind === 'driver-delete') t = t === null ? op.lsn : Math.max(t, op.lsn);
  let doc: DriverDoc | null = current && t !== null ? strip(current, t) : current ? { ...current } : null;
  for (const op of ops) {
    if (op.kind === 'driver-delete') continue;
    const lsnField = LSN_FIELD[op.part];
    if ((t !== null && op.lsn <= t) || (doc && (doc[lsnField] ?? -1) >= op.lsn)) {
      stale++;
      continue;
    }
    doc = finish({ ...(doc ?? { driver_id: Number(op.driverId) }), ...op.fields, [lsnField]: op.lsn });
  }
  if (doc && !isLive(doc)) doc = null;
  // A delete that leaves a document behind lost to a newer part (a row inserted again).
  for (const op of ops)
    if (op.kind === 'driver-delete' && doc && Math.max(doc.status_lsn ?? -1, doc.location_lsn ?? -1) > op.lsn)
      stale++;
  return { doc, stale, changed: !same(current, doc), tombstone: t };
}
