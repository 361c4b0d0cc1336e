import { hostname } from 'node:os';
import type { Consumer, Kafka } from 'kafkajs';
import type { WorkerConfig } from '../config/worker-config.js';
import { topicFor } from '../config/worker-config.js';
import type { Decoder } from '../decode/decoder.js';
import type { Health } from '../observe/health.js';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { errorMessage } from '../shared/errors.js';
import {
  Freshness,
  RestartPolicy,
  TASK_STATES,
  failedTasks,
  stateRows,
  type ConnectorStatusBody,
} from './capture-health.js';

export type CaptureConfig = NonNullable<WorkerConfig['capture']>;

/**
 * Watches and heals change capture from inside the worker, independently of the pipeline:
 *  - polls Kafka Connect's `/connectors/<name>/status` and exports
 *    `ride_cdc_connector_task_state{connector,task,state}`; a FAILED connector or task is
 *    restarted (`POST /connectors/<name>/restart?includeTasks=true&onlyFailed=true`) with capped
 *    backoff (RestartPolicy), counted in `ride_cdc_connector_restarts_total`, and `/readyz` fails
 *    (stage "capture") while it stays FAILED;
 *  - exports `ride_cdc_capture_freshness_seconds{table}` from Debezium's heartbeat topic (its own
 *    consumer, a group per worker process, starting at the end) and from the table topics' high
 *    watermarks (a topic that grew carries a new event).
 * Several workers may watch the same connector: a restart request for a task that is already
 * restarting is harmless (onlyFailed=true). Connect's REST API may require basic auth
 * (CONNECT_USERNAME / CONNECT_PASSWORD); a refused login is checked once at start (checkAccess)
 * and fails the worker fast, later refusals are logged naming those variables.
 */
export class CaptureWatch {
  private timer?: NodeJS.Timeout;
  private consumer?: Consumer;
  private readonly freshness: Freshness;
  private readonly policy: RestartPolicy;
  private readonly watermarks = new Map<string, bigint>();
  private polling?: Promise<void>;
  private stopped = false;
  private readonly log: Logger;

  constructor(
    private readonly cfg: CaptureConfig,
    private readonly kafka: Kafka,
    private readonly topicPrefix: string,
    private readonly tables: readonly string[],
    private readonly decoder: Decoder,
    private readonly metrics: Metrics,
    private readonly health: Health,
    logger: Logger,
  ) {
    this.log = logger.child({ stage: 'capture', connector: cfg.connector });
    this.freshness = new Freshness(tables, Date.now());
    this.policy = new RestartPolicy(cfg.restartInitialMs, cfg.restartMaxMs, cfg.restartMaxMs);
  }

  /**
   * One status request before the pipeline starts: a refused login (401/403) throws an error the
   * worker reports as an auth failure of stage "connect" and exits on. Connect being down or the
   * connector missing is not an error here: the poll loop reports it as a state.
   */
  async checkAccess(): Promise<void> {
    const res = await this.request('status').catch(() => undefined);
    if (res && (res.status === 401 || res.status === 403))
      throw Object.assign(
        new Error(`Kafka Connect REST at ${this.cfg.connectUrl} answered HTTP ${res.status}`),
        { status: res.status },
      );
  }

