/**
 * Progress lines on stderr every few seconds: rows written and the rate over the last interval,
 * bookings in flight, drivers online, running totals.
 */
import type { SimCounters } from './context.js';
import type { World } from './world.js';
import type { WriteTotals } from './writes.js';

export interface ProgressSource {
  mode: 'seed' | 'stream';
  totals: WriteTotals;
  counters: SimCounters;
  world: World;
  /** Seed mode: fraction of simulated history done. */
  fraction?: () => number;
}

export class Progress {
  private readonly startedAt = performance.now();
  private lastAt = this.startedAt;
  private lastRows: number;
  /** Rows written before the loop (population, start-up log-ins) are excluded from the rates. */
  private readonly baseRows: number;

  constructor(
    private readonly src: ProgressSource,
    private readonly intervalMs: number,
    private readonly print: (line: string) => void,
  ) {
    this.baseRows = src.totals.rows;
    this.lastRows = src.totals.rows;
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /** Prints if the interval has passed. Never blocks. */
  maybeReport(): void {
    if (this.intervalMs <= 0) return;
    const t = performance.now();
    if (t - this.lastAt < this.intervalMs) return;
    const rows = this.src.totals.rows;
    const rate = ((rows - this.lastRows) * 1000) / (t - this.lastAt);
    this.lastAt = t;
    this.lastRows = rows;
    this.print(this.line(`${Math.round(rate)} rows/s`));
  }

  /** The closing summary: totals and the average rate over the whole run. */
  final(): string {
    const avg = ((this.src.totals.rows - this.baseRows) * 1000) / Math.max(1, this.elapsedMs());
    return this.line(`avg ${Math.round(avg)} rows/s`, 'done');
  }

  private line(rate: string, tag: string = this.src.mode): string {
    const { totals, counters: c, world } = this.src;
    const secs = (this.elapsedMs() / 1000).toFixed(1);
    const pct = this.src.fraction ? ` ${(this.src.fraction() * 100).toFixed(0)}%` : '';
    return (
      `[generate ${tag}${pct}] ${secs}s rows=${totals.rows} (${rate}) inflight=${world.active.length} ` +
      `online=${world.onlineCount()}/${world.drivers.length} busy=${world.busyCount()} | ` +
      `requested=${c.requested} completed=${c.completed} cancelled=p${c.cancelled.passenger}/d${c.cancelled.driver}/s${c.cancelled.system} ` +
      `payments=${c.payments} ratings=${c.ratings} locations=${c.locationReports} corrections=${c.fareCorrections} deletes=${c.deletes}`
    );
  }
}
