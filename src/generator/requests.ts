/**
 * Ride requests: who asks, from where to where, in what vehicle, at what surge, and how the
 * booking is destined to end. The INSERT is the first write of a booking's life.
 */
import type { SimContext } from './context.js';
import { bookingKey, now } from './context.js';
import { computeFare, roundKm, surgeMultiplier, type VehicleType } from './fare.js';
import { haversineKm } from './geo.js';
import { drawFate } from './lifecycle.js';
import type { Rng } from './rng.js';
import { SQL } from './writes.js';
import type { BookingSim, PassengerSim, PaymentMethod, Place } from './world.js';

/** Straight line → expected route length. */
export const ROAD_FACTOR_ESTIMATE = 1.3;
const MIN_TRIP_KM = 0.8;

const VEHICLE_MIX: readonly [VehicleType, number][] = [
  ['bike', 0.6],
  ['car', 0.32],
  ['car_xl', 0.08],
];
const PAYMENT_MIX: readonly [PaymentMethod, number][] = [
  ['cash', 0.45],
  ['wallet', 0.35],
  ['card', 0.2],
];
const PROMOS = ['WELCOME50', 'RAINYDAY', 'WEEKEND20', 'TET2025', 'FREESHIP'];
const NOTES = ['Cho o cong chinh', 'Goi khi den', 'Co hanh ly', 'Don o sanh toa nha', 'Di duong Nguyen Hue'];

/** Requests per zone over a sliding window of sim time: the demand side of surge. */
export class DemandTracker {
  private readonly events: { t: number; zone: number }[] = [];
  private head = 0;
  private readonly counts = new Map<number, number>();

  constructor(private readonly windowSeconds: number) {}

  record(t: number, zone: number): void {
    this.events.push({ t, zone });
    this.counts.set(zone, (this.counts.get(zone) ?? 0) + 1);
  }

  recent(zone: number, t: number): number {
    while (this.head < this.events.length && this.events[this.head]!.t < t - this.windowSeconds) {
      const e = this.events[this.head++]!;
      this.counts.set(e.zone, (this.counts.get(e.zone) ?? 1) - 1);
    }
    if (this.head > 4096 && this.head * 2 > this.events.length) {
      this.events.splice(0, this.head);
      this.head = 0;
    }
    return this.counts.get(zone) ?? 0;
  }
}

/** Available drivers per zone, counted once per tick: the supply side of surge. */
export function supplyByZone(ctx: SimContext): Map<number, number> {
  const m = new Map<number, number>();
  for (const d of ctx.world.drivers)
    if (d.status === 'available') m.set(d.zoneId, (m.get(d.zoneId) ?? 0) + 1);
  return m;
}

function pickPassenger(ctx: SimContext): PassengerSim | undefined {
  const ps = ctx.world.passengers;
  for (let tries = 0; tries < 20 && ps.length > 0; tries++) {
    const p = ctx.rng.pick(ps);
    if (!p.riding) return p;
  }
  return undefined;
}

function mix<T>(rng: Rng, items: readonly [T, number][]): T {
  return rng.weighted(items, ([, w]) => w)[0];
}

function metadata(rng: Rng, large: boolean): Record<string, unknown> {
  const m: Record<string, unknown> = {
    channel: 'app',
    app_version: `5.${rng.int(8, 14)}.${rng.int(0, 9)}`,
    platform: rng.chance(0.68) ? 'android' : 'ios',
    promo_code: rng.chance(0.12) ? rng.pick(PROMOS) : null,
    note: rng.chance(0.1) ? rng.pick(NOTES) : null,
  };
  if (large) {
    // Random hex does not compress, so PostgreSQL stores the value out of line (TOAST); later
    // updates that leave metadata alone reach Debezium as the "unavailable value" placeholder.
    m.route_trace = { encoding: 'hex', samples: 750, data: rng.hex(12_000) };
  }
  return m;
}

