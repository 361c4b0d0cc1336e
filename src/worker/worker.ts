import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { topicFor, type WorkerConfig } from '../config/worker-config.js';
import { createPool, sourcePgSettings } from '../db/pg.js';
import { Decoder } from '../decode/decoder.js';
import { RegistrySchemaSource } from '../decode/schema-source.js';
import { createEsClient } from '../sink/elasticsearch/client.js';
import { ElasticsearchSink } from '../sink/elasticsearch/es-sink.js';
import { MartSink } from '../sink/mart/mart-sink.js';
import { MartGroupCommit } from '../sink/mart/group-commit.js';
import type { Sink } from '../sink/sink.js';
import { withRetry, type RetryPolicy } from '../sink/with-retry.js';
import { createKafka } from '../source/kafka-client.js';
import { DeadLetterProducer } from '../source/dead-letter.js';
import { ensureTopics } from '../source/topics.js';
import { CaptureWatch } from '../source/capture-watch.js';
import { createMetrics, type Metrics } from '../observe/metrics.js';
import { loadBatchConfig } from '../batch/business-day.js';
import { CohortScheduler } from '../batch/cohorts/scheduler.js';
import { QualityMonitor } from '../quality/monitor.js';
import { Health } from '../observe/health.js';
import { ObservabilityServer } from '../observe/http-server.js';
import { KpiExporter } from '../observe/kpi-exporter.js';
import { DashboardFeeds } from '../observe/dashboard-feeds.js';
import type { Logger } from '../observe/logger.js';
import { authFailureMessage } from '../shared/auth-failure.js';
import { ConfigError, TransientError, errorMessage } from '../shared/errors.js';
import { retry } from '../shared/retry.js';
import { ConsumerRunner } from './consumer-runner.js';
import { Lifecycle, type Resource, type WorkerState } from './lifecycle.js';
import { CATALOG } from '../project/metrics/catalog.js';

export type { WorkerState };

/**
 * The one owner of every external resource of a worker, as an ordered list of resources: the
 * observability endpoint first (so an orchestrator sees "starting"), then Elasticsearch,
 * reporting_db, Kafka, the mart and the consumer. Lifecycle (lifecycle.ts) starts them in that
 * order, stops them in reverse and refuses illegal moves.
 */
export class Worker {
  readonly metrics: Metrics = createMetrics();
  readonly health: Health;
  private readonly http: ObservabilityServer;
  private readonly lifecycle: Lifecycle;
  metricsPort = 0;

  constructor(
    private readonly cfg: WorkerConfig,
    private readonly logger: Logger,
  ) {
    this.health = new Health(this.metrics, cfg.pipeline.stuckAfterMs);
    this.http = new ObservabilityServer(this.metrics, this.health, cfg.metricsPort);
    this.lifecycle = new Lifecycle(this.resources(), {
      shutdownTimeoutMs: cfg.pipeline.shutdownTimeoutMs,
      logger,
    });
  }

  get currentState(): WorkerState {
    return this.lifecycle.state;
  }

  /** Resolves when running (or when a stop interrupted the start); rejects when a resource failed. */
  start(): Promise<void> {
    return this.lifecycle.start();
  }

