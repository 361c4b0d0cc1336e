import type { Command } from 'commander';
import type pg from 'pg';
import { loadWorkerConfig, topicFor } from '../../config/worker-config.js';
import { createClient } from '../../db/pg.js';
import { listPositionsSql, setPositionSql } from '../../sink/mart/sql/offsets-sql.js';
import { createKafka } from '../../source/kafka-client.js';
import { createLogger } from '../../observe/logger.js';

/**
 * The worker's positions live in reporting_db (mart.consumer_offsets), so Kafka's own tools cannot
 * show or move them. `offsets list` shows position, end and lag per partition; `offsets reset`
 * rewinds a group so history is reprocessed. Rewinding is safe for the mart: every event is
 * applied as a delta against the stored row state, so a replay passes through old states and ends
 * exactly where it was; Elasticsearch writes are idempotent. Stop the workers first.
 */
export function register(program: Command): void {
  const offsets = program
    .command('offsets')
    .description("The worker's stored Kafka positions (in reporting_db)");

  offsets
    .command('list')
    .description('Position, end offset and lag per partition for KAFKA_GROUP_ID')
    .action(async () => {
      await withClients(async ({ db, ends, groupId }) => {
        const list = listPositionsSql(groupId);
        const rows = await db.query<{ topic: string; partition: number; next_offset: string }>(
          list.text,
          list.values,
        );
        const stored = new Map(rows.rows.map((r) => [`${r.topic}:${r.partition}`, r.next_offset]));
        process.stdout.write(`${'TOPIC'.padEnd(40)} PART  POSITION       END       LAG\n`);
        for (const e of ends) {
          const pos = stored.get(`${e.topic}:${e.partition}`);
          const lag = pos === undefined ? Number(e.high) - Number(e.low) : Number(e.high) - Number(pos);
          process.stdout.write(
            `${e.topic.padEnd(40)} ${String(e.partition).padStart(4)} ${(pos ?? '-').padStart(9)} ${e.high.padStart(9)} ${String(lag).padStart(9)}\n`,
          );
        }
      });
    });

  offsets
    .command('reset')
    .description(
      'Rewind (earliest) or skip ahead (latest) the stored positions of KAFKA_GROUP_ID; stop the workers first',
    )
    .requiredOption(
      '--to <where>',
      'earliest: reprocess the retained history; latest: skip everything up to now',
    )
    .option('--table <table...>', 'only these tables (default: all consumed tables)')
    .action(async (opts: { to: string; table?: string[] }) => {
      if (opts.to !== 'earliest' && opts.to !== 'latest')
        throw new Error(`--to ${opts.to}: expected earliest or latest`);
      await withClients(async ({ db, ends, groupId, prefix }) => {
        const topics = opts.table ? new Set(opts.table.map((t) => topicFor(prefix, t))) : null;
        const chosen = ends.filter((e) => !topics || topics.has(e.topic));
        if (chosen.length === 0) throw new Error('no partitions match');
        await db.query('BEGIN');
        for (const e of chosen) {
          const set = setPositionSql(groupId, e.topic, e.partition, opts.to === 'earliest' ? e.low : e.high);
          await db.query(set.text, set.values);
        }
        await db.query('COMMIT');
        if (opts.to === 'latest') {
          process.stderr.write(
            'warning: skipped events never reach the mart; its KPIs no longer equal the source until those rows change again\n',
          );
        }
        process.stdout.write(`group ${groupId}: ${chosen.length} partitions set to ${opts.to}\n`);
      });
    });
}

interface Clients {
  db: pg.Client;
  ends: { topic: string; partition: number; low: string; high: string }[];
  groupId: string;
  prefix: string;
}

async function withClients(fn: (c: Clients) => Promise<void>): Promise<void> {
  const cfg = loadWorkerConfig();
  const db = createClient(cfg.reporting);
  const admin = createKafka(cfg.kafka, createLogger('warn')).admin();
  await db.connect();
  await admin.connect();
  try {
    const ends: Clients['ends'] = [];
    for (const table of cfg.kafka.tables) {
      const topic = topicFor(cfg.kafka.topicPrefix, table);
      for (const p of await admin.fetchTopicOffsets(topic).catch(() => []))
        ends.push({ topic, partition: p.partition, low: p.low, high: p.high });
    }
    await fn({ db, ends, groupId: cfg.kafka.groupId, prefix: cfg.kafka.topicPrefix });
  } finally {
    await admin.disconnect();
    await db.end();
  }
}
