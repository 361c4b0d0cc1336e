/**
 * One pipeline for generator options: defaults in one place (some depend on --volume), values
 * validated once, every problem reported together. The CLI passes strings; the API passes numbers.
 */
import { z } from 'zod';
import { ConfigError } from '../shared/errors.js';
import type { PgSettings } from '../db/pg.js';
import { DEFAULT_KNOBS, type SimKnobs } from './context.js';
import { VOLUME_PRESETS, VOLUMES, type Volume } from './volumes.js';
import {
  DEFAULT_SCENARIO_SETTINGS,
  parseScenarios,
  type ScenarioName,
  type ScenarioSettings,
} from './scenarios.js';

/** Seed mode's default end of history: fixed, so the same seed gives the same rows. */
export const DEFAULT_SEED_BASE_TIME = '2025-06-01T00:00:00Z';

export interface GeneratorOptions {
  mode: 'seed' | 'stream';
  volume: Volume;
  seed: string;
  /** Seed mode: history ends here. */
  baseTime: Date;
  /** Seed mode: length of history and bookings requested in it. */
  days: number;
  bookings: number;
  /** Stream mode: run time; 0 = until the signal aborts. */
  seconds: number;
  /**
   * Stream mode: stop after this many ticks; 0 = no limit. A run bounded by ticks plays the same
   * city time and the same random draws on any machine; one bounded by seconds does not.
   */
  ticks: number;
  /** Target source-row writes per second; 0 = unlimited. */
  rate: number;
  drivers: number;
  passengers: number;
  stream: {
    maxInflight: number;
    /** Per tick, each free in-flight slot turns into a new request with this probability. */
    newBookingProb: number;
    /** Periodic location reports per tick. */
    driverUpdates: number;
    sleepMinMs: number;
    sleepMaxMs: number;
    /** City time one tick represents (movement, waits, timeouts). */
    simSecondsPerTick: number;
    /** Periodic location reports per UPDATE statement (1 = one statement per driver report). */
    locationBatch: number;
  };
  /** Seed mode's tick (sim seconds). */
  seedTickSeconds: number;
  /** Stream mode connections (seed mode always uses one, for determinism). */
  poolSize: number;
  synchronousCommit: boolean;
  /** Apply mart-sql/source migrations first. */
  migrate: boolean;
  /** Seed mode against a database that already has drivers. */
  ifSeeded: 'fail' | 'skip';
  progressIntervalMs: number;
  knobs: SimKnobs;
  /** Stream mode: scenarios in effect (docs/generator.md § Scenarios). */
  scenarios: ScenarioName[];
  scenarioSettings: ScenarioSettings;
  /** Stream mode: the city's local hour (0–24) when the run starts; default the real one. */
  cityHour: number | null;
  /** Connection; default GENERATOR_PG* from the environment. */
  pg?: PgSettings;
}

const num = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().min(min).max(max);
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

const rate = z.preprocess((v) => (v === 'unlimited' || v === 'max' ? 0 : v), num(0));

const baseTime = z.preprocess(
  (v) => (v === 'now' ? new Date() : typeof v === 'string' ? new Date(v) : v),
  z.date().refine((d) => !Number.isNaN(d.getTime()), 'expected an ISO-8601 timestamp or "now"'),
);

const bool = z.preprocess(
  (v) => (v === 'true' || v === 'on' ? true : v === 'false' || v === 'off' ? false : v),
  z.boolean(),
);

