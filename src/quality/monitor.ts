/**
 * The worker's data-quality monitor: every QUALITY_INTERVAL_MS (0 = off, the default — it needs a
 * connection to ride_hailing_db, GENERATOR_PG*) it takes a snapshot, appends it to
 * mart.data_quality and exports the gauges. Best effort and loud: a failed snapshot is logged and
 * counted in ride_cdc_batch_runs_total{job="data-quality",result="failure"}; it never blocks the
 * data path.
 */
import type { Client as EsClient } from '@elastic/elasticsearch';
import type pg from 'pg';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { errorMessage } from '../shared/errors.js';
import { exportQualityGauges, saveQualitySnapshot, takeQualitySnapshot } from './snapshot.js';

const JOB = 'data-quality';

export class QualityMonitor {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly deps: { source: pg.Pool; reporting: pg.Pool; es: EsClient; indexPrefix: string },
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    const tick = () => {
      if (this.running) return;
      this.running = this.once()
        .catch((err: unknown) => {
          this.metrics.batchRuns.inc({ job: JOB, result: 'failure' });
          this.logger.warn({ err: errorMessage(err) }, 'data-quality snapshot failed');
        })
        .finally(() => (this.running = undefined));
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  async once(): Promise<void> {
    const rows = await takeQualitySnapshot({
      source: this.deps.source,
      reporting: this.deps.reporting,
      es: this.deps.es,
      indexPrefix: this.deps.indexPrefix,
    });
    await saveQualitySnapshot(this.deps.reporting, rows);
    exportQualityGauges(this.metrics, rows);
    this.metrics.batchRuns.inc({ job: JOB, result: 'success' });
    this.metrics.batchLastSuccess.set({ job: JOB }, Date.now() / 1000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.deps.source.end().catch(() => undefined);
    await this.deps.es.close().catch(() => undefined);
  }
}
