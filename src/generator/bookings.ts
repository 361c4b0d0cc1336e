/**
 * Drives each booking in flight through its lifecycle, one step per tick at most. Every step is
 * one UPDATE of the booking row (plus, where the app would do it in the same transaction, the
 * driver's status and the payment).
 */
import { scheduleAfterCancellation, scheduleAfterCompletion, type AftercareTask } from './aftercare.js';
import type { SimContext } from './context.js';
import { bookingKey, driverKey, now } from './context.js';
import { computeFare, roundKm, splitPayment } from './fare.js';
import { legSpeedKmh, moveDriver, submitLocation } from './fleet.js';
import { equirectKm } from './geo.js';
import { assertTransition, isTerminal, type BookingStatus, type CancelActor } from './lifecycle.js';
import type { Scheduler } from './scheduler.js';
import { SQL, type Session } from './writes.js';
import type { BookingSim, DriverSim } from './world.js';

/** Matching radius, widened the longer a request waits (sim seconds → km). */
export function matchRadiusKm(waitedSeconds: number): number {
  return waitedSeconds < 30 ? 3 : waitedSeconds < 60 ? 6 : 12;
}

export class BookingFlow {
  constructor(
    private readonly ctx: SimContext,
    private readonly aftercare: Scheduler<AftercareTask>,
  ) {}

  /** Advances every booking in flight; finished ones leave `world.active`. */
  advanceAll(): void {
    const still: BookingSim[] = [];
    for (const b of this.ctx.world.active) {
      this.advance(b);
      if (!isTerminal(b.status)) still.push(b);
    }
    this.ctx.world.active = still;
  }

  private advance(b: BookingSim): void {
    const t = now(this.ctx);
    const fate = b.fate;
    switch (b.status) {
      case 'requested':
        if (b.cancelSim !== undefined && t >= b.cancelSim && fate.kind === 'cancel')
          return this.cancel(b, 'passenger', fate.reason);
        if (t >= b.matchDeadlineSim) {
          return this.cancel(
            b,
            'system',
            fate.kind === 'cancel' && fate.by === 'system' ? fate.reason : 'no_driver_available',
          );
        }
        if (t >= b.dueSim) {
          const d = this.ctx.world.nearestAvailable(
            b.vehicle,
            b.pickup.lat,
            b.pickup.lon,
            matchRadiusKm(t - b.stageSince),
          );
          if (d) this.accept(b, d);
        }
        return;
      case 'accepted': {
        if (b.cancelSim !== undefined && t >= b.cancelSim && fate.kind === 'cancel')
          return this.cancel(b, fate.by, fate.reason);
        const step = moveDriver(this.ctx, b.driver!, b.pickup.lat, b.pickup.lon, b.legSpeedKmh);
        if (step.arrived) this.arrive(b);
        return;
      }
      case 'arrived':
        if (t < b.dueSim) return;
        if (fate.kind === 'cancel' && fate.at === 'arrived') return this.cancel(b, fate.by, fate.reason);
        return this.start(b);
      case 'in_progress': {
        const step = moveDriver(this.ctx, b.driver!, b.dropoff.lat, b.dropoff.lon, b.legSpeedKmh);
        b.tripStraightKm += step.movedKm;
        if (step.arrived) this.complete(b);
        return;
      }
      default:
        return;
    }
  }

  private transition(b: BookingSim, to: BookingStatus, by?: CancelActor): BookingStatus {
    const from = b.status;
    assertTransition(from, to, by);
    b.status = to;
    b.stageSince = now(this.ctx);
    b.cancelSim = undefined;
    return from;
  }

  private accept(b: BookingSim, d: DriverSim): void {
    const { ctx } = this;
    const t = now(ctx);
    this.transition(b, 'accepted');
    b.driver = d;
    d.booking = b;
    d.status = 'busy';
    b.legSpeedKmh = legSpeedKmh(ctx.rng, b.vehicle, ctx.scenario.speedFactor);
    if (b.fate.kind === 'cancel' && b.fate.at === 'accepted') {
      const etaSec = (equirectKm(d.lat, d.lon, b.pickup.lat, b.pickup.lon) / b.legSpeedKmh) * 3600;
      b.cancelSim = t + Math.max(5, ctx.rng.float(0.2, 0.7) * etaSec);
    }
    ctx.exec.submit([bookingKey(b), driverKey(d)], () =>
      ctx.writer.tx(async (s) => {
        const ts = ctx.clock.stamp([b, d]);
        await s.write('bookings', 'update', SQL.bookingAccept, [b.id, d.id, ts], { expect: 1 });
        await s.write('drivers', 'update', SQL.driverStatus, [d.id, 'busy', ts], { expect: 1 });
        ctx.counters.accepted++;
        ctx.counters.driverStatusChanges++;
      }),
    );
    submitLocation(ctx, d);
  }

