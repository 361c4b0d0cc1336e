import type { Metrics } from './metrics.js';

/**
 * What /readyz reports: ready when the consumer holds an assignment, no stage is failing and it
 * is not stuck (a backlog but no batch committed for `stuckAfterMs`). Liveness (/healthz) only
 * says the process answers; a sink outage must not get it killed.
 */
export class Health {
  private joined = false;
  /**
   * Who is failing at each stage: several partitions can stall on one stage, and the stage is
   * failing until the last of them recovers (one partition's recovery must not report ready).
   */
  private readonly failing = new Map<string, Set<string>>();
  /** Why each failing stage fails (its last error), so /readyz tells the operator what to do. */
  private readonly causes = new Map<string, string>();
  private readonly lag = new Map<string, number>();
  private lastProgress = Date.now();

  constructor(
    private readonly metrics: Metrics,
    private readonly stuckAfterMs = 120_000,
  ) {
    this.update();
  }

  /** A new assignment: lag of partitions we no longer own must not keep us "stuck". */
  resetLag(): void {
    this.lag.clear();
  }

  setLag(partition: string, messages: number): void {
    this.lag.set(partition, messages);
  }

  setJoined(v: boolean): void {
    this.joined = v;
    this.update();
  }

  /** `source`: what fails at that stage (a topic/partition; one per stage when omitted). */
  setFailing(stage: string, v: boolean, cause?: string, source = ''): void {
    const who = this.failing.get(stage) ?? new Set<string>();
    if (v) {
      who.add(source);
      this.failing.set(stage, who);
      if (cause !== undefined) this.causes.set(stage, cause);
    } else {
      who.delete(source);
      if (who.size === 0) {
        this.failing.delete(stage);
        this.causes.delete(stage);
      }
    }
    this.update();
  }

  progress(): void {
    this.lastProgress = Date.now();
  }

  status(): {
    ready: boolean;
    joined: boolean;
    failing: string[];
    causes: Record<string, string>;
    stuck: boolean;
    lag: number;
    lastProgressAgoMs: number;
  } {
    return {
      ready: this.isReady(),
      joined: this.joined,
      failing: [...this.failing.keys()],
      causes: Object.fromEntries(this.causes),
      stuck: this.isStuck(),
      lag: this.totalLag(),
      lastProgressAgoMs: Date.now() - this.lastProgress,
    };
  }

  isReady(): boolean {
    return this.joined && this.failing.size === 0 && !this.isStuck();
  }

  private totalLag(): number {
    let n = 0;
    for (const v of this.lag.values()) n += v;
    return n;
  }

  private isStuck(): boolean {
    return this.totalLag() > 0 && Date.now() - this.lastProgress > this.stuckAfterMs;
  }

  private update(): void {
    this.metrics.ready.set(this.isReady() ? 1 : 0);
  }
}
