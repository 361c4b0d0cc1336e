import type { SqlStatement } from './metric-sql.js';

/**
 * mart.consumer_offsets: the worker's Kafka positions, stored next to the data they produced so
 * one PostgreSQL transaction commits both (what makes the mart exactly-once). The only SQL that
 * touches the table; the worker, the mart transaction and `ride-cdc offsets` all use it.
 */

/** Next offset to consume per partition, for partitions that have one stored. */
export function loadPositionsSql(
  groupId: string,
  topic: string,
  partitions: readonly number[],
): SqlStatement {
  return {
    text: 'SELECT partition, next_offset::text FROM mart.consumer_offsets WHERE group_id = $1 AND topic = $2 AND partition = ANY($3::int[])',
    values: [groupId, topic, partitions],
  };
}

/** Every stored position of a group (for `ride-cdc offsets list`). */
export function listPositionsSql(groupId: string): SqlStatement {
  return {
    text: 'SELECT topic, partition, next_offset::text FROM mart.consumer_offsets WHERE group_id = $1 ORDER BY topic, partition',
    values: [groupId],
  };
}

/**
 * Moves a position. With `expected` (the fenced move of a batch) it only moves from that value —
 * null meaning "nothing stored yet" — and RETURNS no row when another instance got there first;
 * without it (an operator's reset) it sets the position unconditionally.
 */
export function setPositionSql(
  groupId: string,
  topic: string,
  partition: number,
  next: string,
  expected?: string | null,
): SqlStatement {
  const guard = expected === undefined ? '' : '\nWHERE mart.consumer_offsets.next_offset = $5::bigint';
  return {
    text: `INSERT INTO mart.consumer_offsets (group_id, topic, partition, next_offset, updated_at)
VALUES ($1, $2, $3, $4, now())
ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()${guard}
RETURNING next_offset`,
    values:
      expected === undefined
        ? [groupId, topic, partition, next]
        : [groupId, topic, partition, next, expected ?? '-1'],
  };
}
