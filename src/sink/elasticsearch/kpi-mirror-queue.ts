import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../observe/logger.js';
import type { Metrics } from '../../observe/metrics.js';
import { errorMessage } from '../../shared/errors.js';
import { backoffDelay } from '../../shared/retry.js';
import type { Sink } from '../sink.js';
import type { KpiMirror } from './kpi-mirror.js';
import { type MetricKey, mirrorDocId } from './kpi-mirror-doc.js';

export interface KpiMirrorQueueOptions {
  /** How often the keys handed over are mirrored (their union: a hot bucket is written once). */
  intervalMs: number;
  /** Keys waiting before write() mirrors them itself (and so holds its batch until that works). */
  maxPending: number;
  /** Keys per mirror call (one read, one bulk, one re-read). */
  chunk: number;
}

export const KPI_MIRROR_QUEUE_DEFAULTS: KpiMirrorQueueOptions = {
  intervalMs: 500,
  maxPending: 20_000,
  chunk: 5_000,
};

/**
 * The KPI mirror off the batch path. A batch hands over the keys its mart commit touched and goes
 * on; every `intervalMs` the union of the keys handed over is mirrored (kpi-mirror.ts re-reads the
 * mart, so what is written is always the committed value). The current minute's buckets, touched
 * by nearly every batch, are then written once per interval instead of once per batch, and the
 * mirror no longer adds its three round trips to every batch's latency.
 *
 * Nothing is lost silently:
 * - keys wait in memory; a crash loses at most an interval of them, and the worker's start-up
 *   resync (dashboard-feeds.ts) mirrors every recently changed row again;
 * - a failing mirror keeps its keys, backs off, counts `ride_cdc_sink_failures_total{sink=
 *   "kpi-mirror"}` (alert RideCdcSinkFailures) and shows in `ride_cdc_kpi_mirror_pending_keys`;
 * - once `maxPending` keys wait, write() mirrors them itself, so the batch is retried, its partition
 *   paused and /readyz fails like any sink outage, instead of memory growing without bound;
 * - close() mirrors what is left; what still fails is logged with its count (the resync takes it).
 */
export class KpiMirrorQueue implements Sink<readonly MetricKey[], void> {
  readonly stage = 'kpi-mirror';
  private pending = new Map<string, MetricKey>();
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private retryAt = 0;

  constructor(
    private readonly mirror: Pick<KpiMirror, 'mirror'>,
    private readonly metrics: Pick<Metrics, 'sinkFailures' | 'kpiMirrorPending'>,
    private readonly logger: Pick<Logger, 'warn' | 'error'>,
    private readonly opts: KpiMirrorQueueOptions = KPI_MIRROR_QUEUE_DEFAULTS,
  ) {}

  async start(): Promise<void> {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs);
    this.timer.unref();
  }

  async write(keys: readonly MetricKey[]): Promise<void> {
    for (const k of keys) this.pending.set(mirrorDocId(k), k);
    this.metrics.kpiMirrorPending.set(this.pending.size);
    if (this.pending.size >= this.opts.maxPending) await this.flush();
  }

  /** Mirrors every key handed over so far; throws what the mirror threw (the keys stay queued). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    if (this.pending.size === 0) return;
    const keys = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = this.mirrorAll(keys).finally(() => {
      this.flushing = null;
      this.metrics.kpiMirrorPending.set(this.pending.size);
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (let attempt = 1; attempt <= 3 && (this.pending.size > 0 || this.flushing); attempt++) {
      try {
        await this.flush();
      } catch (err) {
        if (attempt === 3)
          this.logger.error(
            { keys: this.pending.size, err: errorMessage(err) },
            'KPI mirror keys not written at stop; the next start-up resync mirrors them',
          );
        else await sleep(500);
      }
    }
  }

  private async mirrorAll(keys: MetricKey[]): Promise<void> {
    for (let i = 0; i < keys.length; i += this.opts.chunk) {
      try {
        await this.mirror.mirror(keys.slice(i, i + this.opts.chunk));
      } catch (err) {
        // Back in the queue, unless a newer hand-over of the same key is already there.
        for (const k of keys.slice(i)) {
          const id = mirrorDocId(k);
          if (!this.pending.has(id)) this.pending.set(id, k);
        }
        throw err;
      }
    }
  }

  private tick(): void {
    if (this.flushing || this.pending.size === 0 || Date.now() < this.retryAt) return;
    this.flush().then(
      () => {
        this.failures = 0;
        this.retryAt = 0;
      },
      (err: unknown) => {
        this.failures++;
        this.retryAt = Date.now() + backoffDelay(this.failures, this.opts.intervalMs, 30_000);
        this.metrics.sinkFailures.inc({ sink: 'kpi-mirror', kind: 'retriable' });
        this.logger.warn(
          { keys: this.pending.size, attempt: this.failures, err: errorMessage(err) },
          'KPI mirror failed; keys kept and retried',
        );
      },
    );
  }
}
