import type { ChangeEvent } from '../../decode/change-event.js';
import type { EsIntent, Rejection } from '../../project/intents.js';
import { SystemicError } from '../../shared/errors.js';
import { MartDataError } from '../../sink/mart/pg-errors.js';
import type { DeadLetter } from '../../source/dead-letter.js';
import type { EsWriteResult } from '../../sink/elasticsearch/es-sink.js';
import type { MartBatch, MartOutcome } from '../../sink/mart/mart-sink.js';
import type { MetricKey } from '../../sink/elasticsearch/kpi-mirror-doc.js';
import type { Sink, WriteContext } from '../../sink/sink.js';
import { lettersFor, type Batch } from './batch.js';

export type EsStageSink = Sink<readonly EsIntent[], EsWriteResult>;
export type MartStageSink = Sink<MartBatch, MartOutcome>;
export type DeadLetterSink = Sink<readonly DeadLetter[], void>;
/** Indexes the KPI rows a committed batch changed (src/sink/elasticsearch/kpi-mirror.ts). */
export type KpiMirrorSink = Sink<readonly MetricKey[], void>;

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
  | { kind: 'committed'; letters: DeadLetter[]; touched: MetricKey[] }
  | { kind: 'fenced'; letters: DeadLetter[] };

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
    let outcome: MartOutcome;
    try {
      outcome = await mart.write({ ...write, events }, ctx);
    } catch (err) {
      if (!(err instanceof MartDataError)) throw err;
      outcome = { kind: 'rejected', rejected: await isolate(mart, write, events, err, ctx) };
    }
    if (outcome.kind === 'committed') return { kind: 'committed', letters, touched: outcome.touched };
    if (outcome.kind === 'fenced') return { kind: 'fenced', letters };
    const fresh = lettersFor(batch, outcome.rejected, 'mart-rejected', excluded);
    if (fresh.length === 0)
      throw new Error(`bug: the mart rejected events it was not given: ${JSON.stringify(outcome.rejected)}`);
    await deadLetterStage(dlq, fresh, ctx);
    for (const l of fresh) excluded.add(l.offset);
    letters.push(...fresh);
  }
}

/**
 * reporting_db refused a value (SQLSTATE 22xxx/23xxx): find the events that fail on their own by
 * bisection over rolled-back probe transactions, so they alone are dead-lettered. When no single
 * event fails alone (only a combination does) there is nobody to blame: loud, not a loop.
 */
async function isolate(
  mart: MartStageSink,
  write: Omit<MartBatch, 'events'>,
  events: readonly ChangeEvent[],
  cause: MartDataError,
  ctx: WriteContext,
): Promise<Rejection[]> {
  const fails = async (part: readonly ChangeEvent[]): Promise<boolean> => {
    try {
      await mart.write({ ...write, events: part, dryRun: true }, ctx);
      return false;
    } catch (err) {
      if (err instanceof MartDataError) return true;
      throw err;
    }
  };
  const culprits = async (part: readonly ChangeEvent[]): Promise<ChangeEvent[]> => {
    if (part.length === 0 || !(await fails(part))) return [];
    if (part.length === 1) return [...part];
    const half = Math.ceil(part.length / 2);
    return [...(await culprits(part.slice(0, half))), ...(await culprits(part.slice(half)))];
  };
  const bad = events.length === 1 ? [...events] : await culprits(events);
  if (bad.length === 0)
    throw new SystemicError('reporting-db-data-error', `no single event explains: ${cause.message}`, cause);
  return bad.map((e) => ({
    origin: { topic: e.topic, partition: e.partition, offset: e.offset },
    reason: `mart: ${cause.message}`,
  }));
}
