import type { Client } from '@elastic/elasticsearch';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import {
  type MetricsReading,
  type PipelineSnapshot,
  readMetrics,
  snapshotBetween,
  snapshotIndex,
} from './pipeline-snapshot.js';

/**
 * Every `intervalMs`, turns the worker's metrics into a PipelineSnapshot (rates since the last
 * one), keeps the newest for the status page and indexes it into <prefix>pipeline_metrics-YYYY.MM.DD.
 * Off the data path: a failed write is logged and counted (ride_cdc_sink_failures_total
 * {sink="pipeline-metrics"}), and the next snapshot is tried anyway.
 */
export class PipelineSnapshotWriter {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private prev?: MetricsReading;
  latest?: PipelineSnapshot;

  constructor(
    private readonly metrics: Metrics,
    private readonly es: Client | undefined,
    private readonly prefix: string,
    private readonly worker: string,
    private readonly logger: Logger,
    private readonly intervalMs = 5_000,
  ) {}

  start(): void {
    if (this.timer) return;
    const tick = () => {
      if (this.running) return; // a slow Elasticsearch must not stack writes up
      this.running = this.tick()
        .then(() => undefined)
        .catch((err: Error) => {
          this.metrics.sinkFailures.inc({ sink: 'pipeline-metrics', kind: 'write' });
          this.logger.warn({ err: err.message }, 'pipeline metrics snapshot not written');
        })
        .finally(() => (this.running = undefined));
    };
    void readMetrics(this.metrics).then((r) => (this.prev ??= r));
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  async tick(): Promise<PipelineSnapshot | undefined> {
    const cur = await readMetrics(this.metrics);
    const prev = this.prev;
    this.prev = cur;
    if (!prev) return undefined;
    const snap = snapshotBetween(prev, cur, this.worker);
    this.latest = snap;
    if (this.es)
      await this.es.index({
        index: snapshotIndex(this.prefix, snap['@timestamp']),
        id: `${this.worker}|${snap['@timestamp']}`,
        document: snap,
      });
    return snap;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
