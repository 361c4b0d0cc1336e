import type { ChangeEvent } from '../../decode/change-event.js';
import { PoisonMessageError, errorMessage } from '../../shared/errors.js';
import type { Rejection } from '../intents.js';
import type { MetricSource } from './catalog.js';
import { contributions } from './contributions.js';
import { delta, type Delta } from './delta.js';
import { nextState, type AnyState, type StateTable } from './state.js';

/**
 * The row's new state and its KPI delta. The fast path folds all events and computes one delta;
 * only if that throws (a truncate, an unreadable value) is the row re-folded event by event, so
 * the bad event alone is rejected and the row keeps its last good state.
 */
export function projectRowOrReject(
  table: StateTable,
  prev: AnyState | null,
  events: readonly ChangeEvent[],
  rejected: Rejection[],
): { next: AnyState | null; deltas: Delta[] } {
  const deltaOf = (next: AnyState | null) =>
    table === 'zones' ? [] : delta(table as MetricSource, prev as never, next as never);
  try {
    let state = prev;
    for (const e of events) state = nextState(table, state as never, e) as AnyState | null;
    return { next: state, deltas: deltaOf(state) };
  } catch (err) {
    if (!isBadData(err)) throw err;
  }
  let state = prev;
  for (const e of events) {
    try {
      const next = nextState(table, state as never, e) as AnyState | null;
      if (table !== 'zones') contributions(table as MetricSource, next as never);
      state = next;
    } catch (err) {
      if (!isBadData(err)) throw err;
      rejected.push({
        origin: { topic: e.topic, partition: e.partition, offset: e.offset },
        reason: `mart: ${errorMessage(err)}`,
      });
    }
  }
  return { next: state, deltas: deltaOf(state) };
}

/** Errors that come from the data itself (dead-letter the event), as opposed to bugs. */
function isBadData(err: unknown): boolean {
  return err instanceof PoisonMessageError || err instanceof RangeError;
}
