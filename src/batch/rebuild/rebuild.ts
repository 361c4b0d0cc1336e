/**
 * `ride-cdc mart rebuild --table T`: after a source TRUNCATE (or any divergence of one table's
 * views) makes the mart and Elasticsearch equal to the table's CURRENT rows again, without a Kafka
 * replay. The workers must be stopped (it refuses while the consumer group has members):
 *
 *   (a) the end offsets E of the table's topic partitions are read FIRST;
 *   (b) one consistent read of the source rows; in ONE reporting_db transaction the table's states
 *       become those rows, every KPI reading the table is backfilled, and the stored positions of
 *       the table's partitions become E — the truncate and everything before it is behind them;
 *   (c) the Elasticsearch documents the table feeds are deleted and written from the same rows.
 *
 * Why this is exact: every event before E is already reflected in the rows read (Debezium
 * produced it after the source committed it). Events after E are applied again when the workers
 * start, each as a delta against the stored state and an LSN-guarded write; a row changed after
 * the read passes through older states and ends at its newest one (deltas telescope), so the
 * views end equal to the source (docs/schema-changes.md#truncate).
 */
import type { Client } from '@elastic/elasticsearch';
import type { Admin } from 'kafkajs';
import type pg from 'pg';
import { topicFor } from '../../config/worker-config.js';
import type { ElasticsearchSink } from '../../sink/elasticsearch/es-sink.js';
import { ConfigError, errorMessage } from '../../shared/errors.js';
import { CAPTURED_TABLES } from '../../config/captured-tables.js';
import { rebuildEsView, viewsFedBy, type EsRebuildResult } from './rebuild-es.js';
import { rebuildMart, type EndOffset, type MartRebuildResult } from './rebuild-mart.js';
import { readSnapshot } from './snapshot.js';

export interface RebuildDeps {
  source: pg.Pool;
  reporting: pg.Pool;
  admin: Admin;
  es: Client;
  esSink: ElasticsearchSink;
  groupId: string;
  topicPrefix: string;
  indexPrefix: string;
}

export interface RebuildResult {
  mart: MartRebuildResult;
  es: EsRebuildResult[];
}

/** Refused: a worker of the group could commit a batch against the states being replaced. */
export async function assertNoWorker(admin: Admin, groupId: string): Promise<void> {
  const { groups } = await admin.describeGroups([groupId]);
  const g = groups[0];
  if (g && g.members.length > 0)
    throw new ConfigError(
      `consumer group ${groupId} still has ${g.members.length} member(s) (${g.members.map((m) => `${m.clientId}@${m.clientHost}`).join(', ')}, state ${g.state}): ` +
        `stop every worker first (a worker killed without SIGTERM leaves the group after its session timeout)`,
    );
}

export function checkTables(tables: readonly string[]): void {
  const unknown = tables.filter((t) => !(CAPTURED_TABLES as readonly string[]).includes(t));
  if (unknown.length > 0 || tables.length === 0)
    throw new ConfigError(
      `--table ${unknown.join(', ') || '(none)'}: expected captured tables (${CAPTURED_TABLES.join(', ')})`,
    );
}

export async function rebuildTables(deps: RebuildDeps, tables: readonly string[]): Promise<RebuildResult> {
  checkTables(tables);
  await assertNoWorker(deps.admin, deps.groupId);
  const ends: EndOffset[] = [];
  for (const t of tables) {
    const topic = topicFor(deps.topicPrefix, t);
    for (const p of await deps.admin.fetchTopicOffsets(topic))
      ends.push({ topic, partition: p.partition, high: p.high });
  }
  const snapshot = await readSnapshot(deps.source, tables);
  const mart = await rebuildMart(deps.reporting, deps.groupId, snapshot, ends);
  const es: EsRebuildResult[] = [];
  try {
    for (const view of new Set(tables.flatMap(viewsFedBy)))
      es.push(await rebuildEsView(deps.es, deps.esSink, deps.indexPrefix, view, snapshot));
  } catch (err) {
    throw new Error(
      `the mart is rebuilt and its positions moved, but Elasticsearch failed (run the same command again): ${errorMessage(err)}`,
      { cause: err },
    );
  }
  return { mart, es };
}
