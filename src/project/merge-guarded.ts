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
  return { doc, stale, changed: JSON.stringify(sorted(doc)) !== JSON.stringify(sorted(current)) };
}

const sorted = (d: Record<string, unknown> | null) =>
  d && Object.entries(d).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
