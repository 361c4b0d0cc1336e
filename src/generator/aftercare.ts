/**
 * What happens to a booking after it ends: ratings (both directions, sometimes), a rare fare
 * correction (final_fare and the payment change together), a rare refund, and a rare DELETE of a
 * cancelled booking that was never paid — so downstream sees updates long after completion and
 * real deletes.
 */
import type { SimContext } from './context.js';
import { bookingKey } from './context.js';
import { splitPayment } from './fare.js';
import type { Scheduler } from './scheduler.js';
import { SQL } from './writes.js';
import type { BookingSim } from './world.js';

export type AftercareTask =
  | { kind: 'rating'; booking: BookingSim; rater: 'passenger' | 'driver' }
  | { kind: 'fareCorrection'; booking: BookingSim }
  | { kind: 'refund'; booking: BookingSim }
  | { kind: 'delete'; booking: BookingSim };

const PASSENGER_COMMENTS = [
  'Tai xe than thien',
  'Lai xe an toan',
  'Xe sach se',
  'Den dung gio',
  'Hoi cham',
  'Lai xe hoi nhanh',
];
const DRIVER_COMMENTS = ['Khach lich su', 'Cho hoi lau', 'Khach vui ve'];
const TOLLS = [5_000, 10_000, 15_000, 25_000];

export function scheduleAfterCompletion(
  ctx: SimContext,
  q: Scheduler<AftercareTask>,
  b: BookingSim,
  t: number,
): void {
  const { rng, knobs } = ctx;
  if (rng.chance(knobs.passengerRatesProb))
    q.schedule(t + rng.float(30, 1200), { kind: 'rating', booking: b, rater: 'passenger' });
  if (rng.chance(knobs.driverRatesProb))
    q.schedule(t + rng.float(10, 300), { kind: 'rating', booking: b, rater: 'driver' });
  if (rng.chance(knobs.fareCorrectionProb))
    q.schedule(t + rng.float(300, 1800), { kind: 'fareCorrection', booking: b });
  if (rng.chance(knobs.refundProb)) q.schedule(t + rng.float(600, 2400), { kind: 'refund', booking: b });
}

export function scheduleAfterCancellation(
  ctx: SimContext,
  q: Scheduler<AftercareTask>,
  b: BookingSim,
  t: number,
): void {
  if (ctx.rng.chance(ctx.knobs.deleteCancelledProb))
    q.schedule(t + ctx.rng.float(60, 600), { kind: 'delete', booking: b });
}

function score(ctx: SimContext, byPassenger: boolean): number {
  const r = ctx.rng.next();
  return byPassenger
    ? r < 0.7
      ? 5
      : r < 0.88
        ? 4
        : r < 0.95
          ? 3
          : r < 0.98
            ? 2
            : 1
    : r < 0.8
      ? 5
      : r < 0.95
        ? 4
        : r < 0.99
          ? 3
          : 2;
}

export function runAftercare(ctx: SimContext, task: AftercareTask): void {
  const b = task.booking;
  const key = [bookingKey(b)];
  switch (task.kind) {
    case 'rating': {
      const byPassenger = task.rater === 'passenger';
      const sc = score(ctx, byPassenger);
      const comment = ctx.rng.chance(0.35)
        ? ctx.rng.pick(byPassenger ? PASSENGER_COMMENTS : DRIVER_COMMENTS)
        : null;
      const driverId = b.driver!.id;
      ctx.exec.submit(key, () =>
        ctx.writer.auto(async (s) => {
          const ts = ctx.clock.stamp([b]);
          const [rater, ratee] = byPassenger ? [b.passenger.id, driverId] : [driverId, b.passenger.id];
          await s.write('ratings', 'insert', SQL.ratingInsert, [
            b.id,
            task.rater,
            rater,
            ratee,
            sc,
            comment,
            ts,
          ]);
          ctx.counters.ratings++;
        }),
      );
      return;
    }
    case 'fareCorrection': {
      const old = b.finalFare!;
      const toll = ctx.rng.chance(0.6);
      const delta = toll ? ctx.rng.pick(TOLLS) : -Math.min(30_000, Math.round((old * 0.2) / 100) * 100);
      const fare = Math.max(10_000, old + delta);
      b.finalFare = fare;
      const reason = toll ? 'toll_added' : 'goodwill_discount';
      ctx.exec.submit(key, () =>
        ctx.writer.tx(async (s) => {
          const ts = ctx.clock.stamp([b]);
          const patch = JSON.stringify({
            fare_correction: {
              reason,
              delta: fare - old,
              previous_fare: old,
              corrected_at: ts.toISOString(),
            },
          });
          await s.write('bookings', 'update', SQL.bookingFareCorrection, [b.id, fare, patch, ts], {
            expect: 1,
          });
          const p = splitPayment(b.vehicle, fare);
          await s.write(
            'payments',
            'update',
            SQL.paymentAdjust,
            [b.id, p.amount, p.platformFee, p.driverEarnings],
            { expect: 1 },
          );
          ctx.counters.fareCorrections++;
        }),
      );
      return;
    }
    case 'refund':
      ctx.exec.submit(key, () =>
        ctx.writer.auto(async (s) => {
          await s.write('payments', 'update', SQL.paymentRefund, [b.id], { expect: 1 });
          ctx.counters.refunds++;
        }),
      );
      return;
    case 'delete':
      ctx.exec.submit(key, () =>
        ctx.writer.auto(async (s) => {
          await s.write('bookings', 'delete', SQL.bookingDelete, [b.id], { expect: 1 });
          ctx.counters.deletes++;
        }),
      );
      return;
  }
}
