import type { Row } from '../../decode/change-event.js';
import {
  addScaled,
  formatCanonical,
  mulInt,
  neg,
  normalize,
  parseDecimal,
  type Scaled,
} from '../../shared/decimal.js';
import { partsReading, type MetricSource } from './catalog.js';
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
  for (const d of deltas) items.push({ key: deltaKey(d), d, sign: 1 });
  return mergeKeyed(items);
}

/** A delta with its deltaKey, computed once, and whether it is added (1) or subtracted (−1). */
interface Keyed {
  readonly key: string;
  readonly d: Delta;
  readonly sign: 1 | -1;
}

const byKey = (a: Keyed, b: Keyed) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * Σ sign·delta per key, zeros dropped, sorted by key. A stable sort puts each key's deltas in one
 * run; most keys occur once (the delta is kept, amounts canonical), a subtracted and an added
 * delta of the same text cancel without arithmetic, and only other runs are summed exactly.
 */
function mergeKeyed(items: Keyed[]): Delta[] {
  items.sort(byKey);
  const out: Delta[] = [];
  for (let i = 0; i < items.length;) {
    const { key, d, sign } = items[i]!;
    let j = i + 1;
    while (j < items.length && items[j]!.key === key) j++;
    if (d.kind === 'member') {
      let ref = sign * d.ref;
      for (let k = i + 1; k < j; k++) ref += items[k]!.sign * (items[k]!.d as MemberDelta).ref;
      if (ref !== 0) out.push(ref === d.ref ? d : { ...d, ref });
    } else if (j === i + 1) {
      const n = sign === 1 ? normalize(d.num) : neg(d.num);
      const m = sign === 1 ? normalize(d.den) : neg(d.den);
      if (n !== '0' || m !== '0') out.push(n === d.num && m === d.den ? d : { ...d, num: n, den: m });
    } else if (!(j === i + 2 && cancels(items[i]!, items[i + 1]!))) {
      const n = sumRun(items, i, j, 'num');
      const m = sumRun(items, i, j, 'den');
      if (n !== '0' || m !== '0') out.push(n === d.num && m === d.den ? d : { ...d, num: n, den: m });
    }
    i = j;
  }
  return out;
}

/** The same amounts, once subtracted and once added (a contribution a change left as it was). */
function cancels(a: Keyed, b: Keyed): boolean {
  const x = a.d as AdditiveDelta;
  const y = b.d as AdditiveDelta;
  return a.sign === -b.sign && x.num === y.num && x.den === y.den;
}

/** Integers of up to 12 digits: a run of fewer than 1,000 of them sums exactly in a double. */
const SMALL_INT_RE = /^-?\d{1,12}$/;

/** Exact canonical Σ sign·amount over items[from, to). */
function sumRun(items: readonly Keyed[], from: number, to: number, side: 'num' | 'den'): string {
  if (to - from < 1000) {
    let sum = 0;
    let small = true;
    for (let k = from; k < to && small; k++) {
      const v = (items[k]!.d as AdditiveDelta)[side];
      if (SMALL_INT_RE.test(v)) sum += items[k]!.sign * Number(v);
      else small = false;
    }
    // String(-0) is "0": the canonical zero.
    if (small) return String(sum);
  }
  let acc: Scaled = { unscaled: 0n, scale: 0 };
  for (let k = from; k < to; k++) {
    const v = parseDecimal((items[k]!.d as AdditiveDelta)[side]);
    acc = addScaled(acc, items[k]!.sign === 1 ? v : { unscaled: -v.unscaled, scale: v.scale });
  }
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
  kpis?: ReadonlySet<string>,
): Delta[] {
  const nextState = next === null ? null : mergeState(source, prev, next as Row);
  // Only parts whose contributions may differ can contribute anything but zero (exact: the others
  // give identical contributions on both sides). Inserts and deletes evaluate every part (of the
  // KPIs maintained, `kpis`; absent: the whole catalog).
  const parts =
    prev !== null && nextState !== null
      ? partsThatMayDiffer(source, prev, nextState, kpis)
      : kpis && partsReading(source).filter((p) => kpis.has(p.metric.name));
  if (parts?.length === 0) return [];
  const added = contributions(source, nextState, parts);
  const removed = contributions(source, prev, parts);
  const items: Keyed[] = [];
  for (const c of added) items.push({ key: deltaKey(c), d: c, sign: 1 });
  for (const c of removed) items.push({ key: deltaKey(c), d: c, sign: -1 });
  return mergeKeyed(items);
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
