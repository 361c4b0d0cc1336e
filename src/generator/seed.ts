/**
 * Seed mode: a fresh ride_hailing_db gets a population and a history of bookings over the days
 * before --base-time, played out by the same simulation as stream mode but on simulated time,
 * sequentially, on one connection. Same seed + same options + fresh database ⇒ identical rows
 * (ids, uuids, timestamps, everything).
 */
import { ConfigError } from '../shared/errors.js';
import { SimulatedClock } from './clock.js';
import { emptyCounters, type SimContext } from './context.js';
import { Progress } from './progress.js';
import { cityHour, HOURLY_DEMAND, NO_SCENARIO } from './scenarios.js';
import { Rng } from './rng.js';
import type { RunEnv, RunOutcome } from './run-env.js';
import { Simulation } from './sim.js';
import { KeyedExecutor, RateLimiter } from './throttle.js';
import { World, insertDrivers, insertPassengers, loadZones, makeDrivers, makePassengers } from './world.js';
import { Writer, emptyTotals } from './writes.js';

const DAY_MS = 86_400_000;

export { HOURLY_DEMAND } from './scenarios.js';

/** `n` request times in [fromMs, toMs) following HOURLY_DEMAND (rejection sampling), ascending. */
export function sampleRequestTimes(rng: Rng, n: number, fromMs: number, toMs: number): number[] {
  const max = Math.max(...HOURLY_DEMAND);
  const out: number[] = [];
  while (out.length < n) {
    const t = Math.floor(rng.float(fromMs, toMs));
    if (rng.next() * max < HOURLY_DEMAND[cityHour(t)]!) out.push(t);
  }
  return out.sort((a, b) => a - b);
}

export async function runSeed(env: RunEnv): Promise<RunOutcome> {
  const { opts, pool, signal, log } = env;
  const totals = emptyTotals();
  const counters = emptyCounters();
  const existing = await pool.query<{ drivers: string; passengers: string; bookings: string }>(
    `SELECT (SELECT count(*) FROM drivers) AS drivers, (SELECT count(*) FROM passengers) AS passengers,
            (SELECT count(*) FROM bookings) AS bookings`,
  );
  const ex = existing.rows[0]!;
  if (Number(ex.drivers) + Number(ex.passengers) + Number(ex.bookings) > 0) {
    const what = `ride_hailing_db already has ${ex.drivers} drivers, ${ex.passengers} passengers, ${ex.bookings} bookings`;
    if (opts.ifSeeded === 'skip') {
      log(`[generate seed] ${what}; skipping (--if-seeded skip)`);
      return {
        totals,
        counters,
        ticks: 0,
        skipped: true,
        resumed: 0,
        loopMs: 0,
        loopRows: 0,
        summary: 'skipped',
      };
    }
    throw new ConfigError(
      `${what}; seed mode needs an empty database for reproducible rows (or pass --if-seeded skip)`,
    );
  }

  const world = new World(await loadZones(pool));
  const rng = new Rng(opts.seed);
  const endMs = opts.baseTime.getTime();
  const startMs = endMs - Math.round(opts.days * DAY_MS);
  const writer = new Writer(pool, new RateLimiter(opts.rate), totals);

  const pop = rng.fork('population');
  const passengers = makePassengers(pop.fork('passengers'), world, 0, opts.passengers, startMs);
  const drivers = makeDrivers(pop.fork('drivers'), world, 0, opts.drivers, {
    signedUpBefore: startMs,
    statusAt: startMs,
    onlineShare: opts.knobs.onlineShare,
  });
  await writer.auto(async (s) => {
    await insertPassengers(s, world, passengers);
    await insertDrivers(s, world, drivers);
  });
  log(
    `[generate seed] population: ${opts.passengers} passengers, ${opts.drivers} drivers; history ${opts.days} days, ${opts.bookings} bookings ending ${opts.baseTime.toISOString()}`,
  );

  const clock = new SimulatedClock(startMs, opts.seedTickSeconds, rng.fork('stamps'));
  const exec = new KeyedExecutor(1);
  const ctx: SimContext = {
    world,
    clock,
    rng: rng.fork('simulation'),
    writer,
    exec,
    counters,
    knobs: opts.knobs,
    scenario: NO_SCENARIO,
  };
  const sim = new Simulation(ctx);
  // Requests stop an hour before the end so the history is (nearly) all finished by --base-time.
  const lastRequest = endMs - Math.min(3_600_000, (endMs - startMs) / 10);
  const times = sampleRequestTimes(rng.fork('arrivals'), opts.bookings, startMs, lastRequest);
  const progress = new Progress(
    {
      mode: 'seed',
      totals,
      counters,
      world,
      fraction: () => Math.min(1, (clock.simSeconds * 1000) / Math.max(1, endMs - startMs)),
    },
    opts.progressIntervalMs,
    log,
  );

  const loopStart = performance.now();
  const rowsBefore = totals.rows;
  let next = 0;
  let ticks = 0;
  const tickMs = opts.seedTickSeconds * 1000;
  while (!signal?.aborted) {
    const tickStart = clock.businessMsAt(clock.simSeconds);
    const pinned: number[] = [];
    while (next < times.length && times[next]! < tickStart + tickMs) pinned.push(times[next++]!);
    const inHistory = tickStart < endMs;
    sim.tick({ requests: pinned, driverUpdates: 0, shifts: inHistory });
    await exec.drain();
    clock.advance();
    ticks++;
    progress.maybeReport();
    if (!inHistory && next >= times.length && world.active.length === 0 && sim.pendingAftercare === 0) break;
  }
  const loopMs = performance.now() - loopStart;
  return {
    totals,
    counters,
    ticks,
    skipped: false,
    resumed: 0,
    loopMs,
    loopRows: totals.rows - rowsBefore,
    summary: progress.final(),
  };
}
