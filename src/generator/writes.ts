/**
 * Every SQL statement the simulated app issues, and the row accounting around them. Statements are
 * named so node-postgres prepares each once per connection. Each write first takes row tokens from
 * the rate limiter; updates guarded by the expected current status must touch exactly one row, or
 * the simulator's view of the database has diverged (a bug, or someone else editing the rows).
 */
import type pg from 'pg';
import { CAPTURED_TABLES, type CapturedTable } from '../config/captured-tables.js';
import { RideCdcError } from '../shared/errors.js';
import type { RateLimiter } from './throttle.js';

/** Every captured table but zones, which the generator only seeds. */
export type WrittenTable = Exclude<CapturedTable, 'zones'>;
export const WRITTEN_TABLES = CAPTURED_TABLES.filter((t): t is WrittenTable => t !== 'zones');
export type WriteOp = 'insert' | 'update' | 'delete';

export interface WriteTotals {
  /** Source rows inserted + updated + deleted (trigger-written history rows excluded). */
  rows: number;
  statements: number;
  transactions: number;
  byTable: Record<WrittenTable, Record<WriteOp, number>>;
}

export function emptyTotals(): WriteTotals {
  const byTable = Object.fromEntries(
    WRITTEN_TABLES.map((t) => [t, { insert: 0, update: 0, delete: 0 }]),
  ) as WriteTotals['byTable'];
  return { rows: 0, statements: 0, transactions: 0, byTable };
}

/** The simulator and the database disagree; continuing would write nonsense. */
export class SimulationStateError extends RideCdcError {
  constructor(message: string) {
    super(message, { retriable: false });
  }
}

interface Stmt {
  name: string;
  text: string;
}

export class Session {
  constructor(
    private readonly q: pg.Pool | pg.PoolClient,
    private readonly limiter: RateLimiter,
    private readonly totals: WriteTotals,
  ) {}

  async write(
    table: WrittenTable,
    op: WriteOp,
    stmt: Stmt,
    values: unknown[],
    opts: { rows?: number; expect?: number; throttle?: boolean } = {},
  ): Promise<pg.QueryResult> {
    if (opts.throttle !== false) await this.limiter.take(opts.rows ?? 1);
    const res = await this.q.query({ name: stmt.name, text: stmt.text, values });
    const n = res.rowCount ?? 0;
    if (opts.expect !== undefined && n !== opts.expect) {
      throw new SimulationStateError(
        `${stmt.name}(${JSON.stringify(values.slice(0, 2))}) touched ${n} rows, expected ${opts.expect}`,
      );
    }
    this.totals.statements++;
    this.totals.rows += n;
    this.totals.byTable[table][op] += n;
    return res;
  }
}

export class Writer {
  constructor(
    private readonly pool: pg.Pool,
    private readonly limiter: RateLimiter,
    readonly totals: WriteTotals,
  ) {}

  /** Autocommit statements on any pooled connection. */
  async auto<T>(fn: (s: Session) => Promise<T>): Promise<T> {
    return fn(new Session(this.pool, this.limiter, this.totals));
  }

  /** One transaction on one connection; rolled back if `fn` throws. */
  async tx<T>(fn: (s: Session) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const out = await fn(new Session(client, this.limiter, this.totals));
      await client.query('COMMIT');
      this.totals.transactions++;
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }
}

const s = (name: string, text: string): Stmt => ({ name, text });

export const SQL = {
  bookingInsert: s(
    'gen_booking_insert',
    `INSERT INTO bookings (booking_uuid, passenger_id, status, vehicle_type, pickup_lat, pickup_lon, pickup_zone_id,
       dropoff_lat, dropoff_lon, dropoff_zone_id, requested_at, estimated_fare, distance_km, surge_multiplier,
       payment_method, metadata, updated_at)
     VALUES ($1, $2, 'requested', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $10)
     RETURNING id`,
  ),
  bookingAccept: s(
    'gen_booking_accept',
    `UPDATE bookings SET status = 'accepted', driver_id = $2, accepted_at = $3, updated_at = $3
     WHERE id = $1 AND status = 'requested'`,
  ),
  bookingArrive: s(
    'gen_booking_arrive',
    `UPDATE bookings SET status = 'arrived', arrived_at = $2, updated_at = $2 WHERE id = $1 AND status = 'accepted'`,
  ),
  bookingStart: s(
    'gen_booking_start',
    `UPDATE bookings SET status = 'in_progress', started_at = $2, updated_at = $2 WHERE id = $1 AND status = 'arrived'`,
  ),
  bookingComplete: s(
    'gen_booking_complete',
    `UPDATE bookings SET status = 'completed', completed_at = $2, final_fare = $3, distance_km = $4, updated_at = $2
     WHERE id = $1 AND status = 'in_progress'`,
  ),
  bookingCancel: s(
    'gen_booking_cancel',
    `UPDATE bookings SET status = 'cancelled', cancelled_at = $2, cancelled_by = $3, cancel_reason = $4, updated_at = $2
     WHERE id = $1 AND status = $5`,
  ),
  bookingFareCorrection: s(
    'gen_booking_fare_correction',
    `UPDATE bookings SET final_fare = $2, metadata = metadata || $3::jsonb, updated_at = $4
     WHERE id = $1 AND status = 'completed'`,
  ),
  bookingDelete: s(
    'gen_booking_delete',
    `DELETE FROM bookings b WHERE b.id = $1 AND b.status = 'cancelled'
       AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.booking_id = b.id)
       AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.booking_id = b.id)`,
  ),
  driverStatus: s('gen_driver_status', `UPDATE drivers SET status = $2, updated_at = $3 WHERE id = $1`),
  locationUpdate: s(
    'gen_location_update',
    `UPDATE driver_locations SET lat = $2, lon = $3, heading = $4, speed_kmh = $5, zone_id = $6, updated_at = $7
     WHERE driver_id = $1`,
  ),
  locationUpdateBatch: s(
    'gen_location_update_batch',
    `UPDATE driver_locations l
     SET lat = v.lat, lon = v.lon, heading = v.heading, speed_kmh = v.speed_kmh, zone_id = v.zone_id, updated_at = v.updated_at
     FROM unnest($1::bigint[], $2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::int[], $7::timestamptz[])
          AS v(driver_id, lat, lon, heading, speed_kmh, zone_id, updated_at)
     WHERE l.driver_id = v.driver_id`,
  ),
  paymentInsert: s(
    'gen_payment_insert',
    `INSERT INTO payments (booking_id, amount, platform_fee, driver_earnings, method, status, paid_at)
     VALUES ($1, $2, $3, $4, $5, 'paid', $6)`,
  ),
  paymentAdjust: s(
    'gen_payment_adjust',
    `UPDATE payments SET amount = $2, platform_fee = $3, driver_earnings = $4 WHERE booking_id = $1`,
  ),
  paymentRefund: s(
    'gen_payment_refund',
    `UPDATE payments SET status = 'refunded' WHERE booking_id = $1 AND status = 'paid'`,
  ),
  ratingInsert: s(
    'gen_rating_insert',
    `INSERT INTO ratings (booking_id, rater_type, rater_id, ratee_id, score, comment, rated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
  ),
} as const;

/** `($1, $2, ...), ($k, ...)` for a multi-row insert of `rows` rows of `cols` columns. */
export function valuesPlaceholders(rows: number, cols: number): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const p: string[] = [];
    for (let c = 1; c <= cols; c++) p.push(`$${r * cols + c}`);
    out.push(`(${p.join(', ')})`);
  }
  return out.join(', ');
}
