import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import PQueue from 'p-queue';
import { topicFor, type WorkerConfig } from '../config/worker-config.js';
import { errorMessage } from '../shared/errors.js';
import type { Health } from '../observe/health.js';
import { commitToKafka } from '../source/kafka-offsets.js';
import type { PositionSource } from './pipeline/batch.js';
import { processBatch, type PipelineDeps } from './pipeline/process-batch.js';

const key = (topic: string, partition: number) => `${topic}:${partition}`;

/**
 * Owns the kafkajs consumer: subscriptions with per-table reset policy, positions from
 * reporting_db on every (re)join, batches through a bounded queue, pause/resume on sink trouble.
 */
export class ConsumerRunner {
  private consumer?: Consumer;
  private readonly queue: PQueue;
  /** Stored next offset per partition, as last loaded or committed by this instance. */
  private readonly positions = new Map<string, string | null>();
  private readonly paused = new Set<string>();
  private readonly abort = new AbortController();
  /** Positions of the current assignment; batches wait for them so none runs on a stale position. */
  private assigned: Promise<void> = Promise.resolve();
  /** Partitions already re-seeked once because a batch started past the stored position. */
  private readonly reseeked = new Set<string>();

  constructor(
    private readonly kafka: Kafka,
    private readonly cfg: WorkerConfig,
    private readonly deps: PipelineDeps,
    private readonly offsets: PositionSource,
    private readonly health: Health,
  ) {
    this.queue = new PQueue({ concurrency: cfg.pipeline.maxInFlightBatches });
    const track = () => deps.metrics.inFlight.set(this.queue.size + this.queue.pending);
    this.queue.on('add', track);
    this.queue.on('next', track);
  }

  async start(): Promise<void> {
    const k = this.cfg.kafka;
    const consumer = this.kafka.consumer({
      groupId: k.groupId,
      sessionTimeout: k.sessionTimeoutMs,
      heartbeatInterval: 3000,
      allowAutoTopicCreation: false,
      maxBytesPerPartition: k.maxBytesPerPartition,
      maxBytes: k.maxBytes,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.assigned = this.onAssigned(e.payload.memberAssignment).catch((err: unknown) => {
        this.deps.logger.error({ err: errorMessage(err) }, 'could not load stored positions after join');
        this.health.setFailing('reporting_db', true);
        throw err;
      });
    });
    consumer.on(consumer.events.CRASH, (e) => {
      this.deps.logger.error(
        { err: errorMessage(e.payload.error), restart: e.payload.restart },
        'consumer crashed',
      );
      this.health.setJoined(false);
    });
    consumer.on(consumer.events.DISCONNECT, () => this.health.setJoined(false));
    await consumer.connect();
    for (const table of k.tables) {
      await consumer.subscribe({
        topics: [topicFor(k.topicPrefix, table)],
        fromBeginning: k.offsetReset[table] === 'earliest',
      });
    }
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: k.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.queue.add(() => this.onBatch(payload)),
    });
  }

  /** Seeks every assigned partition to the position committed with the data in reporting_db. */
  private async onAssigned(assignment: Record<string, number[]>): Promise<void> {
    this.positions.clear();
    this.health.resetLag();
    for (const [topic, partitions] of Object.entries(assignment)) {
      const stored = await this.offsets.loadPositions(topic, partitions);
      for (const p of partitions) {
        const next = stored.get(p) ?? null;
        this.positions.set(key(topic, p), next);
        if (next !== null) this.consumer!.seek({ topic, partition: p, offset: next });
      }
    }
    this.health.setJoined(true);
    this.health.setFailing('reporting_db', false);
    this.deps.logger.info({ assignment }, 'partitions assigned; positions loaded from reporting_db');
  }

  private async onBatch({
    batch,
    heartbeat,
    resolveOffset,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    await this.assigned;
    if (batch.isEmpty() || !isRunning() || isStale()) return;
    const k = key(batch.topic, batch.partition);
    const expected = this.positions.get(k) ?? null;
    if (expected !== null && BigInt(batch.firstOffset()!) > BigInt(expected)) {
      // Fetched from a position ahead of what reporting_db holds (the fetch raced the seek, or the
      // reset policy jumped): go back once. If it happens again the log no longer has those
      // offsets (retention), which is loud data loss upstream of us, not something to hide.
      if (!this.reseeked.has(k)) {
        this.reseeked.add(k);
        this.consumer!.seek({ topic: batch.topic, partition: batch.partition, offset: expected });
        return;
      }
      this.deps.logger.error(
        { topic: batch.topic, partition: batch.partition, expected, first: batch.firstOffset() },
        'offsets between the stored position and the log start are gone (retention?)',
      );
      this.deps.metrics.sinkFailures.inc({ sink: 'kafka', kind: 'offset-gap' });
    }
    this.reseeked.delete(k);
    // Keep the group session alive while a sink outage holds this batch in backoff.
    const beat = setInterval(() => void heartbeat().catch(() => undefined), 3000);
    try {
      const outcome = await processBatch(
        this.deps,
        {
          topic: batch.topic,
          partition: batch.partition,
          messages: batch.messages.map((m) => ({
            offset: m.offset,
            key: m.key,
            value: m.value,
            headers: m.headers,
          })),
          highWatermark: batch.highWatermark,
          expectedNext: expected,
        },
        this.abort.signal,
        {
          onBlocked: (stage, err) => this.block(stage, batch.topic, batch.partition, err),
          onRecovered: (stage) => this.unblock(stage, batch.topic, batch.partition),
        },
      );
      if (outcome.fenced) {
        const stored =
          (await this.offsets.loadPositions(batch.topic, [batch.partition])).get(batch.partition) ?? null;
        this.positions.set(k, stored);
        if (stored !== null)
          this.consumer!.seek({ topic: batch.topic, partition: batch.partition, offset: stored });
        return;
      }
      this.positions.set(k, outcome.next);
      if (outcome.next !== null) {
        resolveOffset((BigInt(outcome.next) - 1n).toString());
        const lag = Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(outcome.next)));
        this.deps.metrics.consumerLag.set({ topic: batch.topic, partition: String(batch.partition) }, lag);
        this.health.setLag(k, lag);
        await commitToKafka(this.consumer!, batch.topic, batch.partition, outcome.next, this.deps);
      }
      this.health.progress();
    } finally {
      clearInterval(beat);
    }
  }

  private block(stage: string, topic: string, partition: number, err: unknown): void {
    this.health.setFailing(stage, true, `${topic}/${partition}: ${errorMessage(err)}`, key(topic, partition));
    this.paused.add(key(topic, partition));
    this.consumer?.pause([{ topic, partitions: [partition] }]);
    this.deps.metrics.pausedPartitions.set(this.paused.size);
  }

  private unblock(stage: string, topic: string, partition: number): void {
    this.health.setFailing(stage, false, undefined, key(topic, partition));
    this.paused.delete(key(topic, partition));
    this.consumer?.resume([{ topic, partitions: [partition] }]);
    this.deps.metrics.pausedPartitions.set(this.paused.size);
  }

  /**
   * Soft stop: no new fetches, the running batches finish and commit (kafkajs waits for them).
   * `hard` also aborts batches stuck in backoff; they commit nothing and are replayed later.
   */
  async stop(hard = false): Promise<void> {
    if (hard) this.abort.abort();
    await this.consumer?.stop();
    await this.queue.onIdle();
    await this.consumer?.disconnect();
  }
}
