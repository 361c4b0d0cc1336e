/**
 * The simulator's in-memory city: zones, drivers (position, status, current booking), passengers
 * and the bookings in flight. Loaded from ride_hailing_db in stream mode (so a run resumes where
 * the previous one stopped) or built from scratch in seed mode.
 */
import type pg from 'pg';
import type { VehicleType } from './fare.js';
import { VEHICLE_TYPES } from './fare.js';
import type { BookingStatus, DriverStatus, Fate } from './lifecycle.js';
import { equirectKm, round6 } from './geo.js';
import { email, fullName, phone, plate } from './names.js';
import type { Rng } from './rng.js';
import { valuesPlaceholders, type Session } from './writes.js';
import { ZoneIndex, type Zone } from './zones.js';

export type PaymentMethod = 'cash' | 'card' | 'wallet';

export interface Place {
  lat: number;
  lon: number;
  zoneId: number;
}

/** Anything with business timestamps that must increase per entity. */
export interface Stamped {
  lastTs: number;
}

export interface DriverSim extends Stamped {
  id: number;
  vehicle: VehicleType;
  status: DriverStatus;
  homeZoneId: number;
  lat: number;
  lon: number;
  heading: number;
  speedKmh: number;
  zoneId: number;
  booking?: BookingSim;
  /** Sim second of the last location report written. */
  lastReportSim: number;
}

export interface PassengerSim {
  id: number;
  homeZoneId: number;
  riding: boolean;
}

export interface BookingSim extends Stamped {
  /** Local sequence number; the executor key before the database id is known. */
  seq: number;
  /** Database id; 0 until the INSERT returned. */
  id: number;
  passenger: PassengerSim;
  driver?: DriverSim;
  status: BookingStatus;
  vehicle: VehicleType;
  paymentMethod: PaymentMethod;
  pickup: Place;
  dropoff: Place;
  /** Estimated route distance (straight line × 1.3). */
  estKm: number;
  /** Actual route length / straight line for this trip. */
  roadFactor: number;
  surge: number;
  fate: Fate;
  /** Sim second the current stage began. */
  stageSince: number;
  /** Sim second the next scheduled step of the current stage is due. */
  dueSim: number;
  /** Sim second a planned cancellation fires (per fate), if any. */
  cancelSim?: number;
  /** Sim second after which an unmatched request is cancelled by the system. */
  matchDeadlineSim: number;
  legSpeedKmh: number;
  tripStraightKm: number;
  finalFare?: number;
}

export class World {
  readonly zones: ZoneIndex;
  readonly drivers: DriverSim[] = [];
  readonly passengers: PassengerSim[] = [];
  /** Bookings not yet completed or cancelled, in request order. */
  active: BookingSim[] = [];
  private bookingSeq = 0;

  constructor(zones: readonly Zone[]) {
    this.zones = new ZoneIndex(zones);
  }

  nextBookingSeq(): number {
    return ++this.bookingSeq;
  }

  onlineCount(): number {
    let n = 0;
    for (const d of this.drivers) if (d.status !== 'offline') n++;
    return n;
  }

  busyCount(): number {
    let n = 0;
    for (const d of this.drivers) if (d.status === 'busy') n++;
    return n;
  }

  /** Nearest available driver of the vehicle type within `radiusKm`, or undefined. */
  nearestAvailable(vehicle: VehicleType, lat: number, lon: number, radiusKm: number): DriverSim | undefined {
    let best: DriverSim | undefined;
    let bestD = radiusKm;
    for (const d of this.drivers) {
      if (d.status !== 'available' || d.vehicle !== vehicle) continue;
      const dist = equirectKm(lat, lon, d.lat, d.lon);
      if (dist <= bestD) {
        best = d;
        bestD = dist;
      }
    }
    return best;
  }