export const generatorInputSchema = z
  .object({
    mode: z.enum(['seed', 'stream']).default('stream'),
    volume: z.enum(VOLUMES).default('small'),
    seed: z
      .union([z.string().min(1), z.number()])
      .default('42')
      .transform(String),
    baseTime: baseTime.optional(),
    days: num(0.01, 3650).optional(),
    bookings: int(0).optional(),
    seconds: num(0).default(0),
    ticks: int(0).default(0),
    rate: rate.default(0),
    drivers: int(1, 1_000_000).optional(),
    passengers: int(1, 10_000_000).optional(),
    stream: z
      .object({
        maxInflight: int(1, 100_000).optional(),
        newBookingProb: num(0, 1).optional(),
        driverUpdates: int(0, 100_000).optional(),
        sleepMinMs: num(0, 60_000).optional(),
        sleepMaxMs: num(0, 60_000).optional(),
        simSecondsPerTick: num(0.1, 3600).optional(),
        locationBatch: int(1, 10_000).optional(),
      })
      .default({}),
    seedTickSeconds: num(1, 3600).default(30),
    poolSize: int(1, 64).default(8),
    synchronousCommit: bool.default(true),
    migrate: bool.default(true),
    ifSeeded: z.enum(['fail', 'skip']).default('fail'),
    progressIntervalMs: num(0).default(5000),
    knobs: z.record(z.string(), z.unknown()).optional(),
    scenario: z
      .unknown()
      .transform((v, ctx) => {
        const r = parseScenarios(v);
        if (typeof r === 'string') {
          ctx.addIssue({ code: 'custom', message: r });
          return z.NEVER;
        }
        return r;
      })
      .optional(),
    surgeZones: z
      .preprocess(
        (v) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()) : v),
        z.array(int(1, 1_000_000)).min(1),
      )
      .optional(),
    surgeFactor: num(1, 100).optional(),
    cityHour: num(0, 24).optional(),
  })
  .refine((o) => o.mode === 'stream' || (o.scenario ?? []).length === 0, {
    message: 'scenarios apply to stream mode (seed mode already follows the daily demand curve)',
    path: ['scenario'],
  })
  .refine((o) => (o.stream.sleepMinMs ?? 0) <= (o.stream.sleepMaxMs ?? Infinity), {
    message: 'stream sleep min must be <= max',
    path: ['stream', 'sleepMinMs'],
  });

export type GeneratorInput = z.input<typeof generatorInputSchema> & {
  knobs?: Partial<SimKnobs>;
  pg?: PgSettings;
};

export function resolveOptions(input: GeneratorInput = {}): GeneratorOptions {
  const parsed = generatorInputSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(`invalid generator options:\n${z.prettifyError(parsed.error)}`);
  const o = parsed.data;
  const preset = VOLUME_PRESETS[o.volume];
  const sleepMin = o.stream.sleepMinMs ?? 50;
  const sleepMax = o.stream.sleepMaxMs ?? Math.max(sleepMin, 250);
  if (sleepMin > sleepMax)
    throw new ConfigError('invalid generator options: stream sleep min must be <= max');
  return {
    mode: o.mode,
    volume: o.volume,
    seed: o.seed,
    baseTime: o.baseTime ?? new Date(DEFAULT_SEED_BASE_TIME),
    days: o.days ?? preset.seedDays,
    bookings: o.bookings ?? preset.seedBookings,
    seconds: o.seconds,
    ticks: o.ticks,
    rate: o.rate,
    drivers: o.drivers ?? preset.drivers,
    passengers: o.passengers ?? preset.passengers,
    stream: {
      maxInflight: o.stream.maxInflight ?? preset.maxInflight,
      newBookingProb: o.stream.newBookingProb ?? 0.05,
      driverUpdates: o.stream.driverUpdates ?? preset.driverUpdatesPerTick,
      sleepMinMs: sleepMin,
      sleepMaxMs: sleepMax,
      simSecondsPerTick: o.stream.simSecondsPerTick ?? 10,
      locationBatch: o.stream.locationBatch ?? 1,
    },
    seedTickSeconds: o.seedTickSeconds,
    poolSize: o.poolSize,
    synchronousCommit: o.synchronousCommit,
    migrate: o.migrate,
    ifSeeded: o.ifSeeded,
    progressIntervalMs: o.progressIntervalMs,
    scenarios: o.scenario ?? [],
    scenarioSettings: {
      surgeZones: o.surgeZones ?? DEFAULT_SCENARIO_SETTINGS.surgeZones,
      surgeFactor: o.surgeFactor ?? DEFAULT_SCENARIO_SETTINGS.surgeFactor,
    },
    cityHour: o.cityHour ?? null,
    knobs: {
      ...DEFAULT_KNOBS,
      ...(input.knobs ?? {}),
      fateWeights: { ...DEFAULT_KNOBS.fateWeights, ...(input.knobs?.fateWeights ?? {}) },
    },
    pg: input.pg,
  };
}
