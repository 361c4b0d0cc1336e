import type { IHeaders } from 'kafkajs';
import type { Pool, PoolClient } from 'pg';
import type { ChangeEvent } from '../decode/change-event.js';
import type { Decoder } from '../decode/decoder.js';
import { UnknownSchemaError } from '../decode/schema-source.js';
import { projectToElasticsearch } from '../project/project-es.js';
import type { ElasticsearchSink, Rejection } from '../sink/elasticsearch/es-sink.js';
import type { DeadLetter, DeadLetterProducer } from '../source/dead-letter.js';
import type { OffsetStore } from '../source/offset-store.js';
import {
  PoisonMessageError,
  RideCdcError,
  TransientError,
  errorMessage,
  isRetriable,
} from '../shared/errors.js';
import { withRetry } from '../shared/retry.js';
import type { Metrics } from '../observe/metrics.js';
import type { MetricKey } from '../sink/elasticsearch/kpi-mirror-doc.js';
import type { Logger } from '../observe/logger.js';

export interface BatchMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

export interface Batch {
  topic: string;
  partition: number;
  messages: readonly BatchMessage[];
  /** Partition high watermark when fetched, for the lag gauge. */
  highWatermark: string;
  /** Stored position this batch continues from (null: nothing stored yet). */
  expectedNext: string | null;
}

/**
 * The second sink of a batch: writes inside the same PostgreSQL transaction as the offsets, so a
 * batch's mart changes and its position commit together or not at all.
 */
export interface TransactionalSink {
  /** Writes inside the caller's open transaction. Events it cannot project come back as rejections. */
  apply(
    client: PoolClient,
    events: readonly ChangeEvent[],
  ): Promise<{ rejected: Rejection[]; touched?: MetricKey[] }>;
}

export interface BatchOutcome {
  /** Stored position after this batch (unchanged when nothing new was processed). */
  next: string | null;
  /** Another instance advanced this partition first: nothing was committed; re-seek. */
  fenced: boolean;
}

export interface BatchDeps {
  decoder: Decoder;
  es: ElasticsearchSink;
  dlq: DeadLetterProducer;
  pool: Pool;
  offsets: OffsetStore;
  mart?: TransactionalSink;
  /** Mirrors the committed KPI rows into Elasticsearch, after the mart transaction. */
  kpiMirror?: { mirror(keys: readonly MetricKey[]): Promise<void> };
  metrics: Metrics;
  logger: Logger;
  retry: { initialMs: number; maxMs: number; unknownSchemaRetries: number };
  signal: AbortSignal;
  /** A stage is failing and being retried: pause the partition, report not ready, keep the group session alive. */
  onBlocked(stage: string, topic: string, partition: number, err: unknown): Promise<void>;
  onRecovered(stage: string, topic: string, partition: number): Promise<void>;
  /** Messages left behind the high watermark after this batch. */
  onLag?(topic: string, partition: number, lag: number): void;
}

class FencedError extends RideCdcError {
  constructor() {
    super('partition position moved under this batch', { retriable: false });
  }
}

/**
 * decode → project → Elasticsearch → dead letters → one PostgreSQL transaction (mart + offsets).
 * Blocks until the batch is committed, fenced, or the signal aborts (then it throws and nothing
 * of the batch is committed: it is replayed, idempotently, by whoever owns the partition next).
 */
