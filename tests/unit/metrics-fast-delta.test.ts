import { describe, expect, it } from 'vitest';
import { type MetricSource } from '../../src/project/metrics/catalog.js';
import { contributions } from '../../src/project/metrics/contributions.js';
import { type Delta, delta, mergeDeltas, scaleDelta } from '../../src/project/metrics/delta.js';
import { STATE_COLUMNS, type AnyState } from '../../src/project/metrics/state.js';
import { Rng } from '../../src/generator/rng.js';
import { projectRow } from '../../src/project/metrics/project-row.js';
import type { ChangeEvent } from '../../src/decode/change-event.js';

/**
 * delta() skips the KPI parts whose contributions cannot differ between the two states (inputs
 * unchanged, `where` false on both sides, or true on both with the same value columns). The
 * definition it must equal, on any pair of states: Σ contributions(next) − Σ contributions(prev),
 * merged, with every part evaluated.
 */
function byDefinition(source: MetricSource, prev: AnyState | null, next: AnyState | null): Delta[] {
  return mergeDeltas([
    ...contributions(source, next as never),
    ...contributions(source, prev as never).map((c) => scaleDelta(c, -1)),
  ]);
}

/** A seeded stream of numbers in [0, 1): the generator's PRNG. */
function prng(seed: number): () => number {
  const r = new Rng(String(seed));
  return () => r.next();
}
type Gen = () => number;
const pick = <T>(r: Gen, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

// Few values per column, so states often agree on some columns and differ on others, and rows
// collide in buckets; timestamps in two minutes of two hours, one with microseconds.
const TS = ['2026-11-21T03:05:00.000000Z', '2026-11-21T03:05:30.123456Z', '2026-11-21T04:59:59.999999Z'];
const VALUES: Record<string, readonly (string | null)[]> = {
  vehicle_type: ['bike', 'car', null],
  cancelled_by: ['passenger', 'driver', null],
  rater_type: ['passenger', 'driver'],
  method: ['cash', 'card'],
  score: ['1', '4', '5'],
  surge_multiplier: ['1.00', '1.25', '2.0'],
};
const MONEY = ['0', '0.00', '61500.50', '60000', '12.345', null];
const IDS = ['1', '2', '70', null];

const STATUS: Record<MetricSource, readonly string[]> = {
  bookings: ['requested', 'accepted', 'arrived', 'in_progress', 'completed', 'cancelled'],
  drivers: ['offline', 'available', 'busy'],
  payments: ['paid', 'refunded'],
  ratings: [],
  passengers: [],
};

function value(r: Gen, source: MetricSource, col: string): string | null {
  if (col === 'status') return pick(r, STATUS[source]);
  if (VALUES[col]) return pick(r, VALUES[col]!);
  if (col.endsWith('_at')) return pick(r, [...TS, null]);
  if (/fare|amount|fee|earnings|distance/.test(col)) return pick(r, MONEY);
  return pick(r, IDS);
}

function randomState(r: Gen, source: MetricSource): AnyState {
  const s: Record<string, string | null> = {};
  for (const c of STATE_COLUMNS[source]) s[c] = value(r, source, c);
  s.id = '1';
  return s as unknown as AnyState;
}

/** A state that differs from `base` in a few columns (most updates change a status and a time). */
function mutate(r: Gen, source: MetricSource, base: AnyState): AnyState {
  const s = { ...(base as unknown as Record<string, string | null>) };
  const cols = STATE_COLUMNS[source].filter((c) => c !== 'id');
  const changes = Math.floor(r() * 4);
  for (let i = 0; i < changes; i++) {
    const c = pick(r, cols);
    s[c] = value(r, source, c);
  }
  return s as unknown as AnyState;
}

const SOURCES: MetricSource[] = ['bookings', 'payments', 'ratings', 'drivers', 'passengers'];

describe('delta skips only parts that cannot change: equal to the definition on random state pairs', () => {
  for (const source of SOURCES) {
    it(`${source}: near and far state pairs, inserts, deletes, duplicates`, () => {
      const r = prng(source.length * 104729 + 17);
      let nonEmpty = 0;
      for (let i = 0; i < 2000; i++) {
        const prev = r() < 0.1 ? null : randomState(r, source);
        const roll = r();
        const next =
          roll < 0.1
            ? null
            : roll < 0.2
              ? prev
              : prev && roll < 0.8
                ? mutate(r, source, prev)
                : randomState(r, source);
        const fast = delta(source, prev as never, next as never);
        expect(fast, `case ${i}: ${JSON.stringify({ prev, next })}`).toEqual(
          byDefinition(source, prev, next),
        );
        if (fast.length > 0) nonEmpty++;
      }
      // The pairs exercise real changes, not only empty deltas.
      expect(nonEmpty).toBeGreaterThan(400);
    });
  }
});

/**
 * `offsets reset --to earliest` replays a row's whole history on top of its final stored state, in
 * whatever batches the fetches make. The net delta of the replay must be exactly zero and the
 * state must end where it was, for any history and any batching (projectRow folds a batch's events
 * and takes one delta against the stored state).
 */
describe('a replayed history on top of the final state changes nothing, in any batching', () => {
  const event = (source: MetricSource, op: 'r' | 'c' | 'u' | 'd', s: AnyState, offset: number) =>
    ({
      table: source,
      op,
      key: { id: '1' },
      before: op === 'd' ? (s as never) : null,
      after: op === 'd' ? null : (s as never),
      sourceTsMs: 0,
      lsn: offset,
      txId: null,
      snapshot: op === 'r',
      topic: `ride.public.${source}`,
      partition: 0,
      offset: String(offset),
    }) as ChangeEvent;

  /** Folds `events` from `start` in random batches: the summed delta and the final state. */
  function foldInBatches(r: Gen, source: MetricSource, start: AnyState | null, events: ChangeEvent[]) {
    let state = start;
    const deltas: Delta[] = [];
    for (let i = 0; i < events.length;) {
      const n = 1 + Math.floor(r() * 4);
      const p = projectRow(source, state as never, events.slice(i, i + n));
      deltas.push(...p.deltas);
      state = p.next as AnyState | null;
      i += n;
    }
    return { deltas: mergeDeltas(deltas), state };
  }

  for (const source of SOURCES) {
    it(`${source}: 500 random histories`, () => {
      const r = prng(source.length * 7919 + 3);
      let nonEmpty = 0;
      for (let h = 0; h < 500; h++) {
        const events: ChangeEvent[] = [];
        let s: AnyState | null = randomState(r, source);
        events.push(event(source, r() < 0.5 ? 'r' : 'c', s, 0));
        const length = 1 + Math.floor(r() * 8);
        for (let i = 1; i <= length; i++) {
          const roll = r();
          if (s === null) s = randomState(r, source);
          else if (roll < 0.1) {
            events.push(event(source, 'd', s, i));
            s = null;
            continue;
          } else s = roll < 0.8 ? mutate(r, source, s) : randomState(r, source);
          events.push(event(source, roll < 0.2 ? 'c' : 'u', s, i));
        }
        const first = foldInBatches(r, source, null, events);
        expect(first.deltas, `history ${h}`).toEqual(byDefinition(source, null, first.state));
        const replay = foldInBatches(r, source, first.state, events);
        expect(replay.state, `history ${h}`).toEqual(first.state);
        expect(replay.deltas, `history ${h}: ${JSON.stringify(events.map((e) => e.after))}`).toEqual([]);
        if (first.deltas.length > 0) nonEmpty++;
      }
      expect(nonEmpty).toBeGreaterThan(100);
    });
  }
});
