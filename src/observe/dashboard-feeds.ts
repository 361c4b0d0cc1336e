import { hostname } from 'node:os';
import type { Client } from '@elastic/elasticsearch';
import type { Pool } from 'pg';
import type { WorkerConfig } from '../config/worker-config.js';
import { createEsClient } from '../sink/elasticsearch/client.js';
import { KpiMirror } from '../sink/elasticsearch/kpi-mirror.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { PipelineSnapshotWriter } from './pipeline-snapshot-writer.js';
import { StatusSource } from './status-page/status-data.js';

/** At start, KPI rows changed this recently are mirrored again (a stop between commit and mirror). */
const KPI_RESYNC_MS = 3 * 3600_000;

/**
 * What the dashboards read besides the views: the KPI mirror (kpi_buckets, written by the pipeline
 * after each mart commit) and the pipeline metrics snapshots (pipeline_metrics-*), on their own
 * Elasticsearch client, started and stopped together by the worker.
 */
export class DashboardFeeds {
  readonly kpiMirror: KpiMirror;
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
    this.kpiMirror = new KpiMirror(this.es, martPool, prefix, metrics, log.child({ stage: 'kpi-mirror' }));
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
    this.snapshots.start();
    this.kpiMirror
      .resync(KPI_RESYNC_MS)
      .catch((err: Error) => this.log.warn({ err: err.message }, 'KPI mirror resync failed'));
  }

  async stop(): Promise<void> {
    await this.snapshots.stop();
    await this.es.close().catch(() => undefined);
  }
}
