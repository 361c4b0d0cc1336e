import type { ChangeEvent } from '../../decode/change-event.js';
import { PoisonMessageError, errorMessage } from '../../shared/errors.js';
import type { Rejection } from '../intents.js';
import type { MetricSource } from './catalog.js';
import { contributions } from './contributions.js';
import { delta, type Delta } from './delta.js';
import { nextState, type AnyState, type StateOf, type StateTable } from './state.js';

export interface RowProjection<T extends StateTable> {
  /** State to store for the row (null: delete the stored state). */
  readonly next: StateOf[T] | null;
  /** Net KPI delta of the row: contributions(next) − contributions(prev). */
  readonly deltas: Delta[];
  /** Events of this row that cannot be projected (they go to the dead-letter topic alone). */
  readonly rejected: Rejection[];
}

type MetricState = StateOf[MetricSource] | null;

/** Zones feed no KPI (only dimension names); every other state table is a metric source. */
const isMetricSource = (t: StateTable): t is MetricSource => t !== 'zones';

function deltaOf(
  table: StateTable,
  prev: AnyState | null,
  next: AnyState | null,
  kpis: ReadonlySet<string> | undefined,
): Delta[] {
  return isMetricSource(table) ? delta(table, prev as MetricState, next as MetricState, kpis) : [];
}

/**
 * The events of ONE source row (Kafka order) against its stored state → new state, net delta and
 * rejections. The fast path folds all events and computes one delta; only if that throws (a
 * truncate, an unreadable value) is the row re-folded event by event, so the bad event alone is
 * rejected and the row keeps its last good state.
 */
export function projectRow<T extends StateTable>(
  table: T,
  prev: StateOf[T] | null,
  events: readonly ChangeEvent[],
  /** The KPIs maintained (absent: the whole catalog). */
  kpis?: ReadonlySet<string>,
): RowProjection<T> {
  try {
    let state = prev;
    for (const e of events) state = nextState(table, state, e);
    return { next: state, deltas: deltaOf(table, prev, state, kpis), rejected: [] };
  } catch (err) {
    if (!isBadData(err)) throw err;
  }
  const rejected: Rejection[] = [];
  let state = prev;
  for (const e of events) {
    try {
      const next = nextState(table, state, e);
      const source: StateTable = table;
      if (isMetricSource(source)) contributions(source, next as MetricState);
      state = next;
    } catch (err) {
      if (!isBadData(err)) throw err;
      rejected.push({
        origin: { topic: e.topic, partition: e.partition, offset: e.offset },
        reason: `mart: ${errorMessage(err)}`,
      });
    }
  }
  return { next: state, deltas: deltaOf(table, prev, state, kpis), rejected };
}

/** Errors that come from the data itself (dead-letter the event), as opposed to bugs. */
function isBadData(err: unknown): boolean {
  return err instanceof PoisonMessageError || err instanceof RangeError;
}
