import type { Logger } from '../../observe/logger.js';
import type { Metrics } from '../../observe/metrics.js';
import { projectToElasticsearch } from '../../project/project-es.js';
import type { WriteContext } from '../../sink/sink.js';
import { retryStage, type RetryPolicy } from '../../sink/with-retry.js';
import { SystemicError } from '../../shared/errors.js';
import { lettersFor, pendingMessages, type Batch, type BatchOutcome, type PositionSource } from './batch.js';
import { batchContext, type StallHooks } from './batch-context.js';
import { decodeStage, type StageDecoder } from './decode-stage.js';
import { truncateStage } from './truncate-stage.js';
import {
  deadLetterStage,
  writeElasticsearchStage,
  writeMartStage,
  type DeadLetterSink,
  type EsStageSink,
  type KpiMirrorSink,
  type MartStageSink,
} from './sink-stages.js';

/** What a batch runs through; the sinks come wrapped in withRetry (src/sink/with-retry.ts). */
export interface PipelineDeps {
  decoder: StageDecoder;
  es: EsStageSink;
  dlq: DeadLetterSink;
  mart: MartStageSink;
  /** After the mart commit: mirror the KPI rows it changed into Elasticsearch (absent: no mirror). */
  kpiMirror?: KpiMirrorSink;
  metrics: Metrics;
  logger: Logger;
  /** Backoff of the decode stage (the sinks carry their own). */
  decodeRetry: RetryPolicy & { unknownSchemaRetries: number };
  /** The stored positions (the mart sink), re-read while a position is ahead of the log. */
  positions: PositionSource;
  /** The consumer group, named in the repair command of a truncate. */
  groupId: string;
}

/**
 * decode → project → Elasticsearch → dead letters → one PostgreSQL transaction (mart + position).
 * Blocks until the batch is committed, fenced, or the signal aborts (then it throws and nothing
 * of the batch is committed: it is replayed, idempotently, by whoever owns the partition next).
 */
export async function processBatch(
  deps: PipelineDeps,
  batch: Batch,
  signal: AbortSignal,
  hooks: StallHooks,
): Promise<BatchOutcome> {
  const { metrics } = deps;
  const started = performance.now();
  const log = deps.logger.child({ topic: batch.topic, partition: batch.partition });
  const ctx = batchContext(signal, hooks, metrics, log);
  batch = { ...batch, expectedNext: await positionStage(deps, batch, ctx) };
  const pending = pendingMessages(batch);
  if (pending.length < batch.messages.length) {
    metrics.messagesSkipped.inc(
      { topic: batch.topic, kind: 'already-committed' },
      batch.messages.length - pending.length,
    );
  }
  if (pending.length === 0) return { next: batch.expectedNext, fenced: false };

  const decoded = await decodeStage(deps.decoder, batch, pending, ctx, deps.decodeRetry, metrics);
  await truncateStage(decoded.events, deps.groupId, ctx, deps.decodeRetry, log);
  const esRejected = await writeElasticsearchStage(deps.es, projectToElasticsearch(decoded.events), ctx);
  const undecodable = new Set(decoded.letters.map((l) => l.offset));
  const letters = [
    ...decoded.letters,
    ...lettersFor(batch, esRejected, 'elasticsearch-rejected', undecodable),
  ];
  await deadLetterStage(deps.dlq, letters, ctx);

  const next = (BigInt(pending.at(-1)!.offset) + 1n).toString();
  const mart = await writeMartStage(
    deps.mart,
    deps.dlq,
    batch,
    {
      topic: batch.topic,
      partition: batch.partition,
      expectedNext: batch.expectedNext,
      next,
      // Sinks are independent: an event Elasticsearch refused is still applied to the mart.
      events: decoded.events,
    },
    ctx,
  );
  const all = [...letters, ...mart.letters];
  for (const l of all) {
    metrics.deadLettered.inc({ topic: l.topic, reason: l.reason });
    log.warn({ offset: l.offset, reason: l.reason, err: l.error }, 'event sent to the dead-letter topic');
  }
  if (mart.kind === 'fenced') {
    log.warn(
      { expected: batch.expectedNext },
      'partition was advanced by another instance; batch rolled back',
    );
    return { next: batch.expectedNext, fenced: true };
  }
  if (deps.kpiMirror && mart.touched.length > 0) await deps.kpiMirror.write(mart.touched, ctx);

  const now = Date.now();
  for (const e of decoded.events)
    if (!e.snapshot) metrics.e2eLatency.observe(Math.max(0, now - e.sourceTsMs) / 1000);
  metrics.batchSize.observe(pending.length);
  metrics.batchSeconds.observe((performance.now() - started) / 1000);
  return { next, fenced: false };
}

/**
 * The position the batch continues from. A stored position past the end of the log means the
 * topic was re-created or truncated under us: its messages are new, not "already committed", so
 * skipping them would be silent loss. Systemic instead: paused and loud until an operator moves the
 * position (`ride-cdc offsets reset`), which is re-read on every retry.
 */
async function positionStage(deps: PipelineDeps, batch: Batch, ctx: WriteContext): Promise<string | null> {
  let first = true;
  return retryStage(
    'kafka',
    async () => {
      const stored = first
        ? batch.expectedNext
        : ((await deps.positions.loadPositions(batch.topic, [batch.partition])).get(batch.partition) ?? null);
      first = false;
      if (stored !== null && BigInt(batch.highWatermark) < BigInt(stored))
        throw new SystemicError(
          'position-ahead-of-log',
          `stored position ${stored} of ${batch.topic}/${batch.partition} is past the end of the log (${batch.highWatermark}): ` +
            `the topic was re-created or truncated; to reprocess it: ride-cdc offsets reset --to earliest --table <table>`,
        );
      return stored;
    },
    ctx,
    deps.decodeRetry,
  );
}