  /** Starts the heartbeat consumer (waits for it to join) and the poll loop. Never throws for Connect trouble. */
  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      // Every worker needs every heartbeat; nothing is committed, so the group leaves no state behind.
      groupId: `${this.cfg.groupPrefix}${hostname()}.${process.pid}`,
      maxWaitTimeInMs: 1000,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [this.cfg.heartbeatTopic], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        this.freshness.heartbeat(await this.heartbeatTime(topic, partition, message));
      },
    });
    this.updateFreshness();
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
    await this.consumer?.disconnect().catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll().finally(() => this.schedule(this.cfg.intervalMs));
    }, delayMs);
    this.timer.unref();
  }

  private async heartbeatTime(
    topic: string,
    partition: number,
    message: { offset: string; key: Buffer | null; value: Buffer | null; timestamp: string },
  ): Promise<number> {
    try {
      const d = await this.decoder.decode({ topic, partition, ...message });
      if (d.kind === 'heartbeat' && d.tsMs !== null) return d.tsMs;
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'heartbeat not decodable; using its Kafka timestamp');
    }
    return Number(message.timestamp);
  }

  private async poll(): Promise<void> {
    await Promise.all([this.pollConnector(), this.pollTopics()]);
    this.updateFreshness();
  }

  private updateFreshness(): void {
    for (const [table, age] of this.freshness.ages(Date.now()))
      this.metrics.captureFreshness.set({ table }, age);
  }

  /** A table topic whose high watermarks grew since the last poll received a new event. */
  private async pollTopics(): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      for (const table of this.tables) {
        const topic = topicFor(this.topicPrefix, table);
        const offsets = await admin.fetchTopicOffsets(topic).catch(() => null);
        if (!offsets) continue;
        const sum = offsets.reduce((n, o) => n + BigInt(o.high), 0n);
        const prev = this.watermarks.get(topic);
        if (prev !== undefined && sum > prev) this.freshness.event(table, Date.now());
        this.watermarks.set(topic, sum);
      }
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'cannot read table topic offsets');
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async pollConnector(): Promise<void> {
    const status = await this.status();
    const rows = stateRows(status);
    const gauge = this.metrics.connectorTaskState;
    gauge.reset(); // tasks that disappeared must not keep their last state
    for (const r of rows)
      for (const s of TASK_STATES)
        gauge.set({ connector: this.cfg.connector, task: r.task, state: s }, s === r.state ? 1 : 0);

    const failed = typeof status === 'string' ? [] : failedTasks(status);
    this.health.setFailing('capture', failed.length > 0);
    if (typeof status === 'string') {
      this.log.warn({ state: status, connectUrl: this.cfg.connectUrl }, 'connector status unavailable');
      return;
    }
    if (!this.policy.observe(failed.length > 0, Date.now())) {
      if (failed.length > 0)
        this.log.warn(
          { failed, nextRestartAt: new Date(this.policy.nextRestartAt).toISOString() },
          'connector task still FAILED; waiting for the next restart',
        );
      return;
    }
    this.log.error(
      { failed, restart: this.policy.consecutive },
      'connector task FAILED; restarting it (Debezium resumes from its last committed offset)',
    );
    this.metrics.connectorRestarts.inc({ connector: this.cfg.connector });
    await this.restart();
  }

  private headers(): Record<string, string> {
    const { username, password } = this.cfg;
    return username !== undefined && password !== undefined
      ? { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` }
      : {};
  }

  private request(what: 'status' | 'restart'): Promise<Response> {
    const base = `${this.cfg.connectUrl}/connectors/${encodeURIComponent(this.cfg.connector)}`;
    return what === 'status'
      ? fetch(`${base}/status`, { headers: this.headers(), signal: AbortSignal.timeout(10_000) })
      : fetch(`${base}/restart?includeTasks=true&onlyFailed=true`, {
          method: 'POST',
          headers: this.headers(),
          signal: AbortSignal.timeout(30_000),
        });
  }

  private refused(status: number): boolean {
    if (status !== 401 && status !== 403) return false;
    this.log.error(
      { status, connectUrl: this.cfg.connectUrl },
      'Kafka Connect REST refused the watcher; check CONNECT_USERNAME / CONNECT_PASSWORD',
    );
    return true;
  }

  private async status(): Promise<ConnectorStatusBody | 'MISSING' | 'UNREACHABLE'> {
    try {
      const res = await this.request('status');
      if (res.status === 404) return 'MISSING';
      this.refused(res.status);
      if (!res.ok) return 'UNREACHABLE';
      return (await res.json()) as ConnectorStatusBody;
    } catch {
      return 'UNREACHABLE';
    }
  }

  private async restart(): Promise<void> {
    try {
      const res = await this.request('restart');
      if (!res.ok && !this.refused(res.status))
        this.log.error({ status: res.status, body: await res.text() }, 'connector restart refused');
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'connector restart request failed');
    }
  }
}
