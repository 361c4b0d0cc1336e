import type { IHeaders, Producer } from 'kafkajs';
import { TransientError } from '../shared/errors.js';
import type { Sink } from '../sink/sink.js';

export interface DeadLetter {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders | undefined;
  reason: string;
  error: string;
}

export const DLQ_HEADER = {
  reason: 'ride-cdc.error.reason',
  message: 'ride-cdc.error.message',
  topic: 'ride-cdc.source.topic',
  partition: 'ride-cdc.source.partition',
  offset: 'ride-cdc.source.offset',
  failedAt: 'ride-cdc.failed-at',
} as const;

/**
 * Produces poison messages with their original key, value and headers plus the error, and waits
 * for the broker's acknowledgement (acks=all) before the batch may commit: a message is never
 * both skipped and missing from the dead-letter topic.
 */
export class DeadLetterProducer implements Sink<readonly DeadLetter[], void> {
  readonly stage = 'dead-letter';

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  async start(): Promise<void> {
    await this.producer.connect();
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }

  async write(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    try {
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: letters.map((l) => ({
          key: l.key,
          value: l.value,
          headers: {
            ...(l.headers ?? {}),
            [DLQ_HEADER.reason]: l.reason,
            [DLQ_HEADER.message]: l.error.slice(0, 4000),
            [DLQ_HEADER.topic]: l.topic,
            [DLQ_HEADER.partition]: String(l.partition),
            [DLQ_HEADER.offset]: l.offset,
            [DLQ_HEADER.failedAt]: new Date().toISOString(),
          },
        })),
      });
    } catch (err) {
      throw new TransientError(`dead-letter produce to ${this.topic} failed: ${(err as Error).message}`, err);
    }
  }
}
