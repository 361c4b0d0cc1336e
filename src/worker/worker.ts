import pg from 'pg';
import { Partitioners, type Producer } from 'kafkajs';
import type { Client } from '@elastic/elasticsearch';
import { topicFor, type WorkerConfig } from '../config/worker-config.js';
import { Decoder } from '../decode/decoder.js';
import { RegistrySchemaSource } from '../decode/schema-source.js';
import { createEsClient } from '../sink/elasticsearch/client.js';
import { ElasticsearchSink } from '../sink/elasticsearch/es-sink.js';
import { setupIndices } from '../sink/elasticsearch/setup.js';
import { createKafka } from '../source/kafka-client.js';
import { DeadLetterProducer } from '../source/dead-letter.js';
import { OffsetStore } from '../source/offset-store.js';
import { ensureTopics } from '../source/topics.js';
import { createMetrics, type Metrics } from '../observe/metrics.js';
import { Health } from '../observe/health.js';
import { ObservabilityServer } from '../observe/http-server.js';
import { KpiExporter } from '../observe/kpi-exporter.js';
import { DashboardFeeds } from '../observe/dashboard-feeds.js';
import type { Logger } from '../observe/logger.js';
import { TransientError, errorMessage } from '../shared/errors.js';
import { withRetry } from '../shared/retry.js';
import { ConsumerRunner } from './consumer-runner.js';
import type { TransactionalSink } from './batch-processor.js';

export type WorkerState = 'INITIALIZED' | 'STARTING' | 'RUNNING' | 'DRAINING' | 'STOPPED' | 'FAILED';

export interface WorkerOptions {
  /** Builds the reporting-mart sink on the worker's pool (may prepare tables); absent = offsets only. */
  mart?: (pool: pg.Pool, metrics: Metrics, logger: Logger) => Promise<TransactionalSink>;
}

/**
 * The one owner of every external resource of a worker: start brings them up in dependency order,
 * stop drains and closes them in reverse. Both are idempotent; stop has a deadline that fails loudly.
 */
export class Worker {
  private state: WorkerState = 'INITIALIZED';
  readonly metrics: Metrics = createMetrics();
  readonly health: Health;
  private readonly http: ObservabilityServer;
  private pool?: pg.Pool;
  private es?: Client;
  private producer?: Producer;
  private runner?: ConsumerRunner;
  private kpis?: KpiExporter;
  private feeds?: DashboardFeeds;
  private starting?: Promise<void>;
  private stopping?: Promise<void>;
  private readonly startAbort = new AbortController();
  metricsPort = 0;

  constructor(
    private readonly cfg: WorkerConfig,
    private readonly logger: Logger,
    private readonly opts: WorkerOptions = {},
  ) {
    this.health = new Health(this.metrics, cfg.pipeline.stuckAfterMs);
    this.http = new ObservabilityServer(this.metrics, this.health, cfg.metricsPort);
  }

  get currentState(): WorkerState {
    return this.state;
  }

