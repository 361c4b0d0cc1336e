import type { Kafka } from 'kafkajs';

/**
 * Debezium creates a table's topic only when it first writes to it, so a table that has had no
 * change yet has no topic and the consumer could not subscribe. Creating the missing ones (with
 * the broker's default partitions and replication, exactly what auto-creation would give them)
 * lets the worker start on a quiet database. Existing topics are left untouched.
 */
export async function ensureTopics(kafka: Kafka, topics: readonly string[]): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({ topics: missing.map((topic) => ({ topic })), waitForLeaders: true });
    }
    return missing;
  } finally {
    await admin.disconnect();
  }
}
