/**
 * `ride-cdc mart backfill --metric M [--metric N ...]`: recompute KPIs' whole history from the row
 * states stored in reporting_db, without replaying Kafka (src/batch/backfill/backfill.ts).
 * `ride-cdc mart rebuild --table T`: a truncated (or otherwise diverged) table's mart states, KPIs,
 * stored positions and Elasticsearch documents from its current source rows (src/batch/rebuild/).
 */
import type { Command } from 'commander';
import { backfillMetric } from '../../batch/backfill/backfill.js';
import { createPool, reportingPgSettings } from '../../db/pg.js';
import { CATALOG, METRICS } from '../../project/metrics/catalog.js';
import { ConfigError, errorMessage } from '../../shared/errors.js';
import { loadWorkerConfig } from '../../config/worker-config.js';
import { sourcePgSettings } from '../../db/pg.js';
import { createLogger } from '../../observe/logger.js';
import { createMetrics } from '../../observe/metrics.js';
import { rebuildTables, type RebuildResult } from '../../batch/rebuild/rebuild.js';
import { createEsClient } from '../../sink/elasticsearch/client.js';
import { ElasticsearchSink } from '../../sink/elasticsearch/es-sink.js';
import { createKafka } from '../../source/kafka-client.js';

export function register(program: Command): void {
  const mart = program.command('mart').description('Maintenance of the reporting mart');
  mart
    .command('backfill')
    .description("compute KPIs' history from the stored row states (no Kafka replay); idempotent")
    .option('--metric <name...>', 'KPI names from the catalog (docs/kpis.md)')
    .option(
      '--table <table...>',
      'every KPI reading these source tables (after a replay, docs/schema-changes.md)',
    )
    .action(async (o: { metric?: string[]; table?: string[] }) => {
      const pool = createPool(reportingPgSettings(), { max: 1, applicationName: 'ride-cdc-backfill' });
      try {
        const names = o.metric ?? [];
        const unknown = names.filter((m) => !METRICS.has(m));
        if (unknown.length > 0)
          throw new ConfigError(`unknown metric ${unknown.join(', ')} (see docs/kpis.md for the catalog)`);
        for (const t of o.table ?? []) {
          const reading = CATALOG.filter((m) => m.parts.some((p) => p.source === t)).map((m) => m.name);
          if (reading.length === 0) throw new ConfigError(`no KPI reads table ${JSON.stringify(t)}`);
          names.push(...reading.filter((n) => !names.includes(n)));
        }
        if (names.length === 0) throw new ConfigError('give --metric or --table');
        for (const name of names) {
          const r = await backfillMetric(pool, METRICS.get(name)!);
          process.stdout.write(
            `backfill ${r.metric}: ${r.deleted} old rows replaced by ${r.rows} rows${r.members ? ` and ${r.members} members` : ''} in ${(r.ms / 1000).toFixed(2)} s\n`,
          );
        }
      } catch (err) {
        process.stderr.write(`[mart backfill] failed: ${errorMessage(err)}\n`);
        process.exitCode = err instanceof ConfigError ? 2 : 1;
      } finally {
        await pool.end();
      }
    });

  mart
    .command('rebuild')
    .description(
      "after a source TRUNCATE: a table's mart states, KPIs, stored positions and Elasticsearch documents from its current rows; stop the workers first",
    )
    .requiredOption(
      '--table <table...>',
      'the truncated source tables (the worker names them in /readyz and its log)',
    )
    .action(async (o: { table: string[] }) => {
      const cfg = loadWorkerConfig();
      const source = createPool(sourcePgSettings(), { max: 1, applicationName: 'ride-cdc-rebuild' });
      const reporting = createPool(reportingPgSettings(), { max: 1, applicationName: 'ride-cdc-rebuild' });
      const admin = createKafka(cfg.kafka, createLogger('warn')).admin();
      const es = createEsClient(cfg.elasticsearch);
      try {
        await admin.connect();
        const esSink = new ElasticsearchSink(
          es,
          cfg.elasticsearch.indexPrefix,
          { maxDocs: cfg.elasticsearch.bulkMaxDocs, maxBytes: cfg.elasticsearch.bulkMaxBytes },
          createMetrics(),
        );
        await esSink.start();
        const r = await rebuildTables(
          {
            source,
            reporting,
            admin,
            es,
            esSink,
            groupId: cfg.kafka.groupId,
            topicPrefix: cfg.kafka.topicPrefix,
            indexPrefix: cfg.elasticsearch.indexPrefix,
          },
          o.table,
        );
        process.stdout.write(formatRebuild(r));
        const refused = r.es.reduce((n, v) => n + v.rejected.length, 0);
        if (refused > 0) {
          process.stderr.write(
            `[mart rebuild] ${refused} documents refused by Elasticsearch (the worker dead-letters such rows too): ` +
              `${r.es.flatMap((v) => v.rejected.slice(0, 3).map((x) => x.reason)).join('; ')}\n`,
          );
          process.exitCode = 1;
        }
      } catch (err) {
        process.stderr.write(`[mart rebuild] failed: ${errorMessage(err)}\n`);
        process.exitCode = err instanceof ConfigError ? 2 : 1;
      } finally {
        await admin.disconnect().catch(() => undefined);
        await es.close().catch(() => undefined);
        await source.end();
        await reporting.end();
      }
    });
}

export function formatRebuild(r: RebuildResult): string {
  const lines = [
    ...r.mart.tables.map(
      (t) => `mart ${t.table}: ${t.rows} states from the source rows, ${t.removed} removed`,
    ),
    ...r.mart.backfills.map((b) => `backfill ${b.metric}: ${b.deleted} old rows replaced by ${b.rows} rows`),
    ...r.mart.positions.map((p) => `position ${p.topic}/${p.partition} -> ${p.high}`),
    ...r.es.map((v) => `elasticsearch ${v.view}: ${v.deleted} documents deleted, ${v.written} written`),
    'start the workers: they resume at these positions and apply the newer events on top',
  ];
  return `${lines.join('\n')}\n`;
}