  /** A point in the zone, normally distributed around its centroid and clamped to its box. */
  randomPointIn(rng: Rng, zone: Zone): Place {
    const halfLat = (zone.maxLat - zone.minLat) / 2;
    const halfLon = (zone.maxLon - zone.minLon) / 2;
    const lat = clamp(rng.normal(zone.centerLat, halfLat / 2.5), zone.minLat, zone.maxLat);
    const lon = clamp(rng.normal(zone.centerLon, halfLon / 2.5), zone.minLon, zone.maxLon);
    const p = { lat: round6(lat), lon: round6(lon) };
    return { ...p, zoneId: this.zones.lookup(p.lat, p.lon).id };
  }

  demandZone(rng: Rng): Zone {
    return rng.weighted(this.zones.zones, (z) => z.demandWeight);
  }

  /** A pickup zone: demand weight × the scenario's boost of that zone (surge). */
  pickupZone(rng: Rng, boost: ReadonlyMap<number, number>): Zone {
    if (boost.size === 0) return this.demandZone(rng);
    return rng.weighted(this.zones.zones, (z) => z.demandWeight * (boost.get(z.id) ?? 1));
  }

  /** Total demand relative to no boost: Σ weight × boost / Σ weight. */
  demandBoost(boost: ReadonlyMap<number, number>): number {
    let base = 0;
    let boosted = 0;
    for (const z of this.zones.zones) {
      base += z.demandWeight;
      boosted += z.demandWeight * (boost.get(z.id) ?? 1);
    }
    return base > 0 ? boosted / base : 1;
  }
}

export function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

// ---------------------------------------------------------------------------------------------
// Population

export interface NewDriver {
  fullName: string;
  phone: string;
  vehicle: VehicleType;
  plate: string;
  status: DriverStatus;
  homeZoneId: number;
  createdAt: Date;
  updatedAt: Date;
  location: Place & { heading: number };
}

export interface NewPassenger {
  fullName: string;
  phone: string;
  email: string | null;
  homeZoneId: number;
  createdAt: Date;
}

/** 60% motorbikes, 30% cars, 10% XL, by index so even a tiny fleet has every type. */
export function vehicleForIndex(i: number): VehicleType {
  const m = i % 10;
  return m < 6 ? 'bike' : m < 9 ? 'car' : 'car_xl';
}

export function makeDrivers(
  rng: Rng,
  world: World,
  startIndex: number,
  count: number,
  opts: { signedUpBefore: number; statusAt: number; onlineShare: number },
): NewDriver[] {
  const out: NewDriver[] = [];
  for (let i = startIndex; i < startIndex + count; i++) {
    const vehicle = vehicleForIndex(i);
    const name = fullName(rng);
    // Drivers live where the rides are, with some spread.
    const home = rng.chance(0.7) ? world.demandZone(rng) : rng.pick(world.zones.zones);
    const createdAt = opts.signedUpBefore - rng.int(1, 540) * 86_400_000 - rng.int(0, 86_399_999);
    const loc = world.randomPointIn(rng, home);
    out.push({
      fullName: name,
      phone: phone(rng),
      vehicle,
      plate: plate(rng, vehicle),
      status: rng.chance(opts.onlineShare) ? 'available' : 'offline',
      homeZoneId: home.id,
      createdAt: new Date(createdAt),
      updatedAt: new Date(opts.statusAt),
      location: { ...loc, heading: rng.int(0, 359) },
    });
  }
  return out;
}

export function makePassengers(
  rng: Rng,
  world: World,
  startIndex: number,
  count: number,
  signedUpBefore: number,
): NewPassenger[] {
  const out: NewPassenger[] = [];
  for (let i = startIndex; i < startIndex + count; i++) {
    const name = fullName(rng);
    const home = world.demandZone(rng);
    out.push({
      fullName: name,
      phone: phone(rng),
      email: rng.chance(0.7) ? email(rng, name, i) : null,
      homeZoneId: home.id,
      createdAt: new Date(signedUpBefore - rng.int(1, 900) * 86_400_000 - rng.int(0, 86_399_999)),
    });
  }
  return out;
}

const BATCH = 500;

/**
 * Multi-row INSERTs in list order. On a fresh database the bigserial ids follow that order, which
 * seed mode's determinism relies on; the returned ids are checked to be increasing. Population is
 * set-up, not load: it bypasses --rate.
 */
