import type { Row } from '../../decode/change-event.js';
import { addScaled, formatCanonical, mulInt, parseDecimal, type Scaled } from '../../shared/decimal.js';
import type { MetricSource } from './catalog.js';
import {
  type AdditiveContribution,
  type Contribution,
  contributions,
  type MemberContribution,
} from './contributions.js';
import { mergeState, type StateOf } from './state.js';

/**
 * Deltas: the signed difference between two sets of contributions, merged by key.
 *
 *   delta(prev, next) = contributions(next) − contributions(prev)
 *
 * Because the mart is Σ contributions(current rows) and deltas telescope
 * (delta(a,b) + delta(b,c) = delta(a,c)), any path through the row's states — snapshot reads,
 * skipped intermediate states, corrections, deletes, duplicate deliveries — lands on exactly
 * contributions(final state). A duplicate event gives next = prev and so an empty delta.
 */

export type Delta = Contribution;
export type AdditiveDelta = AdditiveContribution;
export type MemberDelta = MemberContribution;

/** Stable identity of the mart row a delta touches (the member for distinct references). */
export function deltaKey(d: Delta): string {
  const base = `${d.granularity}|${d.bucketStart ?? ''}|${d.metric}|${d.dimension}`;
  return d.kind === 'add' ? `A|${base}` : `M|${base}|${d.member}`;
}

/**
 * Total order used for every write: by deltaKey (granularity, bucket, metric, dimension, member).
 * All workers send mart rows in this order, so concurrent batches lock rows in the same order and
 * cannot deadlock on each other.
 */
export function compareDeltas(a: Delta, b: Delta): number {
  const x = deltaKey(a);
  const y = deltaKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Scales a delta by an integer (−1 to subtract). */
export function scaleDelta(d: Delta, k: number): Delta {
  return d.kind === 'add' ? { ...d, num: mulInt(d.num, k), den: mulInt(d.den, k) } : { ...d, ref: d.ref * k };
}

/**
 * Sums deltas with the same key, drops the ones that cancel out and sorts by key (compareDeltas). A
 * batch merged this way does one upsert per mart row, in a deterministic order.
 */
export function mergeDeltas(deltas: Iterable<Delta>): Delta[] {
  // Accumulate as scaled integers: parsing each decimal once, formatting each result once.
  const acc = new Map<string, { d: Delta; num: Scaled; den: Scaled; ref: number }>();
  for (const d of deltas) {
    const key = deltaKey(d);
    const cur = acc.get(key);
    if (d.kind === 'add') {
      const num = parseDecimal(d.num);
      const den = parseDecimal(d.den);
      if (!cur) acc.set(key, { d, num, den, ref: 0 });
      else {
        cur.num = addScaled(cur.num, num);
        cur.den = addScaled(cur.den, den);
      }
    } else if (!cur) acc.set(key, { d, num: ZERO, den: ZERO, ref: d.ref });
    else cur.ref += d.ref;
  }
  const out: Delta[] = [];
  for (const key of [...acc.keys()].sort()) {
    const { d, num, den, ref } = acc.get(key) as { d: Delta; num: Scaled; den: Scaled; ref: number };
    if (d.kind === 'member') {
      if (ref !== 0) out.push({ ...d, ref });
    } else if (num.unscaled !== 0n || den.unscaled !== 0n) {
      out.push({ ...d, num: formatCanonical(num), den: formatCanonical(den) });
    }
  }
  return out;
}

const ZERO: Scaled = { unscaled: 0n, scale: 0 };

/**
 * contributions(next) − contributions(prev) for one source row. `next` may be a raw `after` image:
 * it is merged onto `prev` first, so UNCHANGED (TOAST) columns take the previous value. null means
 * the row is absent (prev: never seen; next: deleted).
 */
export function delta<T extends MetricSource>(
  source: T,
  prev: StateOf[T] | null,
  next: StateOf[T] | Row | null,
): Delta[] {
  const nextState = next === null ? null : mergeState(source, prev, next as Row);
  const added = contributions(source, nextState);
  const removed = contributions(source, prev);
  if (removed.length === 0) return mergeDeltas(added);
  if (added.length === 0) return mergeDeltas(removed.map((c) => scaleDelta(c, -1)));
  // Most of a row's contributions are the same before and after a change (an accepted booking is
  // still requested in the same minute): cancel identical ones by text before exact arithmetic.
  const before = new Map<string, Delta>();
  const repeated = new Set<string>();
  for (const c of removed) {
    const k = deltaKey(c);
    if (before.has(k)) repeated.add(k);
    before.set(k, c);
  }
  const rest: Delta[] = [];
  for (const c of added) {
    const k = deltaKey(c);
    const b = before.get(k);
    if (b !== undefined && !repeated.has(k) && sameAmount(b, c)) before.delete(k);
    else rest.push(c);
  }
  for (const [k, c] of before) {
    if (repeated.has(k)) continue;
    rest.push(scaleDelta(c, -1));
  }
  for (const c of removed) if (repeated.has(deltaKey(c))) rest.push(scaleDelta(c, -1));
  return mergeDeltas(rest);
}

function sameAmount(a: Delta, b: Delta): boolean {
  return a.kind === 'add' && b.kind === 'add'
    ? a.num === b.num && a.den === b.den
    : a.kind === 'member' && b.kind === 'member' && a.ref === b.ref && a.part === b.part;
}

/** Splits merged deltas into the three mart targets, each still sorted. */
export function splitDeltas(deltas: readonly Delta[]): {
  buckets: AdditiveDelta[];
  gauges: AdditiveDelta[];
  members: MemberDelta[];
} {
  const buckets: AdditiveDelta[] = [];
  const gauges: AdditiveDelta[] = [];
  const members: MemberDelta[] = [];
  for (const d of deltas) {
    if (d.kind === 'member') members.push(d);
    else if (d.granularity === 'CURRENT') gauges.push(d);
    else buckets.push(d);
  }
  return { buckets, gauges, members };
}
