/**
 * Drivers: shifts (offline ↔ available), movement toward a pickup or drop-off, and the location
 * reports the driver app sends (UPDATE driver_locations, one row per driver, updated in place).
 */
import type { SimContext } from './context.js';
import { driverKey, now } from './context.js';
import type { VehicleType } from './fare.js';
import { bearingDeg, equirectKm, moveToward, round6 } from './geo.js';
import type { DriverStatus } from './lifecycle.js';
import type { Rng } from './rng.js';
import { SQL, type Session } from './writes.js';
import type { DriverSim } from './world.js';

/** City traffic: a leg's average speed, km/h (× the scenario's speed factor: rain slows everyone). */
export function legSpeedKmh(rng: Rng, vehicle: VehicleType, speedFactor = 1): number {
  return (vehicle === 'bike' ? rng.float(18, 32) : rng.float(14, 28)) * speedFactor;
}

/** Advances a driver one tick toward a point; returns true on arrival. */
export function moveDriver(
  ctx: SimContext,
  d: DriverSim,
  toLat: number,
  toLon: number,
  legSpeed: number,
): { arrived: boolean; movedKm: number } {
  const speed = legSpeed * ctx.rng.float(0.6, 1.25);
  const step = moveToward(d.lat, d.lon, toLat, toLon, (speed * ctx.clock.tickSeconds) / 3600);
  if (step.movedKm > 0) d.heading = Math.round(bearingDeg(d.lat, d.lon, toLat, toLon) * 10) / 10;
  d.lat = round6(step.lat);
  d.lon = round6(step.lon);
  d.speedKmh = step.arrived ? 0 : Math.round(speed * 10) / 10;
  d.zoneId = ctx.world.zones.lookup(d.lat, d.lon).id;
  return { arrived: step.arrived, movedKm: step.movedKm };
}

/** An idle driver cruises slowly, drifting back toward home when far from it. */
function roam(ctx: SimContext, d: DriverSim): void {
  const elapsed = Math.min(600, Math.max(ctx.clock.tickSeconds, now(ctx) - d.lastReportSim));
  const speed = ctx.rng.chance(0.35) ? 0 : ctx.rng.float(3, 15) * ctx.scenario.speedFactor;
  if (speed === 0) {
    d.speedKmh = 0;
    return;
  }
  const home = ctx.world.zones.get(d.homeZoneId);
  const far = equirectKm(d.lat, d.lon, home.centerLat, home.centerLon) > 4;
  const heading = far
    ? bearingDeg(d.lat, d.lon, home.centerLat, home.centerLon)
    : (d.heading + ctx.rng.float(-60, 60) + 360) % 360;
  const km = (speed * elapsed) / 3600;
  const rad = (heading * Math.PI) / 180;
  d.lat = round6(d.lat + (km / 111.2) * Math.cos(rad));
  d.lon = round6(d.lon + (km / (111.2 * Math.cos((d.lat * Math.PI) / 180))) * Math.sin(rad));
  d.heading = Math.round(heading * 10) / 10;
  d.speedKmh = Math.round(speed * 10) / 10;
  d.zoneId = ctx.world.zones.lookup(d.lat, d.lon).id;
}

/** Writes the driver's current position as the app would report it. Snapshot taken now. */
export function submitLocation(ctx: SimContext, d: DriverSim): void {
  const snap = { lat: d.lat, lon: d.lon, heading: d.heading, speed: d.speedKmh, zone: d.zoneId };
  d.lastReportSim = now(ctx);
  ctx.exec.submit([driverKey(d)], () => ctx.writer.auto((s) => writeLocation(ctx, s, d, snap)));
}

async function writeLocation(
  ctx: SimContext,
  s: Session,
  d: DriverSim,
  p: { lat: number; lon: number; heading: number; speed: number; zone: number },
): Promise<void> {
  const ts = ctx.clock.report(d);
  await s.write(
    'driver_locations',
    'update',
    SQL.locationUpdate,
    [d.id, p.lat, p.lon, p.heading, p.speed, p.zone, ts],
    { expect: 1 },
  );
  ctx.counters.locationReports++;
}

export function setDriverStatus(ctx: SimContext, d: DriverSim, status: DriverStatus): void {
  d.status = status;
  ctx.exec.submit([driverKey(d)], () =>
    ctx.writer.auto(async (s) => {
      const ts = ctx.clock.stamp([d]);
      await s.write('drivers', 'update', SQL.driverStatus, [d.id, status, ts], { expect: 1 });
      ctx.counters.driverStatusChanges++;
    }),
  );
}

export function goOnline(ctx: SimContext, d: DriverSim): void {
  setDriverStatus(ctx, d, 'available');
  d.speedKmh = 0;
  submitLocation(ctx, d);
}

