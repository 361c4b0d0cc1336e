import type { ChangeEvent } from '../../decode/change-event.js';
import type { Decoder } from '../../decode/decoder.js';
import { UnknownSchemaError } from '../../decode/schema-source.js';
import type { DeadLetter } from '../../source/dead-letter.js';
import { PoisonMessageError, isRetriable } from '../../shared/errors.js';
import type { Metrics } from '../../observe/metrics.js';
import type { WriteContext } from '../../sink/sink.js';
import { retryStage, type RetryPolicy } from '../../sink/with-retry.js';
import { deadLetterOf, type Batch, type BatchMessage } from './batch.js';

/** A decoder for the stage: decodeNow is optional (a stand-in in a test may only decode). */
export type StageDecoder = Pick<Decoder, 'decode'> & Partial<Pick<Decoder, 'decodeNow'>>;

export interface Decoded {
  events: ChangeEvent[];
  /** Messages that will never decode: they go to the dead-letter topic. */
  letters: DeadLetter[];
}

/**
 * Decodes every message in offset order. A registry outage is retried (the context pauses the
 * partition meanwhile); an unknown schema id is retried `unknownSchemaRetries` times (the registry
 * may lag the producer) and then dead-lettered with the poison messages.
 */
export async function decodeStage(
  decoder: StageDecoder,
  batch: Batch,
  messages: readonly BatchMessage[],
  ctx: WriteContext,
  policy: RetryPolicy & { unknownSchemaRetries: number },
  metrics: Metrics,
): Promise<Decoded> {
  const out: Decoded = { events: [], letters: [] };
  // Counted per batch, not per event (a label lookup each).
  const byOp = new Map<string, number>();
  for (const m of messages) {
    let unknownSchema = 0;
    const raw = {
      topic: batch.topic,
      partition: batch.partition,
      offset: m.offset,
      key: m.key,
      value: m.value,
    };
    try {
      // Without waiting once the message's schemas are resolved; otherwise resolved under retry.
      const d =
        decoder.decodeNow?.(raw) ??
        (await retryStage(
          'decode',
          () => decoder.decode(raw),
          ctx,
          policy,
          (err) =>
            err instanceof UnknownSchemaError
              ? unknownSchema++ < policy.unknownSchemaRetries
              : isRetriable(err),
        ));
      if (d.kind === 'change') {
        out.events.push(d.event);
        byOp.set(d.event.op, (byOp.get(d.event.op) ?? 0) + 1);
      } else if (d.kind === 'ignored') {
        metrics.ignoredOps.inc({ topic: batch.topic, op: d.reason });
      } else {
        metrics.messagesSkipped.inc({ topic: batch.topic, kind: d.kind });
      }
    } catch (err) {
      if (!(err instanceof PoisonMessageError) && !(err instanceof UnknownSchemaError)) throw err;
      const reason = err instanceof PoisonMessageError ? err.reason : 'unknown-schema';
      metrics.decodeErrors.inc({ topic: batch.topic, reason });
      out.letters.push(deadLetterOf(batch, m, reason, err));
    }
  }
  for (const [op, n] of byOp) metrics.eventsIn.inc({ topic: batch.topic, op }, n);
  return out;
}