export async function insertDrivers(s: Session, world: World, rows: NewDriver[]): Promise<DriverSim[]> {
  const created: DriverSim[] = [];
  for (let off = 0; off < rows.length; off += BATCH) {
    const chunk = rows.slice(off, off + BATCH);
    const values: unknown[] = [];
    for (const d of chunk)
      values.push(d.fullName, d.phone, d.vehicle, d.plate, d.status, d.homeZoneId, d.createdAt, d.updatedAt);
    const res = await s.write(
      'drivers',
      'insert',
      {
        name: `gen_drivers_insert_${chunk.length}`,
        text: `INSERT INTO drivers (full_name, phone, vehicle_type, plate_number, status, home_zone_id, created_at, updated_at)
               VALUES ${valuesPlaceholders(chunk.length, 8)} RETURNING id`,
      },
      values,
      { rows: chunk.length, throttle: false },
    );
    const ids = increasingIds(res.rows as { id: string }[]);
    const locValues: unknown[] = [];
    chunk.forEach((d, i) => {
      const id = ids[i]!;
      const sim: DriverSim = {
        id,
        vehicle: d.vehicle,
        status: d.status,
        homeZoneId: d.homeZoneId,
        lat: d.location.lat,
        lon: d.location.lon,
        heading: d.location.heading,
        speedKmh: 0,
        zoneId: d.location.zoneId,
        lastReportSim: 0,
        lastTs: d.updatedAt.getTime(),
      };
      created.push(sim);
      world.drivers.push(sim);
      locValues.push(id, sim.lat, sim.lon, sim.heading, 0, sim.zoneId, d.updatedAt);
    });
    await s.write(
      'driver_locations',
      'insert',
      {
        name: `gen_locations_insert_${chunk.length}`,
        text: `INSERT INTO driver_locations (driver_id, lat, lon, heading, speed_kmh, zone_id, updated_at)
               VALUES ${valuesPlaceholders(chunk.length, 7)}`,
      },
      locValues,
      { rows: chunk.length, throttle: false },
    );
  }
  return created;
}

export async function insertPassengers(s: Session, world: World, rows: NewPassenger[]): Promise<void> {
  for (let off = 0; off < rows.length; off += BATCH) {
    const chunk = rows.slice(off, off + BATCH);
    const values: unknown[] = [];
    for (const p of chunk) values.push(p.fullName, p.phone, p.email, p.homeZoneId, p.createdAt);
    const res = await s.write(
      'passengers',
      'insert',
      {
        name: `gen_passengers_insert_${chunk.length}`,
        text: `INSERT INTO passengers (full_name, phone, email, home_zone_id, created_at)
               VALUES ${valuesPlaceholders(chunk.length, 5)} RETURNING id`,
      },
      values,
      { rows: chunk.length, throttle: false },
    );
    const ids = increasingIds(res.rows as { id: string }[]);
    chunk.forEach((p, i) => world.passengers.push({ id: ids[i]!, homeZoneId: p.homeZoneId, riding: false }));
  }
}

function increasingIds(rows: { id: string }[]): number[] {
  const ids = rows.map((r) => Number(r.id));
  for (let i = 1; i < ids.length; i++) {
    if (!(ids[i]! > ids[i - 1]!))
      throw new Error('INSERT ... RETURNING did not return ids in insertion order');
  }
  return ids;
}

// ---------------------------------------------------------------------------------------------
// Loading

interface ZoneRow {
  id: number;
  code: string;
  name: string;
  center_lat: number;
  center_lon: number;
  min_lat: number;
  max_lat: number;
  min_lon: number;
  max_lon: number;
  demand_weight: string;
}

export async function loadZones(q: pg.Pool | pg.ClientBase): Promise<Zone[]> {
  const { rows } = await q.query<ZoneRow>('SELECT * FROM zones ORDER BY id');
  return rows.map((r) => ({
    id: r.id,
    code: r.code,
    name: r.name,
    centerLat: r.center_lat,
    centerLon: r.center_lon,
    minLat: r.min_lat,
    maxLat: r.max_lat,
    minLon: r.min_lon,
    maxLon: r.max_lon,
    demandWeight: Number(r.demand_weight),
  }));
}

