import type { Consumer } from 'kafkajs';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { errorMessage } from '../shared/errors.js';

/**
 * After a batch's PostgreSQL commit, the same position is committed to the consumer group in
 * Kafka, so `kafka-consumer-groups --describe` and lag exporters see the worker's lag. Best effort:
 * reporting_db (mart.consumer_offsets) stays the truth the worker seeks to on every join; a failed
 * Kafka commit (rebalance under way, broker away) only leaves the tooling a batch behind.
 */
export async function commitToKafka(
  consumer: Pick<Consumer, 'commitOffsets'>,
  topic: string,
  partition: number,
  next: string,
  deps: { metrics: Metrics; logger: Logger },
): Promise<void> {
  try {
    await consumer.commitOffsets([{ topic, partition, offset: next }]);
  } catch (err) {
    deps.metrics.kafkaCommitFailures.inc();
    deps.logger.debug(
      { topic, partition, err: errorMessage(err) },
      'Kafka offset commit failed (lag tooling only)',
    );
  }
}
