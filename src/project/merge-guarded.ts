/**
 * A document that several events correct over time (a booking's step document): each write is a
 * partial merge (fields an event does not carry — TOAST-unchanged ones — keep their stored
 * values) that applies only when its source LSN is not older than the stored document's
 * `source_lsn`. So a stale write — a worker that lost its partition while it retried
 * Elasticsearch and writes after the new owner — changes nothing, in whatever order writes land.
 * Pure, so the sink can re-run it after an optimistic-concurrency conflict.
 */
export interface GuardedUpdate {
  doc: Record<string, unknown>;
  lsn: number;
}

export interface GuardedMerge {
  doc: Record<string, unknown> | null;
  stale: number;
  changed: boolean;
}

export function mergeGuarded(
  current: Record<string, unknown> | null,
  updates: readonly GuardedUpdate[],
): GuardedMerge {
  let doc = current;
  let stale = 0;
  for (const u of updates) {
    const stored = doc?.source_lsn;
    if (typeof stored === 'number' && stored > u.lsn) {
      stale++;
      continue;
    }
    doc = { ...doc, ...u.doc, source_lsn: u.lsn };
  }
  return { doc, stale, changed: !sameDoc(doc, current) };
}

/**
 * Whether two documents hold the same fields and values, whatever their key order. Compared field
 * by field (serializing both documents and sorting their keys cost the worker more than the merge;
 * only a nested value, such as a geo point, is compared by its JSON). A field set to null or
 * undefined equals the other, as in JSON; an absent field differs from both.
 */
export function sameDoc(a: Record<string, unknown> | null, b: Record<string, unknown> | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) if (!Object.hasOwn(b, k) || !sameValue(a[k], b[k])) return false;
  return true;
}

function sameValue(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (x === null || x === undefined || y === null || y === undefined)
    return (x === null || x === undefined) && (y === null || y === undefined);
  if (typeof x !== 'object' || typeof y !== 'object') return false;
  return JSON.stringify(x) === JSON.stringify(y);
}
