/**
 * Flow control for the writers: a row-rate limiter and an executor that runs independent actions
 * concurrently while keeping actions on the same entity in submission order.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Token bucket in its GCRA form: each `take(n)` books n/rate seconds on a virtual schedule and
 * waits until its slot, allowing a burst of `burstSeconds` worth of rows. rate 0 = unlimited.
 * Blocks only the caller; never throws.
 */
export class RateLimiter {
  private tat = 0;
  private readonly burstMs: number;

  constructor(
    readonly ratePerSecond: number,
    burstSeconds = 0.1,
  ) {
    this.burstMs = burstSeconds * 1000;
  }

  get unlimited(): boolean {
    return this.ratePerSecond <= 0;
  }

  async take(n = 1): Promise<void> {
    if (this.unlimited || n <= 0) return;
    const now = performance.now();
    this.tat = Math.max(this.tat, now) + (n * 1000) / this.ratePerSecond;
    const wait = this.tat - now - this.burstMs;
    if (wait > 1) await sleep(wait);
  }
}

/**
 * Runs submitted actions with bounded concurrency. Actions sharing a key (a booking, a driver)
 * run one after another in submission order; with concurrency 1 every action runs strictly in
 * submission order, which is what makes seed mode deterministic. After the first failure the
 * remaining actions are skipped and `drain` rethrows it.
 */
export class KeyedExecutor {
  private readonly tails = new Map<string, Promise<void>>();
  private all: Promise<void>[] = [];
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  private failed = false;

  constructor(readonly concurrency: number) {
    if (!(concurrency >= 1)) throw new Error('concurrency must be >= 1');
  }

  submit(keys: readonly string[], fn: () => Promise<void>): void {
    const guarded = async (): Promise<void> => {
      if (this.failed) return;
      try {
        await fn();
      } catch (err) {
        if (!this.failed) {
          this.failed = true;
          this.failure = err;
        }
      }
    };
    if (this.concurrency === 1) {
      this.chain = this.chain.then(guarded);
      this.all.push(this.chain);
      return;
    }
    const deps: Promise<void>[] = [];
    for (const k of keys) {
      const t = this.tails.get(k);
      if (t) deps.push(t);
    }
    const start = deps.length === 0 ? Promise.resolve() : Promise.all(deps).then(() => undefined);
    const p = start.then(() => this.withSlot(guarded));
    for (const k of keys) this.tails.set(k, p);
    this.all.push(p);
  }

  get pending(): number {
    return this.all.length;
  }

  /** Waits for everything submitted so far; rethrows the first failure. */
  async drain(): Promise<void> {
    while (this.all.length > 0) {
      const batch = this.all;
      this.all = [];
      await Promise.all(batch);
    }
    this.tails.clear();
    if (this.failed) throw this.failure;
  }

  private async withSlot(fn: () => Promise<void>): Promise<void> {
    if (this.active < this.concurrency) this.active++;
    // A released slot is handed straight to the next waiter, so `active` never overshoots.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
