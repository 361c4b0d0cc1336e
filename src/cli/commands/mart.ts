/**
 * `ride-cdc mart backfill --metric M [--metric N ...]`: recompute KPIs' whole history from the row
 * states stored in reporting_db, without replaying Kafka (src/batch/backfill/backfill.ts).
 */
import type { Command } from 'commander';
import { backfillMetric } from '../../batch/backfill/backfill.js';
import { createPool, reportingPgSettings } from '../../db/pg.js';
import { CATALOG, METRICS } from '../../project/metrics/catalog.js';
import { ConfigError, errorMessage } from '../../shared/errors.js';

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
}
