import type { ChangeEvent, Row } from '../../decode/change-event.js';
import { add, isZero, mulInt, normalize } from '../../shared/decimal.js';
import type { MetricSource } from './catalog.js';
import {
  type AdditiveContribution,
  type Contribution,
  contributions,
  type MemberContribution,
} from './contributions.js';
import { foldEvents, mergeState, type StateOf } from './state.js';

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

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Total order used for every write: granularity, bucket, metric, dimension, member. All workers
 * lock mart rows in this order, so concurrent batches cannot deadlock on each other.
 */
export function compareDeltas(a: Delta, b: Delta): number {
  return (
    cmp(a.kind, b.kind) ||
    cmp(a.granularity, b.granularity) ||
    cmp(a.bucketStart ?? '', b.bucketStart ?? '') ||
    cmp(a.metric, b.metric) ||
    cmp(a.dimension, b.dimension) ||
    cmp(a.kind === 'member' ? a.member : '', b.kind === 'member' ? b.member : '')
  );
}

/** Scales a delta by an integer (−1 to subtract). */
export function scaleDelta(d: Delta, k: number): Delta {
  return d.kind === 'add' ? { ...d, num: mulInt(d.num, k), den: mulInt(d.den, k) } : { ...d, ref: d.ref * k };
}

/**
 * Sums deltas with the same key, drops the ones that cancel out and sorts by compareDeltas. A
 * batch merged this way does one upsert per mart row, in a deterministic order.
 */
export function mergeDeltas(deltas: Iterable<Delta>): Delta[] {
  const acc = new Map<string, Delta>();
  for (const d of deltas) {
    const key = deltaKey(d);
    const cur = acc.get(key);
    if (!cur) {
      acc.set(key, d.kind === 'add' ? { ...d, num: normalize(d.num), den: normalize(d.den) } : { ...d });
    } else if (cur.kind === 'add' && d.kind === 'add') {
      acc.set(key, { ...cur, num: add(cur.num, d.num), den: add(cur.den, d.den) });
    } else if (cur.kind === 'member' && d.kind === 'member') {
      acc.set(key, { ...cur, ref: cur.ref + d.ref });
    }
  }
  return [...acc.values()]
    .filter((d) => (d.kind === 'add' ? !(isZero(d.num) && isZero(d.den)) : d.ref !== 0))
    .sort(compareDeltas);
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
  return mergeDeltas([
    ...contributions(source, nextState),
    ...contributions(source, prev).map((c) => scaleDelta(c, -1)),
  ]);
}

export interface RowProjection<T extends MetricSource> {
  /** State to store for the row (null: delete the stored state). */
  readonly next: StateOf[T] | null;
  readonly deltas: Delta[];
}

/**
 * The events of ONE source row (Kafka order) against its stored state → new state and net delta.
 * The sink reads `prev` from the mart (locked), calls this, writes `next` and the deltas in the
 * same transaction.
 */
export function projectRow<T extends MetricSource>(
  source: T,
  prev: StateOf[T] | null,
  events: readonly ChangeEvent[],
): RowProjection<T> {
  const next = foldEvents(source, prev, events);
  return { next, deltas: delta(source, prev, next) };
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
