/**
 * The generator against a real PostgreSQL: GENERATOR_PG* from the environment (the native stack's
 * ride_hailing_db server in CI). Every test works in its own throwaway database on that server,
 * created and dropped here, so the stack's captured database and other suites' counts are never
 * touched.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createClient, quoteIdent, sourcePgSettings, type PgSettings } from '../../src/db/pg.js';
import { computeFare, type VehicleType } from '../../src/generator/fare.js';
import { runGenerator, type GeneratorInput } from '../../src/generator/index.js';

function serverSettings(): PgSettings {
  if (process.env.GENERATOR_PGHOST || process.env.GENERATOR_PGPORT) return sourcePgSettings();
  // Under the integration global setup the stack publishes its endpoints; outside it, env defaults.
  let stack: { source: PgSettings } | undefined;
  try {
    stack = inject('stack') as { source: PgSettings } | undefined;
  } catch {
    stack = undefined;
  }
  return stack?.source ?? sourcePgSettings();
}

const server = serverSettings();
const created: string[] = [];
const quiet = (): void => {};

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = createClient({ ...server, database: 'postgres' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function freshDb(tag: string): Promise<PgSettings> {
  const name = `gen_it_${tag}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  created.push(name);
  return { ...server, database: name };
}

async function withDb<T>(s: PgSettings, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = createClient(s);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

afterAll(async () => {
  await admin(async (c) => {
    for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  });
}, 60_000);

const TABLES: [string, string][] = [
  ['zones', 'id'],
  ['passengers', 'id'],
  ['drivers', 'id'],
  ['driver_locations', 'driver_id'],
  ['driver_location_history', 'id'],
  ['bookings', 'id'],
  ['payments', 'id'],
  ['ratings', 'id'],
];

async function tableHashes(s: PgSettings): Promise<Record<string, string>> {
  return withDb(s, async (c) => {
    const out: Record<string, string> = {};
    for (const [t, pk] of TABLES) {
      const { rows } = await c.query<{ n: string; h: string | null }>(
        `SELECT count(*) AS n, md5(string_agg(t::text, E'\\n' ORDER BY ${pk})) AS h FROM ${t} t`,
      );
      out[t] = `${rows[0]!.n}:${rows[0]!.h}`;
    }
    return out;
  });
}

interface BookingRow {
  id: string;
  status: string;
  driver_id: string | null;
  passenger_id: string;
  vehicle_type: VehicleType;
  requested_at: Date;
  accepted_at: Date | null;
  arrived_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  cancelled_at: Date | null;
  cancelled_by: string | null;
  cancel_reason: string | null;
  final_fare: string | null;
  distance_km: string | null;
  surge_multiplier: string;
  correction_delta: string | null;
}

/** The invariants any state of ride_hailing_db written by the generator satisfies. */
async function checkInvariants(s: PgSettings): Promise<{ bookings: BookingRow[] }> {
  return withDb(s, async (c) => {
    const { rows: bookings } = await c.query<BookingRow>(
      `SELECT id, status, driver_id, passenger_id, vehicle_type, requested_at, accepted_at, arrived_at, started_at,
              completed_at, cancelled_at, cancelled_by, cancel_reason, final_fare, distance_km, surge_multiplier,
              metadata->'fare_correction'->>'delta' AS correction_delta
       FROM bookings ORDER BY id`,
    );
    const t = (d: Date | null): number => (d === null ? NaN : d.getTime());
    for (const b of bookings) {
      const where = `booking ${b.id} (${b.status})`;
      const has = {
        acc: b.accepted_at !== null,
        arr: b.arrived_at !== null,
        st: b.started_at !== null,
        done: b.completed_at !== null,
      };
      switch (b.status) {
        case 'completed': {
          expect(has, where).toEqual({ acc: true, arr: true, st: true, done: true });
          expect(t(b.completed_at) >= t(b.started_at) && t(b.started_at) >= t(b.arrived_at), where).toBe(
            true,
          );
          expect(t(b.arrived_at) >= t(b.accepted_at) && t(b.accepted_at) >= t(b.requested_at), where).toBe(
            true,
          );
          const expected =
            computeFare(b.vehicle_type, Number(b.distance_km), Number(b.surge_multiplier)) +
            Number(b.correction_delta ?? 0);
          expect(Number(b.final_fare), `${where} fare`).toBe(expected);
          expect(b.driver_id, where).not.toBeNull();
          break;
        }
        case 'cancelled':
          expect(b.cancelled_at && b.cancelled_by && b.cancel_reason, where).toBeTruthy();
          expect(t(b.cancelled_at) >= t(b.requested_at), where).toBe(true);
          if (b.accepted_at) expect(t(b.cancelled_at) >= t(b.accepted_at), where).toBe(true);
          expect(b.completed_at, where).toBeNull();
          expect(b.final_fare, where).toBeNull();
          break;
        case 'requested':
          expect(has, where).toEqual({ acc: false, arr: false, st: false, done: false });
          expect(b.driver_id, where).toBeNull();
          break;
        case 'accepted':
          expect(has, where).toEqual({ acc: true, arr: false, st: false, done: false });
          break;
        case 'arrived':
          expect(has, where).toEqual({ acc: true, arr: true, st: false, done: false });
          break;
        case 'in_progress':
          expect(has, where).toEqual({ acc: true, arr: true, st: true, done: false });
          break;
      }
      if (b.status !== 'cancelled')
        expect(b.cancelled_at ?? b.cancelled_by ?? b.cancel_reason, where).toBeNull();
    }

    // Payments: exactly one per completed booking, for the final fare, split into fee + earnings.
    const pay = await c.query<{ problem: string; n: string }>(
      `SELECT 'completed without payment' AS problem, count(*) AS n FROM bookings b
         WHERE b.status = 'completed' AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.booking_id = b.id)
       UNION ALL SELECT 'payment for a booking not completed', count(*) FROM payments p JOIN bookings b ON b.id = p.booking_id
         WHERE b.status <> 'completed'
       UNION ALL SELECT 'amount <> final_fare', count(*) FROM payments p JOIN bookings b ON b.id = p.booking_id
         WHERE p.amount <> b.final_fare
       UNION ALL SELECT 'fee + earnings <> amount', count(*) FROM payments WHERE platform_fee + driver_earnings <> amount
       UNION ALL SELECT 'fee outside 20-25%', count(*) FROM payments WHERE platform_fee < 0.2 * amount - 1 OR platform_fee > 0.25 * amount + 1
       UNION ALL SELECT 'paid before completion', count(*) FROM payments p JOIN bookings b ON b.id = p.booking_id
         WHERE p.paid_at < b.completed_at
       UNION ALL SELECT 'rating of a booking not completed', count(*) FROM ratings r JOIN bookings b ON b.id = r.booking_id
         WHERE b.status <> 'completed'
       UNION ALL SELECT 'rating parties wrong', count(*) FROM ratings r JOIN bookings b ON b.id = r.booking_id
         WHERE NOT ((r.rater_type = 'passenger' AND r.rater_id = b.passenger_id AND r.ratee_id = b.driver_id)
                 OR (r.rater_type = 'driver' AND r.rater_id = b.driver_id AND r.ratee_id = b.passenger_id))
       UNION ALL SELECT 'driver on two active trips', count(*) FROM (
         SELECT driver_id FROM bookings WHERE status IN ('accepted', 'arrived', 'in_progress') GROUP BY driver_id HAVING count(*) > 1) x
       UNION ALL SELECT 'active trip with a driver not busy', count(*) FROM bookings b JOIN drivers d ON d.id = b.driver_id
         WHERE b.status IN ('accepted', 'arrived', 'in_progress') AND d.status <> 'busy'
       UNION ALL SELECT 'busy driver without a trip', count(*) FROM drivers d WHERE d.status = 'busy'
         AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.driver_id = d.id AND b.status IN ('accepted', 'arrived', 'in_progress'))
       UNION ALL SELECT 'passenger on two active bookings', count(*) FROM (
         SELECT passenger_id FROM bookings WHERE status NOT IN ('completed', 'cancelled') GROUP BY passenger_id HAVING count(*) > 1) y
       UNION ALL SELECT 'location zone mismatch', count(*) FROM driver_locations WHERE zone_id IS NULL`,
    );
    expect(Object.fromEntries(pay.rows.map((r) => [r.problem, Number(r.n)]))).toEqual(
      Object.fromEntries(pay.rows.map((r) => [r.problem, 0])),
    );
    return { bookings };
  });
}

