/**
 * `ride-cdc quality snapshot`: completeness and freshness per captured table (source vs mart state
 * rows vs Elasticsearch documents), appended to mart.data_quality and printed. Exit 1 when a store
 * misses rows (run it when the pipeline is idle, or use ride-cdc verify for row-level differences).
 */
import type { Command } from 'commander';
import { loadWorkerConfig } from '../../config/worker-config.js';
import { createPool, reportingPgSettings, sourcePgSettings } from '../../db/pg.js';
import { formatQuality, saveQualitySnapshot, takeQualitySnapshot } from '../../quality/snapshot.js';
import { errorMessage } from '../../shared/errors.js';
import { createEsClient } from '../../sink/elasticsearch/client.js';

export function register(program: Command): void {
  const quality = program.command('quality').description('Data quality of the mart and Elasticsearch');
  quality
    .command('snapshot')
    .description(
      'count rows per table in the source, the mart and Elasticsearch; append to mart.data_quality',
    )
    .option('--json', 'print the rows as JSON')
    .action(async (o: { json?: boolean }) => {
      const source = createPool(sourcePgSettings(), { max: 1, applicationName: 'ride-cdc-quality' });
      const reporting = createPool(reportingPgSettings(), { max: 1, applicationName: 'ride-cdc-quality' });
      const cfg = loadWorkerConfig();
      const es = createEsClient(cfg.elasticsearch);
      try {
        const rows = await takeQualitySnapshot({
          source,
          reporting,
          es,
          indexPrefix: cfg.elasticsearch.indexPrefix,
        });
        await saveQualitySnapshot(reporting, rows);
        process.stdout.write(`${o.json ? JSON.stringify(rows, null, 2) : formatQuality(rows)}\n`);
        process.exitCode = rows.every((r) => r.expected === r.actual) ? 0 : 1;
      } catch (err) {
        process.stderr.write(`[quality] failed: ${errorMessage(err)}\n`);
        process.exitCode = 2;
      } finally {
        await es.close().catch(() => undefined);
        await source.end();
        await reporting.end();
      }
    });
}
