import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

/** [from, to) offsets of one partition. */
export interface OffsetRange {
  from: bigint;
  to: bigint;
}

/**
 * Reads exactly the given offset ranges of a topic and returns (for tools: `dlq list|replay`).
 * A throw-away consumer group that commits nothing, so no worker position moves. Bounded: fails
 * after `timeoutMs` rather than waiting forever for offsets that were deleted by retention.
 */
export async function readRanges(
  kafka: Kafka,
  topic: string,
  ranges: ReadonlyMap<number, OffsetRange>,
  onMessage: (partition: number, message: KafkaMessage) => void,
  timeoutMs = 120_000,
): Promise<void> {
  const unread = new Map([...ranges].filter(([, r]) => r.from < r.to));
  const started = new Set<number>();
  if (unread.size === 0) return;
  const consumer = kafka.consumer({ groupId: `ride-cdc-tool-${randomUUID()}`, maxWaitTimeInMs: 500 });
  let finish: (err?: Error) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    finish = (err) => (err ? reject(err) : resolve());
  });
  const timer = setTimeout(
    () =>
      finish(
        new Error(`reading ${topic} did not reach the end of ${[...unread.keys()]} within ${timeoutMs} ms`),
      ),
    timeoutMs,
  );
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const r = unread.get(partition);
        if (!r) return;
        const o = BigInt(message.offset);
        const inRange = o >= r.from && o < r.to;
        if (inRange) {
          started.add(partition);
          onMessage(partition, message);
        }
        // Messages fetched from the end before the seek applies must not end the range early.
        if (started.has(partition) && o >= r.to - 1n) {
          unread.delete(partition);
          if (unread.size === 0) finish();
        }
      },
    });
    for (const [partition, r] of unread) consumer.seek({ topic, partition, offset: r.from.toString() });
    await finished;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}

/** Low and high watermarks per partition; empty when the topic does not exist. */
export async function watermarks(kafka: Kafka, topic: string): Promise<Map<number, OffsetRange>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return new Map();
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, { from: BigInt(o.low), to: BigInt(o.high) }]));
  } finally {
    await admin.disconnect();
  }
}
