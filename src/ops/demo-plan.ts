import { EnvReader } from '../config/env.js';
import { VOLUMES } from '../generator/volumes.js';

/**
 * What `ride-cdc demo` runs, from the same variables the original system's scripts read:
 * RUN_GENERATOR (default true), GENERATOR_SECONDS (0 = until Ctrl-C), GENERATOR_VOLUME and
 * GENERATOR_EXTRA_ARGS (extra `generate` options such as --stream-max-inflight, appended last so
 * they win). Command-line options, when given, override the variables.
 */
export interface DemoPlan {
  runGenerator: boolean;
  volume: string;
  seconds: number;
  seed: number;
  /** `ride-cdc generate ...` arguments of the streaming generator. */
  streamArgs: string[];
}

export function demoPlan(
  env: NodeJS.ProcessEnv,
  opts: { volume?: string; seconds?: string; seed?: string; generator?: boolean },
): DemoPlan {
  const r = new EnvReader({
    ...env,
    ...(opts.volume !== undefined ? { GENERATOR_VOLUME: opts.volume } : {}),
    ...(opts.seconds !== undefined ? { GENERATOR_SECONDS: opts.seconds } : {}),
    ...(opts.generator === false ? { RUN_GENERATOR: 'false' } : {}),
    DEMO_SEED: opts.seed ?? env.DEMO_SEED,
  });
  const runGenerator = r.bool('RUN_GENERATOR', true);
  const volume = r.oneOf('GENERATOR_VOLUME', VOLUMES, 'small');
  const seconds = r.int('GENERATOR_SECONDS', 0, 0);
  const seed = r.int('DEMO_SEED', 42, 0);
  const extra = (env.GENERATOR_EXTRA_ARGS ?? '').trim();
  r.done();
  return {
    runGenerator,
    volume,
    seconds,
    seed,
    streamArgs: [
      'generate',
      '--mode',
      'stream',
      '--volume',
      volume,
      '--seconds',
      String(seconds),
      '--seed',
      String(seed + 1),
      ...(extra ? extra.split(/\s+/) : []),
    ],
  };
}

/** Three questions the mart answers; printed by the demo, quoted in the README, run by a test. */
export const EXAMPLE_SQL = [
  {
    what: 'headline KPIs over the last 60 minutes',
    sql: "SELECT metric_name, metric_value FROM mart.latest_metric_snapshot WHERE dimension = 'all' ORDER BY metric_name",
  },
  {
    what: 'bookings requested per minute, last 15 minutes',
    sql: "SELECT bucket_start, metric_value FROM mart.fact_metric_bucket WHERE bucket_granularity = 'MINUTE' AND metric_name = 'bookings_requested' AND dimension = 'all' ORDER BY bucket_start DESC LIMIT 15",
  },
  {
    what: 'busiest pickup zones today (UTC)',
    sql: "SELECT zone_name, bookings_requested, bookings_completed, match_rate FROM mart.zone_performance WHERE day = (now() AT TIME ZONE 'UTC')::date ORDER BY bookings_requested DESC LIMIT 10",
  },
] as const;

export interface Endpoints {
  workerPort: number;
  prometheus: string | undefined;
  superset: { url: string; username: string; password: string };
  elasticsearch: string;
  reporting: { host: string; port: number; database: string; user: string; password: string };
  logs: { worker: string; generator: string | undefined };
}

/** The "where to look" banner printed once the worker is ready. */
export function whereToLook(e: Endpoints): string {
  const pgUrl = `postgresql://${e.reporting.user}:${e.reporting.password}@${e.reporting.host}:${e.reporting.port}/${e.reporting.database}`;
  return [
    'Where to look:',
    `  status page   http://localhost:${e.workerPort}/   (metrics /metrics, readiness /readyz)`,
    `  Superset      ${e.superset.url}   login ${e.superset.username} / ${e.superset.password}   (start it: ride-cdc superset up)`,
    e.prometheus
      ? `  Prometheus    ${e.prometheus}/alerts   (rules: compose/prometheus/alerts.yml)`
      : '  Prometheus    not running (apt-get install prometheus; ride-cdc stack up prometheus)',
    `  Elasticsearch ${e.elasticsearch}/driver_locations/_search?size=3`,
    `  reporting_db  psql ${pgUrl}`,
    `  logs          worker ${e.logs.worker}${e.logs.generator ? `, generator ${e.logs.generator}` : ''}`,
    '',
    'Example SQL over the mart (reporting_db):',
    ...EXAMPLE_SQL.flatMap((q) => [`  -- ${q.what}`, `  ${q.sql};`]),
    '',
    'Health: ride-cdc health   Latency SLA: ride-cdc sla   Ctrl-C stops the generator and drains the worker.',
  ].join('\n');
}
