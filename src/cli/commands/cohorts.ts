/**
 * `ride-cdc cohorts run [--day D | --since D]`: the daily batch views (cohorts and retention,
 * churn, driver productivity) recomputed from mart.fact_booking for business days
 * (BUSINESS_TIMEZONE, default Asia/Ho_Chi_Minh). Idempotent. Without an option: --since yesterday.
 */
import type { Command } from 'commander';
import { addDays, loadBatchConfig, parseDay } from '../../batch/business-day.js';
import { businessToday, runCohorts, type CohortRange } from '../../batch/cohorts/run.js';
import { createPool, reportingPgSettings } from '../../db/pg.js';
import { ConfigError, errorMessage } from '../../shared/errors.js';

export function register(program: Command): void {
  const cohorts = program
    .command('cohorts')
    .description('Daily batch views by business day (docs/cohorts.md)');
  cohorts
    .command('run')
    .description('recompute cohort_retention, churn_daily and driver_productivity_daily in reporting_db')
    .option('--day <YYYY-MM-DD>', 'the rows dated this business day')
    .option(
      '--since <YYYY-MM-DD>',
      'every row that trips on this day or later can change, up to the last closed day',
    )
    .option('--json', 'print the result as JSON')
    .action(async (o: { day?: string; since?: string; json?: boolean }) => {
      const pool = createPool(reportingPgSettings(), { max: 2, applicationName: 'ride-cdc-cohorts' });
      try {
        if (o.day && o.since) throw new ConfigError('use either --day or --since');
        const cfg = loadBatchConfig();
        const range: CohortRange = o.day
          ? { day: parseDay('--day', o.day) }
          : {
              since: o.since
                ? parseDay('--since', o.since)
                : addDays(await businessToday(pool, cfg.timezone), -1),
            };
        const r = await runCohorts(pool, cfg, range);
        process.stdout.write(
          o.json
            ? `${JSON.stringify(r, null, 2)}\n`
            : `cohorts: business days [${r.dayFrom}, ${r.dayUntil}) in ${cfg.timezone} (cohorts from ${r.cohortFrom}); ` +
                `${Object.entries(r.rows)
                  .map(([k, n]) => `${k} ${n} rows`)
                  .join(', ')}; ${(r.ms / 1000).toFixed(2)} s\n`,
        );
      } catch (err) {
        process.stderr.write(`[cohorts] failed: ${errorMessage(err)}\n`);
        process.exitCode = err instanceof ConfigError ? 2 : 1;
      } finally {
        await pool.end();
      }
    });
}
