import { describe, expect, it } from 'vitest';
import { type Row, UNCHANGED } from '../../src/decode/change-event.js';
import { CATALOG, type MetricSource, type SourceRow } from '../../src/project/metrics/catalog.js';
import { contributions } from '../../src/project/metrics/contributions.js';
import { type Delta, delta, mergeDeltas } from '../../src/project/metrics/delta.js';
import type { AnyState, StateOf } from '../../src/project/metrics/state.js';
import { bucketStart } from '../../src/project/metrics/time.js';
import { add, isZero, normalize } from '../../src/shared/decimal.js';
import { Rng } from '../../src/generator/rng.js';

/** A seeded stream of numbers in [0, 1): the generator's PRNG. */
function prng(seed: number): () => number {
  const r = new Rng(String(seed));
  return () => r.next();
}

type Gen = () => number;
const pick = <T>(r: Gen, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const maybe = <T>(r: Gen, v: T, p = 0.5): T | null => (r() < p ? v : null);
// Few distinct minutes/hours so rows collide in buckets; microseconds so durations are not round.
const ts = (r: Gen) =>
  `2026-11-21T0${pick(r, [3, 4])}:${pick(r, ['05', '06', '59'])}:${pick(r, ['00.000000', '30.123456', '59.999999'])}Z`;
const money = (r: Gen) => `${Math.floor(r() * 100000)}.${String(Math.floor(r() * 100)).padStart(2, '0')}`;

const GEN: { [T in MetricSource]: (r: Gen, id: string) => StateOf[T] } = {
  bookings: (r, id) => ({
    id,
    booking_uuid: 'u',
    passenger_id: pick(r, ['10', '11', '12']),
    driver_id: maybe(r, pick(r, ['70', '71', '72']), 0.7),
    status: pick(r, ['requested', 'accepted', 'arrived', 'in_progress', 'completed', 'cancelled']),
    vehicle_type: pick(r, ['bike', 'car']),
    pickup_lat: '10.1',
    pickup_lon: '106.1',
    pickup_zone_id: pick(r, ['1', '2']),
    dropoff_lat: '10.2',
    dropoff_lon: '106.2',
    dropoff_zone_id: '1',
    requested_at: ts(r),
    accepted_at: maybe(r, ts(r)),
    arrived_at: maybe(r, ts(r)),
    started_at: maybe(r, ts(r)),
    completed_at: maybe(r, ts(r)),
    cancelled_at: maybe(r, ts(r), 0.3),
    cancelled_by: maybe(r, pick(r, ['passenger', 'driver', 'system']), 0.4),
    cancel_reason: maybe(r, 'why'),
    estimated_fare: money(r),
    final_fare: maybe(r, money(r), 0.7),
    distance_km: maybe(r, '3.250'),
    surge_multiplier: pick(r, ['1.00', '1.25', '2.00']),
    payment_method: 'cash',
    updated_at: ts(r),
  }),
  payments: (r, id) => ({
    id,
    booking_id: pick(r, ['1', '2']),
    amount: money(r),
    platform_fee: money(r),
    driver_earnings: money(r),
    method: pick(r, ['cash', 'card']),
    status: pick(r, ['paid', 'refunded']),
    paid_at: ts(r),
  }),
  ratings: (r, id) => ({
    id,
    booking_id: '1',
    rater_type: pick(r, ['passenger', 'driver']),
    rater_id: '10',
    ratee_id: '70',
    score: pick(r, ['1', '3', '5']),
    rated_at: ts(r),
  }),
  drivers: (r, id) => ({
    id,
    vehicle_type: pick(r, ['bike', 'car']),
    status: pick(r, ['offline', 'available', 'busy']),
    home_zone_id: pick(r, ['1', '2']),
    created_at: ts(r),
    updated_at: ts(r),
  }),
  passengers: (r, id) => ({ id, home_zone_id: pick(r, ['1', '2']), created_at: ts(r) }),
};
const SOURCES = Object.keys(GEN) as MetricSource[];

/** An after image as Debezium may send it: TOAST-unchanged text columns become UNCHANGED. */
function afterImage(r: Gen, prev: AnyState | null, next: AnyState): Row {
  const row: Row = { ...(next as unknown as Record<string, string | null>) };
  if (
    prev &&
    'cancel_reason' in prev &&
    (prev as StateOf['bookings']).cancel_reason === (next as StateOf['bookings']).cancel_reason &&
    r() < 0.5
  ) {
    row.cancel_reason = UNCHANGED;
  }
  return row;
}

describe('property: deltas accumulate to the contributions of the final state', () => {
  for (const source of SOURCES) {
    it(`${source}: random state sequences (inserts, updates, deletes, duplicates, UNCHANGED)`, () => {
      for (let seed = 1; seed <= 150; seed++) {
        const r = prng(seed * 7919 + source.length);
        let stored: AnyState | null = null;
        const acc: Delta[] = [];
        const steps = 1 + Math.floor(r() * 12);
        for (let i = 0; i < steps; i++) {
          const roll = r();
          let next: AnyState | null;
          if (roll < 0.15)
            next = null; // delete
          else if (roll < 0.3)
            next = stored; // duplicate delivery
          else next = GEN[source](r, '1');
          const image = next === null ? null : afterImage(r, stored, next);
          acc.push(...delta(source, stored as never, image));
          stored = next;
        }
        expect(mergeDeltas(acc), `seed ${seed}`).toEqual(mergeDeltas(contributions(source, stored as never)));
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Model-based: an in-memory mart that applies deltas with the writer's semantics (additive rows,
// member ref-counts whose 0↔positive transitions move the distinct side, empty rows deleted),
// against an independent brute-force evaluation of the catalog over the current rows.

interface Cell {
  num: string;
  den: string;
}

class ModelMart {
  readonly rows = new Map<string, Cell>();
  readonly refs = new Map<string, number>();

  apply(deltas: readonly Delta[]): void {
    for (const d of deltas) {
      const rowKey = `${d.metric}|${d.granularity}|${d.bucketStart ?? ''}|${d.dimension}`;
      if (d.kind === 'add') {
        this.bump(rowKey, d.num, d.den);
        continue;
      }
      const memberKey = `${rowKey}|${d.member}`;
      const before = this.refs.get(memberKey) ?? 0;
      const after = before + d.ref;
      if (after === 0) this.refs.delete(memberKey);
      else this.refs.set(memberKey, after);
      const change = before <= 0 && after > 0 ? 1 : before > 0 && after <= 0 ? -1 : 0;
      if (change !== 0)
        this.bump(
          rowKey,
          d.part === 'numerator' ? String(change) : '0',
          d.part === 'denominator' ? String(change) : '0',
        );
    }
  }

  private bump(key: string, num: string, den: string): void {
    const cur = this.rows.get(key) ?? { num: '0', den: '0' };
    const next = { num: add(cur.num, num), den: add(cur.den, den) };
    if (isZero(next.num) && isZero(next.den)) this.rows.delete(key);
    else this.rows.set(key, next);
  }

  snapshot(): Record<string, [string, string]> {
    return Object.fromEntries(
      [...this.rows].map(([k, v]) => [k, [normalize(v.num), normalize(v.den)]]).sort(),
    );
  }
}

/** SQL-like evaluation of the catalog: GROUP BY bucket and dimension, sum amounts, COUNT(DISTINCT members). */
function bruteForce(rows: { source: MetricSource; state: AnyState }[]): Record<string, [string, string]> {
  const groups = new Map<string, { num: string; den: string; numSet?: Set<string>; denSet?: Set<string> }>();
  for (const metric of CATALOG) {
    for (const part of metric.parts) {
      for (const { source, state } of rows) {
        if (source !== part.source) continue;
        const r = state as unknown as SourceRow;
        if (!part.where.ts(r)) continue;
        const buckets =
          part.time === null
            ? [['CURRENT', '']]
            : metric.granularities.map((g) => [g, bucketStart(r[part.time as string] as string, g)]);
        for (const [g, b] of buckets) {
          for (const dim of part.dimensions) {
            const dv = dim.ts(r);
            if (dv === null) continue;
            const key = `${metric.name}|${g}|${b}|${dv}`;
            const cell = groups.get(key) ?? { num: '0', den: '0' };
            if (part.numerator.kind === 'distinct') (cell.numSet ??= new Set()).add(part.numerator.ts(r));
            else cell.num = add(cell.num, part.numerator.ts(r));
            if (part.denominator.kind === 'distinct') (cell.denSet ??= new Set()).add(part.denominator.ts(r));
            else cell.den = add(cell.den, part.denominator.ts(r));
            groups.set(key, cell);
          }
        }
      }
    }
  }
  const out: [string, [string, string]][] = [];
  for (const [k, c] of groups) {
    const num = c.numSet ? String(c.numSet.size) : normalize(c.num);
    const den = c.denSet ? String(c.denSet.size) : normalize(c.den);
    if (!(isZero(num) && isZero(den))) out.push([k, [num, den]]);
  }
  return Object.fromEntries(out.sort());
}

describe('property: a model mart fed by deltas equals the catalog evaluated over the current rows', () => {
  it('many rows of every table, interleaved changes, deletes and duplicates', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = prng(seed);
      const mart = new ModelMart();
      const current = new Map<string, { source: MetricSource; state: AnyState }>();
      for (let step = 0; step < 250; step++) {
        const source = pick(r, SOURCES);
        const id = String(1 + Math.floor(r() * 6));
        const key = `${source}:${id}`;
        const prev = current.get(key)?.state ?? null;
        const roll = r();
        const next = roll < 0.15 ? null : roll < 0.25 ? prev : GEN[source](r, id);
        // Batches merge deltas of many rows before writing; merging is part of what is tested.
        const deltas = delta(source, prev as never, next === null ? null : afterImage(r, prev, next));
        mart.apply(r() < 0.5 ? deltas : mergeDeltas([...deltas].reverse()));
        if (next === null) current.delete(key);
        else current.set(key, { source, state: next });
      }
      expect(mart.snapshot(), `seed ${seed}`).toEqual(bruteForce([...current.values()]));
      for (const ref of mart.refs.values()) expect(ref).toBeGreaterThan(0);
    }
  });

  it('distinct passengers: two bookings of one passenger count once; deleting one keeps them, deleting both removes them', () => {
    const r = prng(3);
    const base = {
      ...GEN.bookings(r, '1'),
      passenger_id: '10',
      requested_at: '2026-11-21T04:05:10Z',
      pickup_zone_id: '1',
    };
    const b1 = base;
    const b2 = { ...base, id: '2', requested_at: '2026-11-21T04:05:50Z' };
    const mart = new ModelMart();
    const key = 'active_passengers|MINUTE|2026-11-21T04:05:00.000Z|all';
    mart.apply(delta('bookings', null, b1));
    mart.apply(delta('bookings', null, b2));
    expect(mart.snapshot()[key]).toEqual(['1', '2']);
    expect(mart.snapshot()['bookings_per_active_passenger|MINUTE|2026-11-21T04:05:00.000Z|all']).toEqual([
      '2',
      '1',
    ]);
    mart.apply(delta('bookings', b2, null));
    expect(mart.snapshot()[key]).toEqual(['1', '1']);
    mart.apply(delta('bookings', b1, { ...b1, requested_at: '2026-11-21T04:06:00Z' }));
    expect(mart.snapshot()[key]).toBeUndefined();
    expect(mart.snapshot()['active_passengers|MINUTE|2026-11-21T04:06:00.000Z|all']).toEqual(['1', '1']);
    expect(mart.snapshot()['active_passengers|HOUR|2026-11-21T04:00:00.000Z|all']).toEqual(['1', '1']);
  });
});