  start(): Promise<void> {
    this.starting ??= this.doStart().catch((err: unknown) => {
      this.state = 'FAILED';
      throw err;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.state = 'STARTING';
    const cfg = this.cfg;
    const log = this.logger;
    // Serve /healthz and /readyz (503) before anything else so an orchestrator sees us starting.
    this.metricsPort = await this.http.start();
    log.info({ port: this.metricsPort }, 'observability endpoint listening');

    this.es = createEsClient(cfg.elasticsearch);
    const es = this.es;
    await this.untilUp('elasticsearch', () => setupIndices(es, cfg.elasticsearch.indexPrefix));

    this.pool = new pg.Pool({ ...cfg.reporting, max: cfg.reporting.poolSize });
    this.pool.on('error', (err) => log.warn({ err: err.message }, 'idle reporting_db connection failed'));
    const pool = this.pool;
    await this.untilUp('reporting_db', () => pool.query('SELECT 1 FROM mart.consumer_offsets LIMIT 1'));

    const kafka = createKafka(cfg.kafka, log);
    // Dead letters only: idempotent so a retried send cannot duplicate within a session; Kafka's default partitioner.
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    const producer = this.producer;
    await this.untilUp('kafka', () => producer.connect());
    const topics = [...cfg.kafka.tables.map((t) => topicFor(cfg.kafka.topicPrefix, t)), cfg.kafka.dlqTopic];
    const created = await this.untilUp('kafka', () => ensureTopics(kafka, topics));
    if (created.length > 0) log.info({ created }, 'created topics that did not exist yet');

    const mart = this.opts.mart
      ? await this.untilUp('reporting_db', () =>
          this.opts.mart!(pool, this.metrics, log.child({ stage: 'mart' })),
        )
      : undefined;
    if (mart) {
      this.kpis = new KpiExporter(pool, this.metrics, log.child({ stage: 'kpi' }));
      this.kpis.start();
    }
    this.feeds = new DashboardFeeds(es, mart ? pool : undefined, cfg, this.metrics, log);
    const offsets = new OffsetStore(pool, cfg.kafka.groupId);
    this.runner = new ConsumerRunner(
      kafka,
      cfg,
      {
        decoder: new Decoder(new RegistrySchemaSource(cfg.registry), cfg.kafka.topicPrefix),
        es: new ElasticsearchSink(
          es,
          cfg.elasticsearch.indexPrefix,
          { maxDocs: cfg.elasticsearch.bulkMaxDocs, maxBytes: cfg.elasticsearch.bulkMaxBytes },
          this.metrics,
        ),
        dlq: new DeadLetterProducer(producer, cfg.kafka.dlqTopic),
        pool,
        offsets,
        mart,
        kpiMirror: this.feeds.kpiMirror,
        metrics: this.metrics,
        logger: log.child({ stage: 'pipeline' }),
        retry: {
          initialMs: cfg.pipeline.retryInitialMs,
          maxMs: cfg.pipeline.retryMaxMs,
          unknownSchemaRetries: cfg.registry.unknownSchemaRetries,
        },
      },
      offsets,
      this.health,
    );
    await this.untilUp('kafka', () => this.runner!.start());
    this.state = 'RUNNING';
    log.info({ group: cfg.kafka.groupId, tables: cfg.kafka.tables }, 'worker running');
  }

  /** A dependency that is down at start is waited for (not-ready meanwhile), not a crash. */
  private async untilUp<T>(stage: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(
      async () => {
        try {
          const r = await fn();
          this.health.setFailing(stage, false);
          return r;
        } catch (err) {
          this.health.setFailing(stage, true);
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
        signal: this.startAbort.signal,
        onRetry: (err, attempt) =>
          this.logger.warn({ stage, attempt, err: errorMessage(err) }, 'waiting for dependency'),
      },
    );
  }

  /**
   * Drain: stop fetching, let in-flight batches commit, close everything. Throws if that takes
   * longer than the shutdown deadline (batches still in backoff are then abandoned uncommitted).
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.state === 'STOPPED') return;
    const wasRunning = this.state === 'RUNNING';
    this.state = 'DRAINING';
    this.startAbort.abort();
    const deadline = this.cfg.pipeline.shutdownTimeoutMs;
    let drainFailed = false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`shutdown exceeded ${deadline} ms`)), deadline);
    });
    try {
      await Promise.race([this.runner?.stop(false), timeout]);
    } catch (err) {
      this.logger.error(
        { err: errorMessage(err) },
        'drain did not finish in time; abandoning in-flight batches (they will be replayed)',
      );
      await this.runner?.stop(true).catch(() => undefined);
      drainFailed = true;
    } finally {
      clearTimeout(timer);
    }
    await this.kpis?.stop();
    await this.feeds?.stop();
    await this.producer?.disconnect().catch(() => undefined);
    await this.pool?.end().catch(() => undefined);
    await this.es?.close().catch(() => undefined);
    await this.http.stop();
    this.state = drainFailed ? 'FAILED' : 'STOPPED';
    this.logger.info({ state: this.state, wasRunning }, 'worker stopped');
    if (drainFailed) throw new Error('worker did not drain within the shutdown deadline');
  }
}
