/**
 * One tick of the city: shift changes, new requests, every booking in flight advanced one step,
 * periodic location reports, due after-care. Planning happens here synchronously; the writes it
 * submits are awaited by the caller (`exec.drain()`) before the next tick.
 */
import { runAftercare, type AftercareTask } from './aftercare.js';
import { BookingFlow } from './bookings.js';
import type { SimContext } from './context.js';
import { now } from './context.js';
import { LocationReporter, legSpeedKmh, shiftChanges } from './fleet.js';
import { equirectKm } from './geo.js';
import { DemandTracker, requestRide, supplyByZone } from './requests.js';
import { Scheduler } from './scheduler.js';
import type { BookingSim, LoadedBooking } from './world.js';

export interface TickPlan {
  /** New requests this tick: a count (stream) or pinned request times in ms (seed). */
  requests: number | readonly number[];
  /** Location reports beyond the event-driven ones. */
  driverUpdates: number;
  /** Whether drivers log in and out this tick (seed mode stops them while draining). */
  shifts: boolean;
}

export class Simulation {
  private readonly aftercare = new Scheduler<AftercareTask>();
  private readonly flow: BookingFlow;
  private readonly demand: DemandTracker;
  private readonly reporter: LocationReporter;

  constructor(
    readonly ctx: SimContext,
    locationBatch = 1,
  ) {
    this.reporter = new LocationReporter(locationBatch);
    this.flow = new BookingFlow(ctx, this.aftercare);
    this.demand = new DemandTracker(ctx.knobs.surgeWindowSeconds);
  }

  get pendingAftercare(): number {
    return this.aftercare.size;
  }

  tick(plan: TickPlan): void {
    const { ctx } = this;
    if (plan.shifts) shiftChanges(ctx);
    const supply = supplyByZone(ctx);
    if (typeof plan.requests === 'number') {
      for (let i = 0; i < plan.requests; i++) requestRide(ctx, this.demand, supply);
    } else {
      for (const at of plan.requests) requestRide(ctx, this.demand, supply, at);
    }
    this.flow.advanceAll();
    this.reporter.report(ctx, plan.driverUpdates);
    for (const task of this.aftercare.popDue(now(ctx))) runAftercare(ctx, task);
  }

  /**
   * Adopts bookings left in flight by an earlier run (stream mode restarts where it stopped). They
   * carry on to completion unless no driver can be found.
   */
  resume(loaded: readonly LoadedBooking[]): number {
    const { world, rng } = this.ctx;
    const t = now(this.ctx);
    const passengers = new Map(world.passengers.map((p) => [p.id, p]));
    const drivers = new Map(world.drivers.map((d) => [d.id, d]));
    let n = 0;
    for (const r of loaded) {
      const passenger = passengers.get(r.passengerId);
      const driver = r.driverId === null ? undefined : drivers.get(r.driverId);
      if (!passenger || (r.status !== 'requested' && !driver)) continue;
      const b: BookingSim = {
        seq: world.nextBookingSeq(),
        id: r.id,
        passenger,
        driver,
        status: r.status,
        vehicle: r.vehicle,
        paymentMethod: r.paymentMethod,
        pickup: r.pickup,
        dropoff: r.dropoff,
        estKm: r.distanceKm,
        roadFactor: rng.float(1.15, 1.45),
        surge: r.surge,
        fate: { kind: 'complete' },
        stageSince: t,
        dueSim: t + rng.float(5, 30),
        matchDeadlineSim: t + rng.float(90, 180),
        legSpeedKmh: legSpeedKmh(rng, r.vehicle, this.ctx.scenario.speedFactor),
        tripStraightKm: 0,
        lastTs: r.lastTs,
      };
      if (r.status === 'in_progress' && driver) {
        b.tripStraightKm = equirectKm(r.pickup.lat, r.pickup.lon, driver.lat, driver.lon);
      }
      passenger.riding = true;
      if (driver) {
        driver.booking = b;
        driver.status = 'busy';
      }
      world.active.push(b);
      n++;
    }
    return n;
  }
}