  /**
   * Drain: stop fetching, let in-flight batches commit, close everything. A second call abandons
   * in-flight batches; past the shutdown deadline they are abandoned too and this rejects.
   */
  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  private resources(): Resource[] {
    const cfg = this.cfg;
    const log = this.logger;
    const policy: RetryPolicy = { initialMs: cfg.pipeline.retryInitialMs, maxMs: cfg.pipeline.retryMaxMs };
    const es = new ElasticsearchSink(
      createEsClient(cfg.elasticsearch),
      cfg.elasticsearch.indexPrefix,
      { maxDocs: cfg.elasticsearch.bulkMaxDocs, maxBytes: cfg.elasticsearch.bulkMaxBytes },
      this.metrics,
    );
    const pool = createPool(cfg.reporting, { max: cfg.reporting.poolSize }, (err) =>
      log.warn({ err: err.message }, 'reporting_db connection lost'),
    );
    const mart = new MartSink(pool, cfg.kafka.groupId, this.metrics, cfg.reporting);
    this.metrics.martKpisNotMaintained.set(
      cfg.reporting.kpis ? CATALOG.length - cfg.reporting.kpis.length : 0,
    );
    const kpis = new KpiExporter(pool, this.metrics, log.child({ stage: 'kpi' }));
    const feeds = new DashboardFeeds(pool, cfg, this.metrics, log);
    this.http.serveStatus(feeds.status);
    const batch = loadBatchConfig();
    const cohorts = new CohortScheduler(pool, batch, log.child({ stage: 'cohorts' }), this.metrics);
    const quality = new QualityMonitor(
      {
        source: createPool(sourcePgSettings(), { max: 1 }, (err) =>
          log.warn({ err: err.message }, 'source database connection lost (data-quality check)'),
        ),
        reporting: pool,
        es: createEsClient(cfg.elasticsearch),
        indexPrefix: cfg.elasticsearch.indexPrefix,
      },
      this.metrics,
      log.child({ stage: 'quality' }),
      batch.qualityIntervalMs,
    );
    const kafka = createKafka(cfg.kafka, log);
    // Dead letters only: idempotent so a retried send cannot duplicate within a session; Kafka's default partitioner.
    const producer: Producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    const dlq = new DeadLetterProducer(producer, cfg.kafka.dlqTopic);
    const schemas = new RegistrySchemaSource(cfg.registry);
    const runner = new ConsumerRunner(
      kafka,
      cfg,
      {
        decoder: new Decoder(schemas, cfg.kafka.topicPrefix),
        es: withRetry(es, policy),
        dlq: withRetry(dlq, policy),
        mart: withRetry(
          cfg.reporting.groupMaxEvents > 0
            ? new MartGroupCommit(mart, cfg.reporting.groupMaxEvents, this.metrics.martGroupBatches)
            : mart,
          policy,
        ),
        kpiMirror: withRetry(feeds.kpiMirrorQueue, policy),
        metrics: this.metrics,
        logger: log.child({ stage: 'pipeline' }),
        decodeRetry: { ...policy, unknownSchemaRetries: cfg.registry.unknownSchemaRetries },
        positions: mart,
        groupId: cfg.kafka.groupId,
      },
      mart,
      this.health,
    );
    const topics = [...cfg.kafka.tables.map((t) => topicFor(cfg.kafka.topicPrefix, t)), cfg.kafka.dlqTopic];
    const watch = cfg.capture ? this.captureWatch(cfg.capture, kafka) : undefined;

    return [
      {
        name: 'observability',
        start: async () => {
          this.metricsPort = await this.http.start();
          log.info({ port: this.metricsPort }, 'observability endpoint listening');
        },
        stop: () => this.http.stop(),
      },
      this.sinkResource(es, (signal) => this.untilUp('elasticsearch', signal, () => es.start())),
      {
        name: 'reporting_db',
        start: (signal) => this.untilUp('reporting_db', signal, () => mart.ping()),
        stop: () => pool.end().catch(() => undefined),
      },
      this.sinkResource(dlq, async (signal) => {
        await this.untilUp('kafka', signal, () => dlq.start());
        const created = await this.untilUp('kafka', signal, () => ensureTopics(kafka, topics));
        if (created.length > 0) log.info({ created }, 'created topics that did not exist yet');
      }),
      this.sinkResource(mart, async (signal) => {
        await this.untilUp('reporting_db', signal, () => mart.start());
        kpis.start();
        cohorts.start();
        quality.start();
      }),
      { name: 'kpi-exporter', start: async () => undefined, stop: () => kpis.stop() },
      { name: 'dashboard-feeds', start: async () => feeds.start(), stop: () => feeds.stop() },
      { name: 'cohort-batch', start: async () => undefined, stop: () => cohorts.stop() },
      { name: 'data-quality', start: async () => undefined, stop: () => quality.stop() },
      {
        // Decoding asks the registry lazily; a refused login must show at start, not per event.
        name: 'registry',
        start: (signal) => this.untilUp('registry', signal, () => schemas.check()),
        stop: async () => undefined,
      },
      // The watcher's Connect login, checked before the consumer moves any position.
      ...(watch
        ? [
            {
              name: 'connect',
              start: (signal: AbortSignal) => this.untilUp('connect', signal, () => watch.checkAccess()),
              stop: async () => undefined,
            },
          ]
        : []),
      {
        name: 'consumer',
        start: async (signal) => {
          await this.untilUp('kafka', signal, () => runner.start());
          log.info({ group: cfg.kafka.groupId, tables: cfg.kafka.tables }, 'worker running');
        },
        stop: (hard) => runner.stop(hard),
      },
      // Capture watch (issue 9): connector health and capture freshness, beside the pipeline, not in it.
      ...(watch ? [this.captureResource(watch)] : []),
    ];
  }

  private captureWatch(capture: NonNullable<WorkerConfig['capture']>, kafka: Kafka): CaptureWatch {
    const cfg = this.cfg;
    const decoder = new Decoder(new RegistrySchemaSource(cfg.registry), cfg.kafka.topicPrefix);
    return new CaptureWatch(
      capture,
      kafka,
      cfg.kafka.topicPrefix,
      cfg.kafka.tables,
      decoder,
      this.metrics,
      this.health,
      this.logger,
    );
  }

  private captureResource(watch: CaptureWatch): Resource {
    return {
      name: 'capture-watch',
      start: (signal) => this.untilUp('kafka', signal, () => watch.start()),
      stop: () => watch.stop(),
    };
  }

  private sinkResource<I, O>(sink: Sink<I, O>, start: (signal: AbortSignal) => Promise<void>): Resource {
    return { name: sink.stage, start, stop: () => sink.close().catch(() => undefined) };
  }

  /** A dependency that is down at start is waited for (not-ready meanwhile), not a crash. */
  private untilUp<T>(stage: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    return retry(
      async () => {
        try {
          const r = await fn();
          this.health.setFailing(stage, false);
          return r;
        } catch (err) {
          this.health.setFailing(stage, true);
          // A wrong password or a missing grant is not a dependency still starting: fail fast.
          const denied = authFailureMessage(stage, err);
          if (denied) throw new ConfigError(denied);
          if (/does not exist|relation .* does not exist/.test(errorMessage(err))) {
            throw new Error(
              `${stage}: ${errorMessage(err)} — run \`ride-cdc migrate --target reporting\` first`,
            );
          }
          throw new TransientError(`${stage} unavailable: ${errorMessage(err)}`, err);
        }
      },
      {
        initialDelayMs: this.cfg.pipeline.retryInitialMs,
        maxDelayMs: this.cfg.pipeline.retryMaxMs,
        signal,
        onRetry: (err, attempt) =>
          this.logger.warn({ stage, attempt, err: errorMessage(err) }, 'waiting for dependency'),
      },
    );
  }
}
