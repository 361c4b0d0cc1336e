import type { Pool, PoolClient } from 'pg';

/**
 * Consumer positions live in reporting_db next to the data they produced, so one PostgreSQL
 * transaction commits both: that is what makes the mart exactly-once. Kafka's own committed
 * offsets are only a mirror for tooling (lag dashboards, kafka-consumer-groups).
 */
export class OffsetStore {
  constructor(
    private readonly pool: Pool,
    private readonly groupId: string,
  ) {}

  /** Next offset to consume per partition, for partitions that have one stored. */
  async load(topic: string, partitions: readonly number[]): Promise<Map<number, string>> {
    const res = await this.pool.query<{ partition: number; next_offset: string }>(
      'SELECT partition, next_offset::text FROM mart.consumer_offsets WHERE group_id = $1 AND topic = $2 AND partition = ANY($3::int[])',
      [this.groupId, topic, partitions],
    );
    return new Map(res.rows.map((r) => [r.partition, r.next_offset]));
  }

  /**
   * Moves the stored position from `expected` to `next` inside the caller's transaction. Returns
   * false when the stored position is not `expected`: another instance (after a rebalance) got
   * there first, and this transaction must roll back so nothing is counted twice.
   */
  async advance(
    client: PoolClient,
    topic: string,
    partition: number,
    expected: string | null,
    next: string,
  ): Promise<boolean> {
    const res = await client.query(
      `INSERT INTO mart.consumer_offsets (group_id, topic, partition, next_offset, updated_at)
       VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()
       WHERE mart.consumer_offsets.next_offset = $5::bigint
       RETURNING next_offset`,
      [this.groupId, topic, partition, next, expected ?? '-1'],
    );
    return (res.rowCount ?? 0) === 1;
  }
}
