import type { IHeaders } from 'kafkajs';
import type { Rejection } from '../../project/intents.js';
import type { DeadLetter } from '../../source/dead-letter.js';
import { errorMessage } from '../../shared/errors.js';

/** One fetched batch of one partition, as the pipeline sees it (no kafkajs types beyond headers). */
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

export interface BatchOutcome {
  /** Stored position after this batch (unchanged when nothing new was processed). */
  next: string | null;
  /** Another instance advanced this partition first: nothing was committed; re-seek. */
  fenced: boolean;
}

/** Messages at or after the stored position; older ones are replays of what is already committed. */
export function pendingMessages(batch: Batch): readonly BatchMessage[] {
  const from = batch.expectedNext === null ? null : BigInt(batch.expectedNext);
  return from === null ? batch.messages : batch.messages.filter((m) => BigInt(m.offset) >= from);
}

/** A message as it goes to the dead-letter topic: original bytes and headers plus why. */
export function deadLetterOf(batch: Batch, m: BatchMessage, reason: string, err: unknown): DeadLetter {
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

/** Dead letters for the messages a sink or projection rejected (each message once). */
export function lettersFor(
  batch: Batch,
  rejections: readonly Rejection[],
  reason: string,
  already: ReadonlySet<string> = new Set(),
): DeadLetter[] {
  const byOffset = new Map(batch.messages.map((m) => [m.offset, m]));
  const seen = new Set(already);
  const out: DeadLetter[] = [];
  for (const r of rejections) {
    const m = byOffset.get(r.origin.offset);
    if (!m || seen.has(m.offset)) continue;
    seen.add(m.offset);
    out.push(deadLetterOf(batch, m, reason, r.reason));
  }
  return out;
}
