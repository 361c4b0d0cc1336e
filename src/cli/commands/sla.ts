import type { Command } from 'commander';
import { EnvReader } from '../../config/env.js';
import { loadWorkerConfig } from '../../config/worker-config.js';
import { sourcePgSettings } from '../../db/pg.js';
import { fmtMs, slaVerdict } from '../../ops/quantiles.js';
import { runProbes } from '../../ops/sla-probe.js';
import { table } from '../../ops/table.js';
import { createEsClient } from '../../sink/elasticsearch/client.js';

/**
 * `ride-cdc sla`: writes probe changes into the source and times their arrival in Elasticsearch
 * and the mart; prints p50/p95/p99 against SLA_P95_MS / SLA_P99_MS and exits 1 when over (or
 * when a probe never arrived). Needs a running worker.
 */
export function register(program: Command): void {
  program
    .command('sla')
    .description('time probe changes from the source into Elasticsearch and the mart against the SLA')
    .option('--probes <n>', 'probe changes to write', '20')
    .option('--interval-ms <ms>', 'pause between probes', '250')
    .option('--timeout-s <s>', 'a probe not seen after this long counts as lost', '30')
    .option('-v, --verbose', 'print every probe')
    .action(async (opts: { probes: string; intervalMs: string; timeoutS: string; verbose?: boolean }) => {
      const r = new EnvReader({
        ...process.env,
        PROBES: opts.probes,
        INTERVAL: opts.intervalMs,
        TIMEOUT: opts.timeoutS,
      });
      const sla = { p95Ms: r.int('SLA_P95_MS', 3000, 1), p99Ms: r.int('SLA_P99_MS', 5000, 1) };
      const probes = r.int('PROBES', 20, 1, 10_000);
      const intervalMs = r.int('INTERVAL', 250, 0);
      const timeoutMs = r.int('TIMEOUT', 30, 1) * 1000;
      r.done();
      const cfg = loadWorkerConfig();
      const es = createEsClient(cfg.elasticsearch);
      const rp = cfg.reporting;
      console.error(
        `sla: ${probes} probe change(s) into ${sourcePgSettings().database}, SLA p95 ≤ ${fmtMs(sla.p95Ms)}, p99 ≤ ${fmtMs(sla.p99Ms)}`,
      );
      let samples;
      try {
        samples = await runProbes(
          {
            source: sourcePgSettings(),
            reporting: {
              host: rp.host,
              port: rp.port,
              database: rp.database,
              user: rp.user,
              password: rp.password,
            },
            es,
            indexPrefix: cfg.elasticsearch.indexPrefix,
          },
          { probes, intervalMs, timeoutMs, log: opts.verbose ? (l) => console.error(l) : undefined },
        );
      } finally {
        await es.close();
      }
      const verdicts = [
        slaVerdict('elasticsearch', samples.elasticsearch, sla),
        slaVerdict('reporting mart', samples.mart, sla),
        slaVerdict('both sinks', samples.both, sla),
      ];
      console.log(
        table([
          ['TARGET', 'PROBES', 'LOST', 'P50', 'P95', 'P99', 'MAX', 'VERDICT'],
          ...verdicts.map((v) => [
            v.target,
            String(v.n),
            String(v.lost),
            fmtMs(v.p50),
            fmtMs(v.p95),
            fmtMs(v.p99),
            fmtMs(v.max),
            v.ok ? 'OK' : `OVER SLA: ${v.reasons.join('; ')}`,
          ]),
        ]),
      );
      process.exitCode = verdicts.every((v) => v.ok) ? 0 : 1;
    });
}