  private arrive(b: BookingSim): void {
    const { ctx } = this;
    this.transition(b, 'arrived');
    const noShow = b.fate.kind === 'cancel' && b.fate.at === 'arrived';
    b.dueSim = now(ctx) + (noShow ? ctx.rng.float(240, 420) : ctx.rng.float(20, 150));
    ctx.exec.submit([bookingKey(b)], () =>
      ctx.writer.auto(async (s) => {
        const ts = ctx.clock.stamp([b]);
        await s.write('bookings', 'update', SQL.bookingArrive, [b.id, ts], { expect: 1 });
        ctx.counters.arrived++;
      }),
    );
    submitLocation(ctx, b.driver!);
  }

  private start(b: BookingSim): void {
    const { ctx } = this;
    this.transition(b, 'in_progress');
    b.legSpeedKmh = legSpeedKmh(ctx.rng, b.vehicle, ctx.scenario.speedFactor);
    ctx.exec.submit([bookingKey(b)], () =>
      ctx.writer.auto(async (s) => {
        const ts = ctx.clock.stamp([b]);
        await s.write('bookings', 'update', SQL.bookingStart, [b.id, ts], { expect: 1 });
        ctx.counters.started++;
      }),
    );
  }

  private complete(b: BookingSim): void {
    const { ctx } = this;
    const d = b.driver!;
    this.transition(b, 'completed');
    const km = roundKm(Math.max(0.3, b.tripStraightKm * b.roadFactor));
    const fare = computeFare(b.vehicle, km, b.surge);
    b.finalFare = fare;
    const pay = splitPayment(b.vehicle, fare);
    d.status = 'available';
    d.booking = undefined;
    b.passenger.riding = false;
    ctx.exec.submit([bookingKey(b), driverKey(d)], () =>
      ctx.writer.tx(async (s) => {
        const ts = ctx.clock.stamp([b, d]);
        await s.write('bookings', 'update', SQL.bookingComplete, [b.id, ts, fare, km], { expect: 1 });
        await s.write('drivers', 'update', SQL.driverStatus, [d.id, 'available', ts], { expect: 1 });
        await s.write('payments', 'insert', SQL.paymentInsert, [
          b.id,
          pay.amount,
          pay.platformFee,
          pay.driverEarnings,
          b.paymentMethod,
          ts,
        ]);
        ctx.counters.completed++;
        ctx.counters.payments++;
        ctx.counters.driverStatusChanges++;
      }),
    );
    submitLocation(ctx, d);
    scheduleAfterCompletion(ctx, this.aftercare, b, now(ctx));
  }

  private cancel(b: BookingSim, by: CancelActor, reason: string): void {
    const { ctx } = this;
    const from = this.transition(b, 'cancelled', by);
    const d = b.driver;
    b.passenger.riding = false;
    if (d) {
      d.status = 'available';
      d.booking = undefined;
      d.speedKmh = 0;
    }
    const keys = d ? [bookingKey(b), driverKey(d)] : [bookingKey(b)];
    const write = (fn: (s: Session) => Promise<void>): Promise<void> =>
      d ? ctx.writer.tx(fn) : ctx.writer.auto(fn);
    ctx.exec.submit(keys, () =>
      write(async (s) => {
        const ts = ctx.clock.stamp(d ? [b, d] : [b]);
        await s.write('bookings', 'update', SQL.bookingCancel, [b.id, ts, by, reason, from], { expect: 1 });
        if (d) {
          await s.write('drivers', 'update', SQL.driverStatus, [d.id, 'available', ts], { expect: 1 });
          ctx.counters.driverStatusChanges++;
        }
        ctx.counters.cancelled[by]++;
      }),
    );
    scheduleAfterCancellation(ctx, this.aftercare, b, now(ctx));
  }
}
