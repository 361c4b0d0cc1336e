/**
 * The generator's API: `runGenerator(options, signal)` applies the source migrations (unless told
 * not to), runs seed or stream mode against ride_hailing_db and returns what it wrote. Used by
 * `ride-cdc generate`, the demo and the tests.
 */
import { createClient, createPool, describePg, sourcePgSettings, type PgSettings } from '../db/pg.js';
import { ConfigError } from '../shared/errors.js';
import { migrateTarget } from '../db/targets.js';
import type { SimCounters } from './context.js';
import { resolveOptions, type GeneratorInput, type GeneratorOptions } from './options.js';
import { runSeed } from './seed.js';
import { runStream } from './stream.js';
import type { WriteTotals } from './writes.js';

export type { GeneratorInput, GeneratorOptions } from './options.js';
export type { SimCounters, SimKnobs } from './context.js';
export type { WriteTotals } from './writes.js';
export { computeFare, splitPayment, surgeMultiplier } from './fare.js';

export interface GeneratorResult {
  mode: 'seed' | 'stream';
  volume: GeneratorOptions['volume'];
  seed: string;
  /** Wall time of the whole run, migrations and population included. */
  elapsedMs: number;
  /** Rows/s of the simulation loop alone. */
  rowsPerSecond: number;
  totals: WriteTotals;
  counters: SimCounters;
  ticks: number;
  skipped: boolean;
  resumed: number;
}

export async function runGenerator(
  input: GeneratorInput = {},
  signal?: AbortSignal,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<GeneratorResult> {
  const started = performance.now();
  const opts = resolveOptions(input);
  const settings = opts.pg ?? sourcePgSettings();
  if (opts.migrate) {
    await migrateTarget('source', {
      settings,
      waitMs: 30_000,
      signal,
      logger: { info: (m) => log(`[generate] ${m}`), warn: (m) => log(`[generate] warning: ${m}`) },
    });
  }
  const lock = await holdGeneratorLock(settings);
  const pool = createPool(settings, {
    max: opts.mode === 'seed' ? 1 : opts.poolSize,
    applicationName: 'ride-cdc-generator',
    sessionSettings: opts.synchronousCommit ? {} : { synchronous_commit: 'off' },
  });
  try {
    log(`[generate ${opts.mode}] volume=${opts.volume} seed=${opts.seed} → ${describePg(settings)}`);
    const env = { opts, pool, signal, log };
    const out = opts.mode === 'seed' ? await runSeed(env) : await runStream(env);
    log(out.summary);
    return {
      mode: opts.mode,
      volume: opts.volume,
      seed: opts.seed,
      elapsedMs: performance.now() - started,
      rowsPerSecond: out.loopMs > 0 ? (out.loopRows * 1000) / out.loopMs : 0,
      totals: out.totals,
      counters: out.counters,
      ticks: out.ticks,
      skipped: out.skipped,
      resumed: out.resumed,
    };
  } finally {
    await pool.end();
    await lock.release();
  }
}

/**
 * One generator per database: two simulations would fight over the same drivers and bookings (and
 * fail on each other's updates). A session advisory lock, held for the whole run on its own
 * connection, makes the second one fail at once with a clear message.
 */
async function holdGeneratorLock(settings: PgSettings): Promise<{ release: () => Promise<void> }> {
  const c = createClient(settings, { applicationName: 'ride-cdc-generator-lock' });
  await c.connect();
  c.on('error', () => {});
  const { rows } = await c.query<{ ok: boolean }>(
    "SELECT pg_try_advisory_lock(hashtextextended('ride-cdc:generator', 0)) AS ok",
  );
  if (!rows[0]?.ok) {
    await c.end().catch(() => {});
    throw new ConfigError(
      `another generator is already writing to ${describePg(settings)}; run one at a time per database`,
    );
  }
  return { release: () => c.end().catch(() => {}) };
}
