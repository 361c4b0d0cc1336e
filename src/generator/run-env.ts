/** What both run modes receive from `runGenerator`, and what they hand back. */
import type pg from 'pg';
import type { SimCounters } from './context.js';
import type { GeneratorOptions } from './options.js';
import type { WriteTotals } from './writes.js';

export interface RunEnv {
  opts: GeneratorOptions;
  pool: pg.Pool;
  signal?: AbortSignal;
  log: (line: string) => void;
}

export interface RunOutcome {
  totals: WriteTotals;
  counters: SimCounters;
  ticks: number;
  /** Seed mode found an already seeded database and `ifSeeded` was "skip". */
  skipped: boolean;
  /** Stream mode: bookings adopted from an earlier run. */
  resumed: number;
  /** Wall time of the simulation loop (population and migrations excluded). */
  loopMs: number;
  loopRows: number;
  summary: string;
}