/**
 * Shift changes for one tick: Poisson numbers of log-ins and log-outs whose rates keep the online
 * share near `knobs.onlineShare`. Busy drivers finish their trip first.
 */
export function shiftChanges(ctx: SimContext): void {
  const { knobs, world, rng } = ctx;
  let offline = 0;
  let available = 0;
  for (const d of world.drivers) {
    if (d.status === 'offline') offline++;
    else if (d.status === 'available') available++;
  }
  const meanOffline = (knobs.meanOnlineSeconds * (1 - knobs.onlineShare)) / knobs.onlineShare;
  const tick = ctx.clock.tickSeconds;
  const logins = rng.poisson((offline * tick) / meanOffline);
  const logouts = rng.poisson((available * tick) / knobs.meanOnlineSeconds);
  for (let i = 0; i < logins; i++) {
    const d = randomWithStatus(ctx, 'offline');
    if (d) goOnline(ctx, d);
  }
  for (let i = 0; i < logouts; i++) {
    const d = randomWithStatus(ctx, 'available');
    if (d) {
      d.speedKmh = 0;
      setDriverStatus(ctx, d, 'offline');
    }
  }
}

function randomWithStatus(ctx: SimContext, status: DriverStatus): DriverSim | undefined {
  const drivers = ctx.world.drivers;
  for (let tries = 0; tries < 40 && drivers.length > 0; tries++) {
    const d = ctx.rng.pick(drivers);
    if (d.status === status) return d;
  }
  return undefined;
}

/** Logs off a share of the idle online drivers at once (rain: many stop working when it starts). */
export function logoffShare(ctx: SimContext, share: number): number {
  let n = 0;
  if (share <= 0) return n;
  for (const d of ctx.world.drivers) {
    if (d.status === 'available' && ctx.rng.chance(share)) {
      d.speedKmh = 0;
      setDriverStatus(ctx, d, 'offline');
      n++;
    }
  }
  return n;
}

/** Brings drivers online at start until the target share is reached (the morning log-in). */
export function loginToShare(ctx: SimContext, share: number): number {
  const target = Math.round(ctx.world.drivers.length * share);
  let online = ctx.world.onlineCount();
  let n = 0;
  for (const d of ctx.world.drivers) {
    if (online >= target) break;
    if (d.status === 'offline' && ctx.rng.chance(0.8)) {
      goOnline(ctx, d);
      online++;
      n++;
    }
  }
  return n;
}

/**
 * Periodic reports: the next `n` online drivers in round-robin order send their position; idle
 * ones roam a little first. Busy drivers' positions were already advanced by their booking.
 * With `batch` > 1, up to that many reports share one UPDATE ... FROM unnest(...) statement (a
 * location service writing in bulk); the rows and the change events are the same.
 */
export class LocationReporter {
  private cursor = 0;

  constructor(private readonly batch = 1) {}

  report(ctx: SimContext, n: number): void {
    const drivers = ctx.world.drivers;
    if (n <= 0 || drivers.length === 0) return;
    let pending: DriverSim[] = [];
    let sent = 0;
    for (let scanned = 0; scanned < drivers.length && sent < n; scanned++) {
      const d = drivers[this.cursor % drivers.length]!;
      this.cursor = (this.cursor + 1) % drivers.length;
      if (d.status === 'offline') continue;
      if (d.status === 'available') roam(ctx, d);
      sent++;
      if (this.batch <= 1) {
        submitLocation(ctx, d);
        continue;
      }
      pending.push(d);
      if (pending.length >= this.batch) {
        submitLocationBatch(ctx, pending);
        pending = [];
      }
    }
    if (pending.length > 0) submitLocationBatch(ctx, pending);
  }
}

function submitLocationBatch(ctx: SimContext, ds: DriverSim[]): void {
  const snaps = ds.map((d) => ({
    d,
    lat: d.lat,
    lon: d.lon,
    heading: d.heading,
    speed: d.speedKmh,
    zone: d.zoneId,
  }));
  for (const d of ds) d.lastReportSim = now(ctx);
  ctx.exec.submit(
    ds.map((d) => driverKey(d)),
    () =>
      ctx.writer.auto(async (s) => {
        const ts = snaps.map((x) => ctx.clock.report(x.d));
        await s.write(
          'driver_locations',
          'update',
          SQL.locationUpdateBatch,
          [
            snaps.map((x) => x.d.id),
            snaps.map((x) => x.lat),
            snaps.map((x) => x.lon),
            snaps.map((x) => x.heading),
            snaps.map((x) => x.speed),
            snaps.map((x) => x.zone),
            ts,
          ],
          { rows: snaps.length, expect: snaps.length },
        );
        ctx.counters.locationReports += snaps.length;
      }),
  );
}