describe('generator against PostgreSQL', () => {
  it('seed mode is reproducible: the same seed on two fresh databases writes identical rows', async () => {
    const [a, b, c] = await Promise.all([freshDb('seed_a'), freshDb('seed_b'), freshDb('seed_c')]);
    const input: GeneratorInput = { mode: 'seed', volume: 'tiny', seed: 'it-seed', progressIntervalMs: 0 };
    const ra = await runGenerator({ ...input, pg: a }, undefined, quiet);
    const rb = await runGenerator({ ...input, pg: b }, undefined, quiet);
    await runGenerator({ ...input, seed: 'another-seed', pg: c }, undefined, quiet);
    expect(rb.totals).toEqual(ra.totals);
    const [ha, hb, hc] = await Promise.all([tableHashes(a), tableHashes(b), tableHashes(c)]);
    expect(hb).toEqual(ha);
    expect(hc.bookings).not.toEqual(ha.bookings);

    const { bookings } = await checkInvariants(a);
    expect(ra.counters.requested).toBe(150);
    expect(bookings.length).toBe(150 - ra.counters.deletes);
    const statuses = new Set(bookings.map((x) => x.status));
    expect([...statuses].sort()).toEqual(['cancelled', 'completed']);
    expect(new Set(bookings.filter((x) => x.cancelled_by).map((x) => x.cancelled_by))).toEqual(
      new Set(['passenger', 'driver', 'system']),
    );
    // History ends by --base-time (the default, fixed one).
    expect(Math.max(...bookings.map((x) => x.requested_at.getTime()))).toBeLessThan(
      Date.parse('2025-06-01T00:00:00Z'),
    );

    // A second seed on the same database refuses (rows would not be reproducible), or skips.
    await expect(runGenerator({ ...input, pg: a }, undefined, quiet)).rejects.toThrow(/empty database/);
    expect((await runGenerator({ ...input, pg: a, ifSeeded: 'skip' }, undefined, quiet)).skipped).toBe(true);
  });

  it('stream mode simulates the full lifecycle, every cancellation, payments, locations, TOAST and deletes', async () => {
    const db = await freshDb('stream');
    const seen = new Set<string>();
    const startedAt = new Date();
    const ac = new AbortController();
    let polling = true;
    const poller = (async () => {
      const c = createClient(db);
      // Wait for the generator's migrations before polling.
      for (let i = 0; i < 100 && polling; i++) {
        try {
          await c.connect();
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      try {
        while (polling) {
          const r = await c
            .query<{ status: string }>('SELECT DISTINCT status FROM bookings')
            .catch(() => ({ rows: [] }));
          for (const x of r.rows) seen.add(x.status);
          await new Promise((r) => setTimeout(r, 150));
        }
      } finally {
        await c.end().catch(() => {});
      }
    })();
    const res = await runGenerator(
      {
        mode: 'stream',
        volume: 'small',
        seconds: 12,
        seed: 'it-stream',
        progressIntervalMs: 0,
        pg: db,
        stream: { sleepMinMs: 0, sleepMaxMs: 5, maxInflight: 60, newBookingProb: 0.2 },
        // Make the rare events frequent enough to be seen in a short run.
        knobs: { largeMetadataProb: 0.05, deleteCancelledProb: 0.3, fareCorrectionProb: 0.1 },
      },
      ac.signal,
      quiet,
    );
    polling = false;
    await poller;

    expect([...seen].sort()).toEqual([
      'accepted',
      'arrived',
      'cancelled',
      'completed',
      'in_progress',
      'requested',
    ]);
    const k = res.counters;
    expect(k.completed).toBeGreaterThan(20);
    expect(k.cancelled.passenger).toBeGreaterThan(0);
    expect(k.cancelled.driver).toBeGreaterThan(0);
    expect(k.cancelled.system).toBeGreaterThan(0);
    expect(k.payments).toBe(k.completed);
    expect(k.fareCorrections).toBeGreaterThan(0);
    expect(k.deletes).toBeGreaterThan(0);
    expect(k.largeMetadata).toBeGreaterThan(0);
    expect(res.totals.byTable.bookings.delete).toBe(k.deletes);
    expect(res.rowsPerSecond).toBeGreaterThan(50);

    const { bookings } = await checkInvariants(db);
    expect(bookings.length).toBe(k.requested - k.deletes);
    const cancelledBy = new Set(bookings.filter((b) => b.status === 'cancelled').map((b) => b.cancelled_by));
    expect(cancelledBy).toEqual(new Set(['passenger', 'driver', 'system']));

    await withDb(db, async (c) => {
      const loc = await c.query<{ moved: string; history: string; drivers: string }>(
        `SELECT (SELECT count(*) FROM driver_locations WHERE updated_at > $1) AS moved,
                (SELECT count(*) FROM driver_location_history) AS history,
                (SELECT count(*) FROM drivers) AS drivers`,
        [startedAt],
      );
      const l = loc.rows[0]!;
      expect(Number(l.moved)).toBeGreaterThan(Number(l.drivers) / 4);
      expect(Number(l.history)).toBeGreaterThan(5 * Number(l.drivers));
      // Large metadata is stored out of line, and the booking moved on without rewriting it.
      const toast = await c.query<{ n: string }>(
        `SELECT count(*) AS n FROM bookings WHERE pg_column_toast_chunk_id(metadata) IS NOT NULL
           AND pg_column_size(metadata) > 8192 AND status <> 'requested' AND NOT metadata ? 'fare_correction'`,
      );
      expect(Number(toast.rows[0]!.n)).toBeGreaterThan(0);
      const corrected = await c.query<{ n: string }>(
        `SELECT count(*) AS n FROM bookings WHERE metadata ? 'fare_correction'`,
      );
      expect(Number(corrected.rows[0]!.n)).toBe(k.fareCorrections);
    });
  });

  it('runs one generator per database, stops cleanly on abort, and the next run resumes the bookings left in flight', async () => {
    const db = await freshDb('resume');
    const ac = new AbortController();
    const input: GeneratorInput = {
      mode: 'stream',
      volume: 'tiny',
      seconds: 0,
      progressIntervalMs: 0,
      pg: db,
      stream: { sleepMinMs: 0, sleepMaxMs: 10, maxInflight: 8, newBookingProb: 0.5 },
    };
    setTimeout(() => ac.abort(), 3_000);
    const t0 = performance.now();
    const running = runGenerator(input, ac.signal, quiet);
    // One generator per database: a second one is refused while the first runs.
    await new Promise((r) => setTimeout(r, 1_500));
    await expect(runGenerator({ ...input, seconds: 1 }, undefined, quiet)).rejects.toThrow(
      /another generator/,
    );
    const first = await running;
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(first.counters.requested).toBeGreaterThan(0);
    const inflight = await withDb(db, async (c) =>
      Number(
        (await c.query(`SELECT count(*) AS n FROM bookings WHERE status NOT IN ('completed', 'cancelled')`))
          .rows[0].n,
      ),
    );
    await checkInvariants(db);

    const second = await runGenerator({ ...input, seconds: 3 }, undefined, quiet);
    expect(second.resumed).toBe(inflight);
    await checkInvariants(db);
    // No connections left behind by either run.
    const leftovers = await admin(async (c) =>
      Number(
        (
          await c.query(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'ride-cdc-generator'`,
            [db.database],
          )
        ).rows[0].n,
      ),
    );
    expect(leftovers).toBe(0);
  });
});
