/**
 * Two notions of time. Sim time (seconds since the run began, advanced one tick at a time) drives
 * the simulation: movement, waiting, timeouts. Business time is what the rows say: simulated from
 * --base-time in seed mode (deterministic), the wall clock in stream mode. Either way each entity's
 * timestamps strictly increase, so lifecycle columns are always ordered.
 */
import type { Rng } from './rng.js';
import type { Latency } from './scenarios.js';
import type { Stamped } from './world.js';

export interface SimClock {
  /** Sim seconds one tick represents. */
  readonly tickSeconds: number;
  /** Sim seconds elapsed since the start. */
  readonly simSeconds: number;
  advance(): void;
  /** A business timestamp for a write touching all `entities`, after each one's previous write. */
  stamp(entities: readonly Stamped[], preferredMs?: number): Date;
  /**
   * A location report's business time. Like stamp() without network latency; with it, a report
   * can carry an older time than the driver's previous one (it was sent earlier but arrived later).
   */
  report(entity: Stamped): Date;
  /** Business time at sim second `s` (seed mode) or now (stream mode). */
  businessMsAt(s: number): number;
}

abstract class BaseClock implements SimClock {
  simSeconds = 0;
  constructor(readonly tickSeconds: number) {}
  advance(): void {
    this.simSeconds += this.tickSeconds;
  }
  protected abstract nowMs(): number;
  abstract businessMsAt(s: number): number;
  stamp(entities: readonly Stamped[], preferredMs?: number): Date {
    let t = preferredMs ?? this.nowMs();
    for (const e of entities) t = Math.max(t, e.lastTs + 1);
    for (const e of entities) e.lastTs = t;
    return new Date(t);
  }
  report(entity: Stamped): Date {
    return this.stamp([entity]);
  }
}

/**
 * Seed mode: sim second 0 is `startMs`; a write during a tick is stamped at a random instant within
 * that tick (from its own random stream, consumed in the deterministic execution order).
 */
export class SimulatedClock extends BaseClock {
  constructor(
    readonly startMs: number,
    tickSeconds: number,
    private readonly jitter: Rng,
  ) {
    super(tickSeconds);
  }
  businessMsAt(s: number): number {
    return this.startMs + Math.round(s * 1000);
  }
  protected nowMs(): number {
    return this.businessMsAt(this.simSeconds) + this.jitter.int(0, this.tickSeconds * 1000 - 1);
  }
}

/**
 * Stream mode: rows carry the wall-clock time of the write. With network latency (scenario
 * `network-latency`) a share of writes carries the time the phone produced the event, up to
 * maxMs earlier: booking steps stay ordered per booking (each one after the previous step) but
 * land late, location reports may even be older than the driver's previous report.
 */
export class WallClock extends BaseClock {
  constructor(
    tickSeconds: number,
    private readonly latency: Latency | null = null,
    private readonly rng?: Rng,
  ) {
    super(tickSeconds);
  }
  businessMsAt(): number {
    return Date.now();
  }
  protected nowMs(): number {
    return Date.now() - this.delayMs();
  }
  override report(entity: Stamped): Date {
    if (!this.latency) return this.stamp([entity]);
    const t = Date.now() - this.delayMs();
    entity.lastTs = Math.max(entity.lastTs, t);
    return new Date(t);
  }
  private delayMs(): number {
    const l = this.latency;
    if (!l || !this.rng || !this.rng.chance(l.share)) return 0;
    return Math.round(this.rng.float(l.minMs, l.maxMs));
  }
}
