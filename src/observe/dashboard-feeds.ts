import { hostname } from 'node:os';
import type { Client } from '@elastic/elasticsearch';
import type { Pool } from 'pg';
import type { WorkerConfig } from '../config/worker-config.js';
import { KpiMirror } from '../sink/elasticsearch/kpi-mirror.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { PipelineSnapshotWriter } from './pipeline-snapshot-writer.js';

/** At start, KPI rows changed this recently are mirrored again (a stop between commit and mirror). */
const KPI_RESYNC_MS = 3 * 3600_000;

/**
 * What the dashboards read besides the views: the KPI mirror (kpi_buckets, only with a mart) and
 * the pipeline metrics snapshots (pipeline_metrics-*), created and stopped together by the worker.
 */
export class DashboardFeeds {
  readonly kpiMirror?: KpiMirror;
  readonly snapshots: PipelineSnapshotWriter;

  constructor(es: Client, martPool: Pool | undefined, cfg: WorkerConfig, metrics: Metrics, log: Logger) {
    const prefix = cfg.elasticsearch.indexPrefix;
    if (martPool) {
      this.kpiMirror = new KpiMirror(es, martPool, prefix, metrics, log.child({ stage: 'kpi-mirror' }));
      this.kpiMirror
        .resync(KPI_RESYNC_MS)
        .catch((err: Error) => log.warn({ err: err.message }, 'KPI mirror resync failed'));
    }
    const worker = `${cfg.kafka.clientId}@${hostname()}:${process.pid}`;
    this.snapshots = new PipelineSnapshotWriter(
      metrics,
      es,
      prefix,
      worker,
      log.child({ stage: 'pipeline-metrics' }),
    );
    this.snapshots.start();
  }

  async stop(): Promise<void> {
    await this.snapshots.stop();
  }
}