/**
 * Plans a new request and submits its INSERT. Returns false when every passenger tried is already
 * riding. `atMs` pins requested_at (seed mode samples request times up front).
 */
export function requestRide(
  ctx: SimContext,
  demand: DemandTracker,
  supply: Map<number, number>,
  atMs?: number,
): boolean {
  const { world, rng, knobs } = ctx;
  const passenger = pickPassenger(ctx);
  if (!passenger) return false;
  const t = now(ctx);
  const boost = ctx.scenario.zoneDemand;
  // Under surge every pickup is drawn by weight × boost and the request rate is × demandBoost, so
  // the boosted zones get × their factor and the others keep their demand.
  const pickupZone =
    boost.size > 0
      ? world.pickupZone(rng, boost)
      : rng.chance(0.4)
        ? world.zones.get(passenger.homeZoneId)
        : world.demandZone(rng);
  const pickup = world.randomPointIn(rng, pickupZone);
  let dropoff: Place = pickup;
  for (let i = 0; i < 8; i++) {
    const dz = rng.chance(0.3) ? pickupZone : world.demandZone(rng);
    dropoff = world.randomPointIn(rng, dz);
    if (haversineKm(pickup.lat, pickup.lon, dropoff.lat, dropoff.lon) >= MIN_TRIP_KM) break;
  }
  const straight = haversineKm(pickup.lat, pickup.lon, dropoff.lat, dropoff.lon);
  const estKm = roundKm(Math.max(0.5, straight * ROAD_FACTOR_ESTIMATE));
  const vehicle = mix(rng, VEHICLE_MIX);
  const surge = surgeMultiplier(demand.recent(pickup.zoneId, t) + 1, supply.get(pickup.zoneId) ?? 0);
  demand.record(t, pickup.zoneId);
  const fate = drawFate(rng.next(), (reasons) => rng.pick(reasons), knobs.fateWeights);
  const large = rng.chance(knobs.largeMetadataProb);
  const meta = metadata(rng, large);
  const b: BookingSim = {
    seq: world.nextBookingSeq(),
    id: 0,
    passenger,
    status: 'requested',
    vehicle,
    paymentMethod: mix(rng, PAYMENT_MIX),
    pickup,
    dropoff,
    estKm,
    roadFactor: rng.float(1.15, 1.45),
    surge,
    fate,
    stageSince: t,
    dueSim: Infinity,
    matchDeadlineSim: t + rng.float(90, 180),
    legSpeedKmh: 0,
    tripStraightKm: 0,
    lastTs: 0,
  };
  if (fate.kind === 'cancel' && fate.at === 'requested' && fate.by === 'passenger') {
    b.cancelSim = t + rng.float(8, 60);
  } else if (!(fate.kind === 'cancel' && fate.by === 'system')) {
    // Time until the matching service offers the ride and a driver taps "accept".
    b.dueSim = t + 3 + rng.exp(12);
  }
  passenger.riding = true;
  world.active.push(b);
  const uuid = rng.uuid();
  const estimatedFare = computeFare(vehicle, estKm, surge);
  const metaJson = JSON.stringify(meta);
  ctx.exec.submit([bookingKey(b)], () =>
    ctx.writer.auto(async (s) => {
      const ts = ctx.clock.stamp([b], atMs);
      const res = await s.write('bookings', 'insert', SQL.bookingInsert, [
        uuid,
        passenger.id,
        vehicle,
        pickup.lat,
        pickup.lon,
        pickup.zoneId,
        dropoff.lat,
        dropoff.lon,
        dropoff.zoneId,
        ts,
        estimatedFare,
        estKm,
        surge,
        b.paymentMethod,
        metaJson,
      ]);
      b.id = Number((res.rows[0] as { id: string }).id);
      ctx.counters.requested++;
      if (large) ctx.counters.largeMetadata++;
    }),
  );
  return true;
}