export async function processBatch(deps: BatchDeps, batch: Batch): Promise<BatchOutcome> {
  const { metrics, logger } = deps;
  const started = performance.now();
  const log = logger.child({ topic: batch.topic, partition: batch.partition });
  const pending = batch.messages.filter(
    (m) => batch.expectedNext === null || BigInt(m.offset) >= BigInt(batch.expectedNext),
  );
  if (pending.length < batch.messages.length) {
    metrics.messagesSkipped.inc(
      { topic: batch.topic, kind: 'already-committed' },
      batch.messages.length - pending.length,
    );
  }
  if (pending.length === 0) return { next: batch.expectedNext, fenced: false };

  const events: ChangeEvent[] = [];
  const letters: DeadLetter[] = [];
  const byOffset = new Map(pending.map((m) => [m.offset, m]));
  const dead = (m: BatchMessage, reason: string, err: unknown) =>
    letters.push(deadLetterOf(batch, m, reason, err));

  for (const m of pending) {
    try {
      const d = await retrying(deps, 'decode', batch, () =>
        deps.decoder.decode({
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key,
          value: m.value,
        }),
      );
      if (d.kind === 'change') {
        events.push(d.event);
        metrics.eventsIn.inc({ topic: batch.topic, op: d.event.op });
      } else if (d.kind === 'ignored') {
        metrics.ignoredOps.inc({ topic: batch.topic, op: d.reason });
      } else {
        metrics.messagesSkipped.inc({ topic: batch.topic, kind: d.kind });
      }
    } catch (err) {
      if (!(err instanceof PoisonMessageError) && !(err instanceof UnknownSchemaError)) throw err;
      const reason = err instanceof PoisonMessageError ? err.reason : 'unknown-schema';
      metrics.decodeErrors.inc({ topic: batch.topic, reason });
      log.warn(
        { offset: m.offset, reason, err: errorMessage(err) },
        'undecodable message goes to the dead-letter topic',
      );
      dead(m, reason, err);
    }
  }

  const intents = projectToElasticsearch(events);
  const written = await retrying(deps, 'elasticsearch', batch, () => deps.es.write(intents));
  for (const r of written.rejected) {
    const m = byOffset.get(r.origin.offset);
    if (m && !letters.some((l) => l.offset === m.offset)) {
      log.warn(
        { offset: m.offset, reason: r.reason },
        'document rejected by Elasticsearch; event goes to the dead-letter topic',
      );
      dead(m, 'elasticsearch-rejected', r.reason);
    }
  }
  // The mart never sees an event whose Elasticsearch document was refused: the DLQ holds it whole.
  const rejectedOffsets = new Set(letters.map((l) => l.offset));
  const committed = events.filter((e) => !rejectedOffsets.has(e.offset));

  await retrying(deps, 'dead-letter', batch, () => deps.dlq.send(letters));

  const next = (BigInt(pending.at(-1)!.offset) + 1n).toString();
  let martLetters: DeadLetter[] = [];
  let touched: MetricKey[];
  try {
    touched = await retrying(deps, 'reporting_db', batch, () =>
      commitTransaction(deps, batch, committed, next, (rejections) => {
        const extra: DeadLetter[] = [];
        for (const r of rejections) {
          const m = byOffset.get(r.origin.offset);
          if (!m) continue;
          log.warn(
            { offset: m.offset, reason: r.reason },
            'event cannot be projected into the mart; it goes to the dead-letter topic',
          );
          extra.push(deadLetterOf(batch, m, 'mart-rejected', r.reason));
        }
        martLetters = extra; // replaced, not appended: a retried transaction recomputes them
        return extra;
      }),
    );
  } catch (err) {
    if (err instanceof FencedError) {
      log.warn(
        { expected: batch.expectedNext },
        'partition was advanced by another instance; batch rolled back',
      );
      return { next: batch.expectedNext, fenced: true };
    }
    throw err;
  }

  if (deps.kpiMirror && touched.length > 0)
    await retrying(deps, 'kpi-mirror', batch, () => deps.kpiMirror!.mirror(touched));
  for (const l of [...letters, ...martLetters])
    metrics.deadLettered.inc({ topic: l.topic, reason: l.reason });
  const now = Date.now();
  for (const e of committed)
    if (!e.snapshot) metrics.e2eLatency.observe(Math.max(0, now - e.sourceTsMs) / 1000);
  const lag = Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(next)));
  metrics.consumerLag.set({ topic: batch.topic, partition: String(batch.partition) }, lag);
  deps.onLag?.(batch.topic, batch.partition, lag);
  metrics.batchSize.observe(pending.length);
  metrics.batchSeconds.observe((performance.now() - started) / 1000);
  return { next, fenced: false };
}

