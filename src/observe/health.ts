import type { Metrics } from './metrics.js';

/**
 * What /readyz reports: ready when the consumer holds an assignment and no stage is failing.
 * Liveness (/healthz) only says the process answers; a sink outage must not get it killed.
 */
export class Health {
  private joined = false;
  private readonly failing = new Set<string>();
  private lastProgress = Date.now();

  constructor(private readonly metrics: Metrics) {
    this.update();
  }

  setJoined(v: boolean): void {
    this.joined = v;
    this.update();
  }

  setFailing(stage: string, v: boolean): void {
    if (v) this.failing.add(stage);
    else this.failing.delete(stage);
    this.update();
  }

  progress(): void {
    this.lastProgress = Date.now();
  }

  status(): { ready: boolean; joined: boolean; failing: string[]; lastProgressAgoMs: number } {
    return { ready: this.isReady(), joined: this.joined, failing: [...this.failing], lastProgressAgoMs: Date.now() - this.lastProgress };
  }

  isReady(): boolean {
    return this.joined && this.failing.size === 0;
  }

  private update(): void {
    this.metrics.ready.set(this.isReady() ? 1 : 0);
  }
}
