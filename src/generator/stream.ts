/**
 * Stream mode: the city runs on the wall clock until --seconds elapse or the signal aborts. Each
 * tick plans a slice of city time (--stream-sim-seconds-per-tick), performs its writes with up to
 * --pool-size connections, then sleeps --stream-sleep-min..max ms. A run adopts the drivers,
 * passengers and in-flight bookings already in the database and tops the population up to the
 * volume.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WallClock } from './clock.js';
import { emptyCounters, type SimContext } from './context.js';
import { loginToShare, logoffShare, setDriverStatus } from './fleet.js';
import { cityHour as cityHourOf, effectsOf, scenarioFateWeights } from './scenarios.js';
import { Progress } from './progress.js';
import { Rng } from './rng.js';
import type { RunEnv, RunOutcome } from './run-env.js';
import { Simulation } from './sim.js';
import { KeyedExecutor, RateLimiter } from './throttle.js';
import {
  World,
  insertDrivers,
  insertPassengers,
  loadWorldState,
  loadZones,
  makeDrivers,
  makePassengers,
} from './world.js';
import { Writer, emptyTotals } from './writes.js';

export async function runStream(env: RunEnv): Promise<RunOutcome> {
  const { opts, pool, signal, log } = env;
  const totals = emptyTotals();
  const counters = emptyCounters();
  const world = new World(await loadZones(pool));
  const loaded = await loadWorldState(pool, world);
  // Runs on the wall clock are not reproducible anyway; mixing in the start time keeps booking
  // uuids of successive runs (and of a seed run with the same --seed) from colliding.
  const rng = new Rng(`${opts.seed}/stream/${Date.now()}`);
  const writer = new Writer(pool, new RateLimiter(opts.rate), totals);
  const scenario = effectsOf(opts.scenarios, opts.scenarioSettings);
  const clock = new WallClock(opts.stream.simSecondsPerTick, scenario.latency, rng.fork('latency'));
  const exec = new KeyedExecutor(opts.poolSize);
  const knobs = {
    ...opts.knobs,
    onlineShare: opts.knobs.onlineShare * scenario.onlineShareFactor,
    fateWeights: scenarioFateWeights(opts.knobs.fateWeights, scenario),
  };
  const ctx: SimContext = {
    world,
    clock,
    rng: rng.fork('simulation'),
    writer,
    exec,
    counters,
    knobs,
    scenario,
  };
  const sim = new Simulation(ctx, opts.stream.locationBatch);

  const nowMs = Date.now();
  const missingDrivers = opts.drivers - world.drivers.length;
  const missingPassengers = opts.passengers - world.passengers.length;
  if (missingPassengers > 0) {
    const rows = makePassengers(
      rng.fork(`population/passengers/${world.passengers.length}`),
      world,
      world.passengers.length,
      missingPassengers,
      nowMs,
    );
    await writer.auto((s) => insertPassengers(s, world, rows));
  }
  if (missingDrivers > 0) {
    const rows = makeDrivers(
      rng.fork(`population/drivers/${world.drivers.length}`),
      world,
      world.drivers.length,
      missingDrivers,
      {
        signedUpBefore: nowMs,
        statusAt: nowMs,
        onlineShare: 0,
      },
    );
    await writer.auto((s) => insertDrivers(s, world, rows));
  }

  // Driver status must agree with the bookings in flight before the simulation takes over.
  const onTrip = new Set(
    loaded.filter((b) => b.driverId !== null && b.status !== 'requested').map((b) => b.driverId),
  );
  for (const d of world.drivers) {
    if (onTrip.has(d.id)) {
      if (d.status !== 'busy') setDriverStatus(ctx, d, 'busy');
    } else if (d.status === 'busy') {
      setDriverStatus(ctx, d, 'available');
    }
  }
  const resumed = sim.resume(loaded);
  const loggedIn = loginToShare(ctx, knobs.onlineShare);
  const loggedOff = logoffShare(ctx, scenario.initialLogoffShare);
  await exec.drain();
  if (scenario.names.length > 0)
    log(`[generate stream] scenarios ${scenario.names.join(', ')}; ${loggedOff} drivers logged off at start`);
  log(
    `[generate stream] ${world.drivers.length} drivers (${Math.max(0, missingDrivers)} new, ${loggedIn} logged in), ` +
      `${world.passengers.length} passengers (${Math.max(0, missingPassengers)} new), ${resumed} bookings resumed; ` +
      `rate ${opts.rate > 0 ? `${opts.rate} rows/s` : 'unlimited'}, ${opts.seconds > 0 ? `${opts.seconds}s` : 'until interrupted'}`,
  );

  const progress = new Progress({ mode: 'stream', totals, counters, world }, opts.progressIntervalMs, log);
  const loopStart = performance.now();
  const rowsBefore = totals.rows;
  const deadline = opts.seconds > 0 ? loopStart + opts.seconds * 1000 : Infinity;
  const { maxInflight, newBookingProb, driverUpdates, sleepMinMs, sleepMaxMs } = opts.stream;
  const startHour = opts.cityHour ?? cityHourOf(Date.now());
  const zoneBoost = world.demandBoost(scenario.zoneDemand);
  let ticks = 0;
  while (!signal?.aborted && performance.now() < deadline && (opts.ticks === 0 || ticks < opts.ticks)) {
    // Demand scales the in-flight capacity: in steady state requests per tick are proportional to it.
    const hour = Math.floor(startHour + clock.simSeconds / 3600) % 24;
    const capacity = Math.round(maxInflight * scenario.demandAt(hour) * zoneBoost);
    let requests = 0;
    for (let free = capacity - world.active.length; free > 0; free--)
      if (ctx.rng.chance(newBookingProb)) requests++;
    sim.tick({ requests, driverUpdates, shifts: true });
    await exec.drain();
    clock.advance();
    ticks++;
    progress.maybeReport();
    const pause = Math.min(ctx.rng.float(sleepMinMs, sleepMaxMs), deadline - performance.now());
    if (pause >= 1) await sleep(pause, undefined, { signal }).catch(() => {});
  }
  const loopMs = performance.now() - loopStart;
  return {
    totals,
    counters,
    ticks,
    skipped: false,
    resumed,
    loopMs,
    loopRows: totals.rows - rowsBefore,
    summary: progress.final(),
  };
}
