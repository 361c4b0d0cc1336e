import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric the worker exports, created once per worker on its own registry (tests run several
 * workers in one process). Names are the contract of compose/prometheus/alerts.yml.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ride_cdc_process_' });
  const r = [registry];
  return {
    registry,
    eventsIn: new Counter({
      name: 'ride_cdc_events_in_total',
      help: 'Change events decoded, by topic and op',
      labelNames: ['topic', 'op'],
      registers: r,
    }),
    messagesSkipped: new Counter({
      name: 'ride_cdc_messages_skipped_total',
      help: 'Messages consumed that carry no change (tombstone, heartbeat, op m, already-committed replays)',
      labelNames: ['topic', 'kind'],
      registers: r,
    }),
    decodeErrors: new Counter({
      name: 'ride_cdc_decode_errors_total',
      help: 'Messages that failed to decode, by reason',
      labelNames: ['topic', 'reason'],
      registers: r,
    }),
    deadLettered: new Counter({
      name: 'ride_cdc_dead_letter_total',
      help: 'Messages produced to the dead-letter topic, by reason',
      labelNames: ['topic', 'reason'],
      registers: r,
    }),
    batchSize: new Histogram({
      name: 'ride_cdc_batch_size',
      help: 'Messages per processed batch',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers: r,
    }),
    batchSeconds: new Histogram({
      name: 'ride_cdc_batch_processing_seconds',
      help: 'Time to decode, project, write and commit one batch',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    }),
    sinkSeconds: new Histogram({
      name: 'ride_cdc_sink_request_seconds',
      help: 'Sink request latency',
      labelNames: ['sink', 'operation'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    }),
    sinkFailures: new Counter({
      name: 'ride_cdc_sink_failures_total',
      help: 'Failed sink requests or items, by sink and kind',
      labelNames: ['sink', 'kind'],
      registers: r,
    }),
    kpiMirrorPending: new Gauge({
      name: 'ride_cdc_kpi_mirror_pending_keys',
      help: 'KPI rows committed to the mart and not yet mirrored into kpi_buckets',
      registers: r,
    }),
    versionConflicts: new Counter({
      name: 'ride_cdc_version_conflicts_ignored_total',
      help: 'Writes rejected as stale or duplicate (replays, out-of-order parts): expected, not errors',
      labelNames: ['index_family'],
      registers: r,
    }),
    docsWritten: new Counter({
      name: 'ride_cdc_es_documents_written_total',
      help: 'Elasticsearch documents created, updated or deleted',
      labelNames: ['index_family', 'action'],
      registers: r,
    }),
    consumerLag: new Gauge({
      name: 'ride_cdc_consumer_lag',
      help: 'Messages behind the partition high watermark after the last batch',
      labelNames: ['topic', 'partition'],
      registers: r,
    }),
    e2eLatency: new Histogram({
      name: 'ride_cdc_e2e_latency_seconds',
      help: 'Source commit (source.ts_ms) to sink acknowledgement',
      buckets: [
        0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 300, 1800,
      ],
      registers: r,
    }),
    pausedPartitions: new Gauge({
      name: 'ride_cdc_paused_partitions',
      help: 'Partitions paused because a sink or dependency is unavailable',
      registers: r,
    }),
    inFlight: new Gauge({
      name: 'ride_cdc_in_flight_batches',
      help: 'Batches queued or running in the pipeline queue',
      registers: r,
    }),
    ready: new Gauge({
      name: 'ride_cdc_ready',
      help: '1 when connected and making progress, 0 otherwise',
      registers: r,
    }),
    retries: new Counter({
      name: 'ride_cdc_retries_total',
      help: 'Retries after a transient failure, by stage',
      labelNames: ['stage'],
      registers: r,
    }),
    systemicFailures: new Gauge({
      name: 'ride_cdc_systemic_failures',
      help: 'Consecutive systemic failures (auth refused, missing index, position ahead of the log, truncate) of a stage still failing; 0 once it recovered',
      labelNames: ['stage', 'reason'],
      registers: r,
    }),
    kafkaCommitFailures: new Counter({
      name: 'ride_cdc_kafka_offset_commit_failures_total',
      help: 'Best-effort commits of the reporting_db positions to Kafka that failed (lag tooling only; reporting_db stays the truth)',
      registers: r,
    }),
    ignoredOps: new Counter({
      name: 'ride_cdc_ignored_ops_total',
      help: 'Envelopes deliberately ignored (op m)',
      labelNames: ['topic', 'op'],
      registers: r,
    }),
    kpi: new Gauge({
      name: 'ride_cdc_kpi',
      help: 'Latest headline KPI values from the reporting mart',
      labelNames: ['metric', 'dimension'],
      registers: r,
    }),
    martGroupBatches: new Histogram({
      name: 'ride_cdc_mart_group_batches',
      help: 'Partition batches committed together in one reporting_db transaction (group commit)',
      buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32],
      registers: r,
    }),
    martKpisNotMaintained: new Gauge({
      name: 'ride_cdc_mart_kpis_not_maintained',
      help: 'Catalog KPIs this worker leaves out (REPORTING_KPIS): their mart rows are not updated',
      registers: r,
    }),
    martRowsMerged: new Counter({
      name: 'ride_cdc_mart_rows_merged_total',
      help: 'Rows upserted into mart tables',
      labelNames: ['table'],
      registers: r,
    }),
    captureFreshness: new Gauge({
      name: 'ride_cdc_capture_freshness_seconds',
      help: 'Age of the newest Debezium heartbeat or event seen per captured table (src/source/capture-health.ts)',
      labelNames: ['table'],
      registers: r,
    }),
    connectorTaskState: new Gauge({
      name: 'ride_cdc_connector_task_state',
      help: 'Kafka Connect state of the watched connector (task="connector") and its tasks: 1 for the current state',
      labelNames: ['connector', 'task', 'state'],
      registers: r,
    }),
    connectorRestarts: new Counter({
      name: 'ride_cdc_connector_restarts_total',
      help: 'Restarts of a FAILED connector or task requested by the capture watcher',
      labelNames: ['connector'],
      registers: r,
    }),
    // Periodic batch jobs (src/batch): the daily cohorts, the data-quality snapshot.
    batchRuns: new Counter({
      name: 'ride_cdc_batch_runs_total',
      help: 'Runs of a periodic batch job, by job and result (success, failure)',
      labelNames: ['job', 'result'],
      registers: r,
    }),
    batchLastSuccess: new Gauge({
      name: 'ride_cdc_batch_last_success_timestamp_seconds',
      help: 'Unix time of the last successful run of a batch job',
      labelNames: ['job'],
      registers: r,
    }),
    // Data quality (src/quality), from the latest mart.data_quality snapshot.
    dataQualityRows: new Gauge({
      name: 'ride_cdc_data_quality_rows',
      help: 'Rows per captured table in each store: source, mart (state rows) and es (documents)',
      labelNames: ['table', 'store'],
      registers: r,
    }),
    dataQualityMissing: new Gauge({
      name: 'ride_cdc_data_quality_missing',
      help: 'Source rows minus the rows/documents of a store (completeness; 0 = complete, < 0 = extra)',
      labelNames: ['table', 'store'],
      registers: r,
    }),
    dataQualityNewestAge: new Gauge({
      name: 'ride_cdc_data_quality_newest_event_age_seconds',
      help: 'Age of the newest business timestamp per table, in the source and in the mart',
      labelNames: ['table', 'store'],
      registers: r,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
