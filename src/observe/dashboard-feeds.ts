import { hostname } from 'node:os';
import type { Client } from '@elastic/elasticsearch';
import type { Pool } from 'pg';
import type { WorkerConfig } from '../config/worker-config.js';
import { createEsClient } from '../sink/elasticsearch/client.js';
import { KpiMirror } from '../sink/elasticsearch/kpi-mirror.js';
import { KPI_MIRROR_QUEUE_DEFAULTS, KpiMirrorQueue } from '../sink/elasticsearch/kpi-mirror-queue.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { PipelineSnapshotWriter } from './pipeline-snapshot-writer.js';
import { StatusSource } from './status-page/status-data.js';

/** At start, KPI rows changed this recently are mirrored again (a stop between commit and mirror). */
const KPI_RESYNC_MS = 3 * 3600_000;

/**
 * What the dashboards read besides the views: the KPI mirror (kpi_buckets, fed by the pipeline
 * with the keys of each mart commit) and the pipeline metrics snapshots (pipeline_metrics-*), on their own
 * Elasticsearch client, started and stopped together by the worker.
 */
export class DashboardFeeds {
  private readonly kpiMirror: KpiMirror;
  /** What the pipeline hands its committed KPI keys to (mirrored every KPI_MIRROR_INTERVAL_MS, off the batch path). */
  readonly kpiMirrorQueue: KpiMirrorQueue;
  readonly snapshots: PipelineSnapshotWriter;
  /** What the status page at / shows (src/observe/status-page/). */
  readonly status: StatusSource;
  private readonly es: Client;

  constructor(
    martPool: Pool,
    cfg: WorkerConfig,
    metrics: Metrics,
    private readonly log: Logger,
  ) {
    const prefix = cfg.elasticsearch.indexPrefix;
    this.es = createEsClient(cfg.elasticsearch);
    const mirrorLog = log.child({ stage: 'kpi-mirror' });
    this.kpiMirror = new KpiMirror(this.es, martPool, prefix, metrics, mirrorLog);
    this.kpiMirrorQueue = new KpiMirrorQueue(this.kpiMirror, metrics, mirrorLog, {
      ...KPI_MIRROR_QUEUE_DEFAULTS,
      intervalMs: cfg.elasticsearch.kpiMirrorIntervalMs,
    });
    const worker = `${cfg.kafka.clientId}@${hostname()}:${process.pid}`;
    this.snapshots = new PipelineSnapshotWriter(
      metrics,
      this.es,
      prefix,
      worker,
      log.child({ stage: 'pipeline-metrics' }),
    );
    this.status = new StatusSource(martPool, this.es, prefix, () => this.snapshots.latest);
  }

  /** After the mart and the indices are set up: snapshots begin, the mirror catches up in the background. */
  start(): void {
    void this.kpiMirrorQueue.start();
    this.snapshots.start();
    this.kpiMirror
      .resync(KPI_RESYNC_MS)
      .catch((err: Error) => this.log.warn({ err: err.message }, 'KPI mirror resync failed'));
  }

  /** After the consumer stopped (the worker stops in reverse): the queued KPI keys are mirrored first. */
  async stop(): Promise<void> {
    await this.kpiMirrorQueue.close();
    await this.snapshots.stop();
    await this.es.close().catch(() => undefined);
  }
}
