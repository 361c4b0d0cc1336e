import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { expectExact, runFault } from '../support/fault-run.js';

/**
 * Fault 6: schema evolution of the source while it streams — a nullable column added to bookings
 * (and used), an enum value added (and used by new bookings, so KPI dimensions gain a value), two
 * numerics widened (precision, and scale: the Avro decimal's scale changes), the added column
 * dropped again. Debezium registers a new schema per change; events of the old and the new
 * schemas are both in the topics and both must decode, and every KPI stays exact.
 */
describe('fault: schema evolution mid-stream', () => {
  const seed = Number(process.env.FAULTS_SEED ?? Math.floor(Math.random() * 1e6));

  it(`old and new schemas decode; KPIs, Elasticsearch and the DLQ exact (seed ${seed})`, async () => {
    const r = await runFault({
      name: 'schema-evolution',
      seed,
      streamSeconds: 80,
      disrupt: async (ctx) => {
        const db = ctx.s.sourceDb;
        await ctx.until(0.15);
        await db.query('ALTER TABLE bookings ADD COLUMN promo_code text');
        await db.query(
          `UPDATE bookings SET promo_code = 'TET2026-' || id WHERE id IN (SELECT id FROM bookings ORDER BY id DESC LIMIT 5)`,
        );
        ctx.mark('bookings.promo_code added and set on 5 bookings');

        await ctx.until(0.35);
        await db.query(`ALTER TYPE vehicle_type ADD VALUE IF NOT EXISTS 'ev'`);
        // New bookings of the new vehicle type: requested now; one of them completes at once.
        const ins = await db.query<{ id: string }>(
          `INSERT INTO bookings (passenger_id, vehicle_type, pickup_lat, pickup_lon, pickup_zone_id, dropoff_lat, dropoff_lon,
                                 dropoff_zone_id, requested_at, estimated_fare, surge_multiplier, payment_method)
           SELECT passenger_id, 'ev', pickup_lat, pickup_lon, pickup_zone_id, dropoff_lat, dropoff_lon, dropoff_zone_id,
                  clock_timestamp(), estimated_fare, surge_multiplier, payment_method
             FROM bookings ORDER BY id LIMIT 4 RETURNING id::text`,
        );
        await sleep(1500);
        await db.query(
          `UPDATE bookings SET status = 'completed', driver_id = (SELECT min(id) FROM drivers),
                  accepted_at = requested_at + interval '20 s', arrived_at = requested_at + interval '3 min',
                  started_at = requested_at + interval '4 min', completed_at = clock_timestamp(),
                  final_fare = 87500.00, distance_km = 6.250, updated_at = clock_timestamp()
            WHERE id = $1`,
          [ins.rows[0]!.id],
        );
        ctx.mark(`enum value vehicle_type 'ev' added; ${ins.rowCount} ev bookings, one completed`);

        await ctx.until(0.55);
        await db.query('ALTER TABLE bookings ALTER COLUMN final_fare TYPE numeric(16,2)');
        await db.query('ALTER TABLE bookings ALTER COLUMN distance_km TYPE numeric(12,4)');
        await db.query(
          `UPDATE bookings SET final_fare = 123456789012.34, distance_km = 12.3456, updated_at = clock_timestamp() WHERE id = $1`,
          [ins.rows[1]!.id],
        );
        ctx.mark('final_fare widened to numeric(16,2), distance_km to numeric(12,4) (scale 3 → 4)');

        await ctx.until(0.75);
        await db.query('ALTER TABLE bookings DROP COLUMN promo_code');
        ctx.mark('bookings.promo_code dropped');
      },
    });
    expectExact(r);
    expect(r.deadLetters).toEqual([]);
  });
});
