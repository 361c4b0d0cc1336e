/**
 * What every part of the simulation shares: the world, clocks, random streams, the executor that
 * performs writes and the counters. Planning (deciding what happens) is synchronous and mutates the
 * world at once; the matching database writes are submitted to the executor keyed by entity, so
 * writes to one booking or one driver keep their order while independent ones overlap.
 */
import type { SimClock } from './clock.js';
import type { FateWeights } from './lifecycle.js';
import { DEFAULT_FATE_WEIGHTS } from './lifecycle.js';
import type { Rng } from './rng.js';
import type { ScenarioEffects } from './scenarios.js';
import type { KeyedExecutor } from './throttle.js';
import type { BookingSim, DriverSim, World } from './world.js';
import type { Writer } from './writes.js';

/** Behaviour probabilities and timings, in sim seconds. Exposed to the API (tests raise rare ones). */
export interface SimKnobs {
  fateWeights: FateWeights;
  /** Share of requests whose metadata is a > 8 kB jsonb (stored out of line: TOAST). */
  largeMetadataProb: number;
  /** Share of completed bookings whose fare is corrected afterwards. */
  fareCorrectionProb: number;
  /** Share of completed bookings whose payment is refunded afterwards. */
  refundProb: number;
  /** Share of cancelled bookings (never paid) deleted afterwards. */
  deleteCancelledProb: number;
  passengerRatesProb: number;
  driverRatesProb: number;
  /** Equilibrium share of drivers online. */
  onlineShare: number;
  /** Mean length of an online session. */
  meanOnlineSeconds: number;
  /** Window over which requests per zone drive surge. */
  surgeWindowSeconds: number;
}

export const DEFAULT_KNOBS: SimKnobs = {
  fateWeights: DEFAULT_FATE_WEIGHTS,
  largeMetadataProb: 0.01,
  fareCorrectionProb: 0.02,
  refundProb: 0.005,
  deleteCancelledProb: 0.03,
  passengerRatesProb: 0.65,
  driverRatesProb: 0.35,
  onlineShare: 0.55,
  meanOnlineSeconds: 4 * 3600,
  surgeWindowSeconds: 15 * 60,
};

export interface SimCounters {
  requested: number;
  accepted: number;
  arrived: number;
  started: number;
  completed: number;
  cancelled: { passenger: number; driver: number; system: number };
  payments: number;
  ratings: number;
  fareCorrections: number;
  refunds: number;
  deletes: number;
  locationReports: number;
  driverStatusChanges: number;
  largeMetadata: number;
}

export function emptyCounters(): SimCounters {
  return {
    requested: 0,
    accepted: 0,
    arrived: 0,
    started: 0,
    completed: 0,
    cancelled: { passenger: 0, driver: 0, system: 0 },
    payments: 0,
    ratings: 0,
    fareCorrections: 0,
    refunds: 0,
    deletes: 0,
    locationReports: 0,
    driverStatusChanges: 0,
    largeMetadata: 0,
  };
}

export interface SimContext {
  world: World;
  clock: SimClock;
  rng: Rng;
  writer: Writer;
  exec: KeyedExecutor;
  counters: SimCounters;
  knobs: SimKnobs;
  /** What the run's scenarios change (NO_SCENARIO when none). */
  scenario: ScenarioEffects;
}

export const bookingKey = (b: BookingSim): string => `b${b.seq}`;
export const driverKey = (d: DriverSim): string => `d${d.id}`;

export function now(ctx: SimContext): number {
  return ctx.clock.simSeconds;
}
