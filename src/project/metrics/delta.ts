import type { Row } from '../../decode/change-event.js';
import { addScaled, formatCanonical, mulInt, parseDecimal, type Scaled } from '../../shared/decimal.js';
import type { MetricSource } from './catalog.js';
import {
  type AdditiveContribution,
  type Contribution,
  contributions,
  type MemberContribution,
  partsWithChangedInputs,
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
  // Most keys occur once: keep the delta as is and only do exact arithmetic (scaled integers,
  // each decimal parsed once, each result formatted once) for keys that repeat.
  const acc = new Map<string, Entry>();
  for (const d of deltas) {
    const key = deltaKey(d);
    const cur = acc.get(key);
    if (!cur) {
      acc.set(key, { d, num: null, den: null, ref: d.kind === 'member' ? d.ref : 0 });
    } else if (d.kind === 'add') {
      const first = cur.d as AdditiveDelta;
      cur.num = addScaled(cur.num ?? parseDecimal(first.num), parseDecimal(d.num));
      cur.den = addScaled(cur.den ?? parseDecimal(first.den), parseDecimal(d.den));
    } else cur.ref += d.ref;
  }
  const out: Delta[] = [];
  for (const key of [...acc.keys()].sort()) {
    const { d, num, den, ref } = acc.get(key)!;
    if (d.kind === 'member') {
      if (ref !== 0) out.push(ref === d.ref ? d : { ...d, ref });
      continue;
    }
    const n = num === null ? canonicalText(d.num) : formatCanonical(num);
    const m = den === null ? canonicalText(d.den) : formatCanonical(den);
    if (n === '0' && m === '0') continue;
    out.push(n === d.num && m === d.den ? d : { ...d, num: n, den: m });
  }
  return out;
}

interface Entry {
  d: Delta;
  /** Exact running sums, once a key repeats (null: just d's own amounts). */
  num: Scaled | null;
  den: Scaled | null;
  ref: number;
}

/** Canonical integers ("0", "1", "-3") are the common amounts; they are their own canonical form. */
const CANONICAL_INT = /^(?:0|-?[1-9]\d*)$/;

function canonicalText(s: string): string {
  return CANONICAL_INT.test(s) ? s : formatCanonical(parseDecimal(s));
}

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
  // Only parts whose inputs changed can contribute anything but zero (exact: the others give
  // identical contributions on both sides). Inserts and deletes evaluate every part.
  const parts =
    prev !== null && nextState !== null ? partsWithChangedInputs(source, prev, nextState) : undefined;
  if (parts?.length === 0) return [];
  const added = contributions(source, nextState, parts);
  const removed = contributions(source, prev, parts);
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
