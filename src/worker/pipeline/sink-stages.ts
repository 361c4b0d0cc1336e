import type { ChangeEvent } from '../../decode/change-event.js';
import type { EsIntent, Rejection } from '../../project/intents.js';
import type { DeadLetter } from '../../source/dead-letter.js';
import type { EsWriteResult } from '../../sink/elasticsearch/es-sink.js';
import type { MartBatch, MartOutcome } from '../../sink/mart/mart-sink.js';
import type { Sink, WriteContext } from '../../sink/sink.js';
import { lettersFor, type Batch } from './batch.js';

export type EsStageSink = Sink<readonly EsIntent[], EsWriteResult>;
export type MartStageSink = Sink<MartBatch, MartOutcome>;
export type DeadLetterSink = Sink<readonly DeadLetter[], void>;

/** Writes the batch's Elasticsearch intents; returns the documents Elasticsearch refused for good. */
export async function writeElasticsearchStage(
  es: EsStageSink,
  intents: readonly EsIntent[],
  ctx: WriteContext,
): Promise<Rejection[]> {
  if (intents.length === 0) return [];
  return (await es.write(intents, ctx)).rejected;
}

/**
 * Produces dead letters and waits for the broker's acknowledgement. Called before the mart
 * transaction opens (never while it holds row locks), and before the position moves: a crash can
 * duplicate a dead letter but never lose one.
 */
export async function deadLetterStage(
  dlq: DeadLetterSink,
  letters: readonly DeadLetter[],
  ctx: WriteContext,
): Promise<void> {
  if (letters.length > 0) await dlq.write(letters, ctx);
}

export type MartStageResult =
  { kind: 'committed'; letters: DeadLetter[] } | { kind: 'fenced'; letters: DeadLetter[] };

/**
 * One PostgreSQL transaction commits the batch's mart changes and its position. When the mart
 * cannot project some events it rolls back and names them; they are dead-lettered (acknowledged,
 * no lock held) and the batch is written again without them. Each round removes at least one
 * event, so this ends.
 */
export async function writeMartStage(
  mart: MartStageSink,
  dlq: DeadLetterSink,
  batch: Batch,
  write: Omit<MartBatch, 'events'> & { events: readonly ChangeEvent[] },
  ctx: WriteContext,
): Promise<MartStageResult> {
  const letters: DeadLetter[] = [];
  const excluded = new Set<string>();
  for (;;) {
    const events = write.events.filter((e) => !excluded.has(e.offset));
    const outcome = await mart.write({ ...write, events }, ctx);
    if (outcome.kind === 'committed') return { kind: 'committed', letters };
    if (outcome.kind === 'fenced') return { kind: 'fenced', letters };
    const fresh = lettersFor(batch, outcome.rejected, 'mart-rejected', excluded);
    if (fresh.length === 0)
      throw new Error(`bug: the mart rejected events it was not given: ${JSON.stringify(outcome.rejected)}`);
    await deadLetterStage(dlq, fresh, ctx);
    for (const l of fresh) excluded.add(l.offset);
    letters.push(...fresh);
  }
}
