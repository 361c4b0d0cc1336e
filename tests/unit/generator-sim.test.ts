/**
 * The whole seed-mode simulation against an in-memory stand-in for PostgreSQL that records every
 * statement: determinism, legal lifecycles, ordered timestamps and consistent driver state, with
 * no database needed.
 */
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { computeFare } from '../../src/generator/fare.js';
import { canTransition, type BookingStatus } from '../../src/generator/lifecycle.js';
import { resolveOptions, type GeneratorInput } from '../../src/generator/options.js';
import { runSeed } from '../../src/generator/seed.js';
import { HCMC_ZONES } from '../../src/generator/zones.js';

interface Logged {
  name: string;
  values: unknown[];
}

/** Just enough of pg.Pool for the generator: ids from sequences, one row per guarded update. */
function fakePool(): { pool: pg.Pool; log: Logged[] } {
  const log: Logged[] = [];
  const seq = new Map<string, number>();
  const nextId = (t: string): string => {
    const n = (seq.get(t) ?? 0) + 1;
    seq.set(t, n);
    return String(n);
  };
  const query = async (q: string | { name: string; text: string; values: unknown[] }): Promise<unknown> => {
    if (typeof q === 'string') {
      if (q.includes('count(*)'))
        return { rows: [{ drivers: '0', passengers: '0', bookings: '0' }], rowCount: 1 };
      if (q.includes('FROM zones')) {
        return {
          rows: HCMC_ZONES.map((z) => ({
            id: z.id,
            code: z.code,
            name: z.name,
            center_lat: z.centerLat,
            center_lon: z.centerLon,
            min_lat: z.minLat,
            max_lat: z.maxLat,
            min_lon: z.minLon,
            max_lon: z.maxLon,
            demand_weight: String(z.demandWeight),
          })),
          rowCount: HCMC_ZONES.length,
        };
      }
      return { rows: [], rowCount: 0 };
    }
    log.push({ name: q.name, values: q.values.map((v) => (v instanceof Date ? v.toISOString() : v)) });
    const multi = /^gen_(drivers|passengers|locations)_insert_(\d+)$/.exec(q.name);
    if (multi) {
      const n = Number(multi[2]);
      return { rows: Array.from({ length: n }, () => ({ id: nextId(multi[1]!) })), rowCount: n };
    }
    if (q.name === 'gen_booking_insert') return { rows: [{ id: nextId('bookings') }], rowCount: 1 };
    return { rows: [], rowCount: 1 };
  };
  const client = { query, release: () => {} };
  const pool = { query, connect: async () => client } as unknown as pg.Pool;
  return { pool, log };
}

async function seedInMemory(
  input: GeneratorInput,
): Promise<{ log: Logged[]; out: Awaited<ReturnType<typeof runSeed>> }> {
  const { pool, log } = fakePool();
  const opts = resolveOptions({ mode: 'seed', progressIntervalMs: 0, migrate: false, ...input });
  const out = await runSeed({ opts, pool, log: () => {} });
  return { log, out };
}

const STEP: Record<string, BookingStatus> = {
  gen_booking_insert: 'requested',
  gen_booking_accept: 'accepted',
  gen_booking_arrive: 'arrived',
  gen_booking_start: 'in_progress',
  gen_booking_complete: 'completed',
  gen_booking_cancel: 'cancelled',
};

describe('seed-mode simulation (in memory)', () => {
  it('is deterministic: same seed, same statements and values', async () => {
    const a = await seedInMemory({ volume: 'tiny', seed: 'same' });
    const b = await seedInMemory({ volume: 'tiny', seed: 'same' });
    const c = await seedInMemory({ volume: 'tiny', seed: 'other' });
    expect(a.log.length).toBeGreaterThan(1000);
    expect(b.log).toEqual(a.log);
    expect(c.log).not.toEqual(a.log);
  });

  it('plays every booking through a legal lifecycle with ordered timestamps', async () => {
    const { log, out } = await seedInMemory({ volume: 'tiny', bookings: 400, seed: 'lifecycle' });
    const status = new Map<number, BookingStatus>();
    const lastTs = new Map<number, string>();
    let nextBooking = 0;
    for (const { name, values } of log) {
      const step = STEP[name];
      if (!step) continue;
      const id = name === 'gen_booking_insert' ? ++nextBooking : Number(values[0]);
      const ts = String(
        name === 'gen_booking_insert' ? values[9] : values[name === 'gen_booking_accept' ? 2 : 1],
      );
      if (step === 'requested') {
        expect(status.has(id)).toBe(false);
      } else {
        expect(canTransition(status.get(id)!, step), `${id}: ${status.get(id)} → ${step}`).toBe(true);
        expect(ts > lastTs.get(id)!, `${id} timestamps increase`).toBe(true);
      }
      if (step === 'cancelled') expect(values[4]).toBe(status.get(id));
      status.set(id, step);
      lastTs.set(id, ts);
    }
    expect(status.size).toBe(400);
    // Seed mode plays the history out completely.
    expect([...status.values()].every((s) => s === 'completed' || s === 'cancelled')).toBe(true);
    const c = out.counters;
    expect(c.completed + c.cancelled.passenger + c.cancelled.driver + c.cancelled.system).toBe(400);
    expect(c.cancelled.passenger).toBeGreaterThan(0);
    expect(c.cancelled.driver).toBeGreaterThan(0);
    expect(c.cancelled.system).toBeGreaterThan(0);
    expect(c.payments).toBe(c.completed);
  });

  it('charges the computed fare and pays it out in the same transaction', async () => {
    const { log } = await seedInMemory({ volume: 'tiny', seed: 'fares' });
    const booking = new Map<number, { vehicle: string; surge: number }>();
    let n = 0;
    const fares = new Map<number, number>();
    for (const { name, values } of log) {
      if (name === 'gen_booking_insert')
        booking.set(++n, { vehicle: String(values[2]), surge: Number(values[12]) });
      if (name === 'gen_booking_complete') {
        const b = booking.get(Number(values[0]))!;
        const fare = Number(values[2]);
        expect(fare).toBe(computeFare(b.vehicle as 'car', Number(values[3]), b.surge));
        fares.set(Number(values[0]), fare);
      }
      if (name === 'gen_payment_insert') {
        expect(values[1]).toBe(fares.get(Number(values[0])));
        expect(Number(values[2]) + Number(values[3])).toBe(values[1]);
      }
    }
    expect(fares.size).toBeGreaterThan(20);
  });

  it('keeps each driver on at most one trip and reports status changes in order', async () => {
    const { log } = await seedInMemory({ volume: 'tiny', bookings: 300, seed: 'drivers' });
    const onTrip = new Map<number, number>();
    for (const { name, values } of log) {
      if (name === 'gen_booking_accept') {
        const driver = Number(values[1]);
        expect(onTrip.has(driver), `driver ${driver} double-booked`).toBe(false);
        onTrip.set(driver, Number(values[0]));
      }
      if (name === 'gen_booking_complete' || name === 'gen_booking_cancel') {
        for (const [d, b] of onTrip) if (b === Number(values[0])) onTrip.delete(d);
      }
    }
  });
});
