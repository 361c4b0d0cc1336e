/**
 * `ride-cdc verify [--since T] [--until T]`: reconciles the mart and Elasticsearch with SQL over
 * ride_hailing_db (src/verify/verify.ts). Exit 0 when everything is equal, 1 on any difference,
 * 2 when it could not run.
 */
import type { Command } from 'commander';
import { loadWorkerConfig } from '../../config/worker-config.js';
import { createPool, reportingPgSettings, sourcePgSettings } from '../../db/pg.js';
import { ConfigError, errorMessage } from '../../shared/errors.js';
import { createEsClient } from '../../sink/elasticsearch/client.js';
import type { TimeRange } from '../../verify/mart-truth.js';
import { formatVerify, runVerify } from '../../verify/verify.js';

function instant(name: string, v: string): Date {
  const d = new Date(v);
  if (Number.isNaN(d.getTime()))
    throw new ConfigError(`${name} ${JSON.stringify(v)}: expected an ISO-8601 time`);
  return d;
}

/** No bound: the whole history. One bound: the other is the epoch or now. */
export function parseRange(since?: string, until?: string, now = new Date()): TimeRange | undefined {
  if (since === undefined && until === undefined) return undefined;
  const r = {
    since: since === undefined ? new Date(0) : instant('--since', since),
    until: until === undefined ? now : instant('--until', until),
  };
  if (r.since >= r.until) throw new ConfigError('--since must be before --until');
  return r;
}

export function register(program: Command): void {
  program
    .command('verify')
    .description(
      'compare every KPI row in the range, mart.fact_booking and the Elasticsearch driver and booking views with SQL over ride_hailing_db',
    )
    .option('--since <iso>', 'flow KPI buckets and documents from this time (default: the beginning)')
    .option('--until <iso>', 'up to this time, exclusive (default: now)')
    .option('--max-differences <n>', 'differences printed per view', '10')
    .option('--wait <s>', 're-check differing views for up to this long (pipeline still catching up)', '0')
    .option('--json', 'print the result as JSON')
    .action(
      async (o: { since?: string; until?: string; maxDifferences: string; wait: string; json?: boolean }) => {
        const source = createPool(sourcePgSettings(), { max: 4, applicationName: 'ride-cdc-verify' });
        const reporting = createPool(reportingPgSettings(), { max: 4, applicationName: 'ride-cdc-verify' });
        let es: ReturnType<typeof createEsClient> | undefined;
        try {
          const range = parseRange(o.since, o.until);
          const cfg = loadWorkerConfig();
          es = createEsClient(cfg.elasticsearch);
          const result = await runVerify(
            { source, reporting, es, indexPrefix: cfg.elasticsearch.indexPrefix },
            { range, keep: Number(o.maxDifferences), waitMs: Number(o.wait) * 1000 },
          );
          process.stdout.write(`${o.json ? JSON.stringify(result, null, 2) : formatVerify(result)}\n`);
          process.exitCode = result.differences === 0 ? 0 : 1;
        } catch (err) {
          process.stderr.write(`[verify] failed: ${errorMessage(err)}\n`);
          process.exitCode = 2;
        } finally {
          await es?.close().catch(() => undefined);
          await source.end();
          await reporting.end();
        }
      },
    );
}