export interface LoadedBooking {
  id: number;
  passengerId: number;
  driverId: number | null;
  status: BookingStatus;
  vehicle: VehicleType;
  paymentMethod: PaymentMethod;
  pickup: Place;
  dropoff: Place;
  distanceKm: number;
  surge: number;
  lastTs: number;
}

/** Drivers (with their last location), passengers and the bookings still in flight. */
export async function loadWorldState(q: pg.Pool, world: World): Promise<LoadedBooking[]> {
  const drivers = await q.query<{
    id: string;
    vehicle_type: VehicleType;
    status: DriverStatus;
    home_zone_id: number;
    lat: number | null;
    lon: number | null;
    heading: number | null;
    zone_id: number | null;
    ts: Date;
  }>(
    `SELECT d.id, d.vehicle_type, d.status, d.home_zone_id, l.lat, l.lon, l.heading, l.zone_id,
            GREATEST(d.updated_at, COALESCE(l.updated_at, d.updated_at)) AS ts
     FROM drivers d LEFT JOIN driver_locations l ON l.driver_id = d.id ORDER BY d.id`,
  );
  for (const r of drivers.rows) {
    const home = world.zones.get(r.home_zone_id);
    const lat = r.lat ?? home.centerLat;
    const lon = r.lon ?? home.centerLon;
    world.drivers.push({
      id: Number(r.id),
      vehicle: VEHICLE_TYPES.includes(r.vehicle_type) ? r.vehicle_type : 'car',
      status: r.status,
      homeZoneId: r.home_zone_id,
      lat,
      lon,
      heading: r.heading ?? 0,
      speedKmh: 0,
      zoneId: r.zone_id ?? world.zones.lookup(lat, lon).id,
      lastReportSim: 0,
      lastTs: r.ts.getTime(),
    });
  }
  const passengers = await q.query<{ id: string; home_zone_id: number }>(
    'SELECT id, home_zone_id FROM passengers ORDER BY id',
  );
  for (const r of passengers.rows)
    world.passengers.push({ id: Number(r.id), homeZoneId: r.home_zone_id, riding: false });

  const active = await q.query<{
    id: string;
    passenger_id: string;
    driver_id: string | null;
    status: BookingStatus;
    vehicle_type: VehicleType;
    payment_method: PaymentMethod;
    pickup_lat: number;
    pickup_lon: number;
    pickup_zone_id: number;
    dropoff_lat: number;
    dropoff_lon: number;
    dropoff_zone_id: number;
    distance_km: string | null;
    surge_multiplier: string;
    ts: Date;
  }>(
    `SELECT id, passenger_id, driver_id, status, vehicle_type, payment_method, pickup_lat, pickup_lon, pickup_zone_id,
            dropoff_lat, dropoff_lon, dropoff_zone_id, distance_km, surge_multiplier,
            GREATEST(requested_at, accepted_at, arrived_at, started_at, updated_at) AS ts
     FROM bookings WHERE status IN ('requested', 'accepted', 'arrived', 'in_progress') ORDER BY id`,
  );
  return active.rows.map((r) => ({
    id: Number(r.id),
    passengerId: Number(r.passenger_id),
    driverId: r.driver_id === null ? null : Number(r.driver_id),
    status: r.status,
    vehicle: r.vehicle_type,
    paymentMethod: r.payment_method,
    pickup: { lat: r.pickup_lat, lon: r.pickup_lon, zoneId: r.pickup_zone_id },
    dropoff: { lat: r.dropoff_lat, lon: r.dropoff_lon, zoneId: r.dropoff_zone_id },
    distanceKm: r.distance_km === null ? 0 : Number(r.distance_km),
    surge: Number(r.surge_multiplier),
    lastTs: r.ts.getTime(),
  }));
}
