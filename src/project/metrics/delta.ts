import type { Row } from '../../decode/change-event.js';
import {
  addScaled,
  formatCanonical,
  mulInt,
  normalize,
  parseDecimal,
  type Scaled,
} from '../../shared/decimal.js';
import type { MetricSource } from './catalog.js';
import {
  type AdditiveContribution,
  type Contribution,
  contributions,
  type MemberContribution,
  partsThatMayDiffer,
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
  const items: Keyed[] = [];
  for (const d of deltas) items.push({ key: deltaKey(d), d });
  return mergeKeyed(items);
}

/** A delta with its deltaKey, computed once. */
interface Keyed {
  readonly key: string;
  readonly d: Delta;
}

const byKey = (a: Keyed, b: Keyed) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * mergeDeltas on deltas whose keys are known. Sorted by key (a stable sort: each run of equal keys
 * starts with its first delta), then each run summed. Most keys occur once: that delta is kept as
 * is (amounts in canonical form), and only runs do arithmetic.
 */
function mergeKeyed(items: Keyed[]): Delta[] {
  items.sort(byKey);
  const out: Delta[] = [];
  for (let i = 0; i < items.length;) {
    const { key, d } = items[i]!;
    let j = i + 1;
    while (j < items.length && items[j]!.key === key) j++;
    if (d.kind === 'member') {
      let ref = d.ref;
      for (let k = i + 1; k < j; k++) ref += (items[k]!.d as MemberDelta).ref;
      if (ref !== 0) out.push(ref === d.ref ? d : { ...d, ref });
    } else {
      const n = j === i + 1 ? normalize(d.num) : sumRun(items, i, j, 'num');
      const m = j === i + 1 ? normalize(d.den) : sumRun(items, i, j, 'den');
      if (n !== '0' || m !== '0') out.push(n === d.num && m === d.den ? d : { ...d, num: n, den: m });
    }
    i = j;
  }
  return out;
}

/** Integers of up to 12 digits: a run of fewer than 1,000 of them sums exactly in a double. */
const SMALL_INT_RE = /^-?\d{1,12}$/;

/** Exact canonical sum of one amount over items[from, to). */
function sumRun(items: readonly Keyed[], from: number, to: number, side: 'num' | 'den'): string {
  if (to - from < 1000) {
    let sum = 0;
    let small = true;
    for (let k = from; k < to && small; k++) {
      const v = (items[k]!.d as AdditiveDelta)[side];
      if (SMALL_INT_RE.test(v)) sum += Number(v);
      else small = false;
    }
    // String(-0) is "0": the canonical zero.
    if (small) return String(sum);
  }
  let acc: Scaled = parseDecimal((items[from]!.d as AdditiveDelta)[side]);
  for (let k = from + 1; k < to; k++)
    acc = addScaled(acc, parseDecimal((items[k]!.d as AdditiveDelta)[side]));
  return formatCanonical(acc);
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
  // Only parts whose contributions may differ can contribute anything but zero (exact: the others
  // give identical contributions on both sides). Inserts and deletes evaluate every part.
  const parts = prev !== null && nextState !== null ? partsThatMayDiffer(source, prev, nextState) : undefined;
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
  const rest: Keyed[] = [];
  for (const c of added) {
    const key = deltaKey(c);
    const b = before.get(key);
    if (b !== undefined && !repeated.has(key) && sameAmount(b, c)) before.delete(key);
    else rest.push({ key, d: c });
  }
  for (const [key, c] of before) {
    if (repeated.has(key)) continue;
    rest.push({ key, d: scaleDelta(c, -1) });
  }
  for (const c of removed) {
    const key = deltaKey(c);
    if (repeated.has(key)) rest.push({ key, d: scaleDelta(c, -1) });
  }
  return mergeKeyed(rest);
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