/** A message as it goes to the dead-letter topic: original bytes and headers plus why. */
function deadLetterOf(batch: Batch, m: BatchMessage, reason: string, err: unknown): DeadLetter {
  return {
    topic: batch.topic,
    partition: batch.partition,
    offset: m.offset,
    key: m.key,
    value: m.value,
    headers: m.headers,
    reason,
    error: errorMessage(err),
  };
}

/**
 * One transaction: mart writes, dead letters for events the mart rejected (produced before the
 * commit, so a crash can duplicate a dead letter but never lose one), then the fenced offset move.
 */
async function commitTransaction(
  deps: BatchDeps,
  batch: Batch,
  events: readonly ChangeEvent[],
  next: string,
  deadLetter: (rejected: Rejection[]) => DeadLetter[],
): Promise<MetricKey[]> {
  const started = performance.now();
  let touched: MetricKey[] = [];
  let client: PoolClient;
  try {
    client = await deps.pool.connect();
  } catch (err) {
    throw new TransientError(`reporting_db unavailable: ${errorMessage(err)}`, err);
  }
  try {
    await client.query('BEGIN');
    if (deps.mart) {
      const applied = await deps.mart.apply(client, events);
      touched = applied.touched ?? [];
      const { rejected } = applied;
      if (rejected.length > 0) await deps.dlq.send(deadLetter(rejected));
    }
    const advanced = await deps.offsets.advance(
      client,
      batch.topic,
      batch.partition,
      batch.expectedNext,
      next,
    );
    if (!advanced) {
      await client.query('ROLLBACK');
      throw new FencedError();
    }
    await client.query('COMMIT');
    return touched;
  } catch (err) {
    if (!(err instanceof FencedError)) await client.query('ROLLBACK').catch(() => undefined);
    if (err instanceof RideCdcError) throw err;
    throw classifyPgError(err);
  } finally {
    client.release();
    deps.metrics.sinkSeconds.observe(
      { sink: 'reporting_db', operation: 'transaction' },
      (performance.now() - started) / 1000,
    );
  }
}

/** Connection loss, serialization failures and deadlocks are worth a retry; anything else is a bug. */
export function classifyPgError(err: unknown): Error {
  const code = (err as { code?: string }).code ?? '';
  const transient =
    code === '40001' ||
    code === '40P01' ||
    code.startsWith('08') ||
    code.startsWith('57P') ||
    code === '53300' ||
    /ECONNREFUSED|ECONNRESET|timeout|terminat|Connection/i.test(errorMessage(err));
  return transient ? new TransientError(`reporting_db: ${errorMessage(err)}`, err) : (err as Error);
}

/** Unknown schema ids are retried a bounded number of times; other transient failures until the signal aborts. */
function retrying<T>(deps: BatchDeps, stage: string, batch: Batch, fn: () => Promise<T>): Promise<T> {
  let blocked = false;
  let unknownSchema = 0;
  return withRetry(fn, {
    initialDelayMs: deps.retry.initialMs,
    maxDelayMs: deps.retry.maxMs,
    signal: deps.signal,
    retriable: (err) =>
      err instanceof UnknownSchemaError
        ? unknownSchema++ < deps.retry.unknownSchemaRetries
        : isRetriable(err),
    onRetry: (err, attempt) => {
      deps.metrics.retries.inc({ stage });
      deps.logger.warn(
        { stage, topic: batch.topic, partition: batch.partition, attempt, err: errorMessage(err) },
        'transient failure; backing off',
      );
      if (err instanceof UnknownSchemaError) return; // the registry may lag the producer; not an outage
      deps.metrics.sinkFailures.inc({ sink: stage, kind: 'unavailable' });
      if (!blocked) {
        blocked = true;
        void deps.onBlocked(stage, batch.topic, batch.partition, err);
      }
    },
  }).finally(() => {
    if (blocked) void deps.onRecovered(stage, batch.topic, batch.partition);
  });
}
