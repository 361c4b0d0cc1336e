import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { EnvReader } from '../config/env.js';
import { othersCanTraverse } from './user.js';

/**
 * Everything the native stack needs to know, read once from the environment. The port variables
 * are the same names the worker, compose/ and the README use, so one env file drives all of them.
 */
export interface StackConfig {
  /** Data, logs, pid files, generated poms and unpacked distributions (git-ignored). */
  dir: string;
  repoRoot: string;
  ports: {
    sourcePg: number;
    reportingPg: number;
    kafka: number;
    kafkaController: number;
    registry: number;
    connect: number;
    es: number;
    /** Optional component (`stack up prometheus`): not started by a plain `up`. */
    prometheus: number;
  };
  prometheus: PrometheusSettings;
  /**
   * Kafka nodes (combined broker + controller each, see components/kafka-cluster.ts). Undefined:
   * whatever this stack's data was formatted for (1 for a new stack); `stack up --brokers N` or
   * STACK_KAFKA_BROKERS sets it. Node n listens on KAFKA_PORT + 2(n−1) and its controller on
   * KAFKA_CONTROLLER_PORT + 2(n−1).
   */
  kafkaBrokers: number | undefined;
  pg: { user: string; password: string; sourceDb: string; reportingDb: string };
  /** Unprivileged account for PostgreSQL and Elasticsearch when we run as root (both refuse root). */
  serviceUser: string;
  javaHome: string;
  heap: { kafka: string; connect: string; registry: string; es: string };
  /** Upper bound for one component to become healthy after start. */
  startTimeoutMs: number;
  stopTimeoutMs: number;
}

/** The native Prometheus (src/stack/components/prometheus.ts). */
export interface PrometheusSettings {
  /** Debian's `prometheus` package installs it here. */
  binary: string;
  /** host:port of every worker's /metrics (job ride-cdc-worker, like compose). */
  workerTargets: string[];
  scrapeIntervalS: number;
  evaluationIntervalS: number;
  /**
   * Test knob: caps every rule's `for:` at this many seconds (expressions stay identical). Unset
   * in normal use: the rules then run verbatim from compose/prometheus/alerts.yml.
   */
  ruleForMaxS: number | undefined;
}

function optionalInt(r: EnvReader, name: string, min: number, max: number): number | undefined {
  return r.optional(name) === undefined ? undefined : r.int(name, 0, min, max);
}

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export function loadStackConfig(env: NodeJS.ProcessEnv = process.env): StackConfig {
  const r = new EnvReader(env);
  const port = (name: string, fallback: number) => r.int(name, fallback, 1, 65535);
  const cfg: StackConfig = {
    dir: resolve(REPO_ROOT, r.str('STACK_DIR', defaultStackDir())),
    repoRoot: REPO_ROOT,
    ports: {
      sourcePg: port('SOURCE_PGPORT', 5432),
      reportingPg: port('REPORTING_PGPORT', 5433),
      kafka: port('KAFKA_PORT', 9092),
      kafkaController: port('KAFKA_CONTROLLER_PORT', 9093),
      registry: port('REGISTRY_PORT', 18081),
      connect: port('CONNECT_PORT', 8083),
      es: port('ES_PORT', 9200),
      prometheus: port('PROMETHEUS_PORT', 9090),
    },
    prometheus: {
      binary: r.str('PROMETHEUS_BIN', '/usr/bin/prometheus'),
      workerTargets: r.list('PROMETHEUS_WORKER_TARGETS', [`127.0.0.1:${port('METRICS_PORT', 9464)}`]),
      scrapeIntervalS: r.int('PROMETHEUS_SCRAPE_INTERVAL_S', 15, 1, 3600),
      evaluationIntervalS: r.int('PROMETHEUS_EVALUATION_INTERVAL_S', 15, 1, 3600),
      ruleForMaxS: optionalInt(r, 'PROMETHEUS_RULE_FOR_MAX_S', 0, 86_400),
    },
    kafkaBrokers:
      r.optional('STACK_KAFKA_BROKERS') === undefined ? undefined : r.int('STACK_KAFKA_BROKERS', 1, 1, 5),
    pg: {
      user: r.str('STACK_PGUSER', 'user'),
      password: r.str('STACK_PGPASSWORD', 'password'),
      sourceDb: r.str('SOURCE_PGDATABASE', 'ride_hailing_db'),
      reportingDb: r.str('REPORTING_PGDATABASE', 'reporting_db'),
    },
    serviceUser: r.str('STACK_SERVICE_USER', 'ridecdc'),
    javaHome: r.str('JAVA_HOME', '/usr/lib/jvm/java-17-openjdk-amd64'),
    heap: {
      kafka: r.str('STACK_KAFKA_HEAP', '512m'),
      connect: r.str('STACK_CONNECT_HEAP', '768m'),
      registry: r.str('STACK_REGISTRY_HEAP', '512m'),
      es: r.str('STACK_ES_HEAP', '1g'),
    },
    startTimeoutMs: r.int('STACK_START_TIMEOUT_MS', 240_000, 1000),
    stopTimeoutMs: r.int('STACK_STOP_TIMEOUT_MS', 30_000, 1000),
  };
  r.done();
  return cfg;
}

/**
 * `.stack/` in the checkout, unless we are root and the checkout is not reachable by the service
 * account (e.g. under /root): then a per-checkout directory under /var/tmp, so PostgreSQL and
 * Elasticsearch can still reach their data.
 */
function defaultStackDir(): string {
  if (process.getuid?.() !== 0 || othersCanTraverse(REPO_ROOT)) return '.stack';
  return `/var/tmp/ride-cdc-stack-${createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 10)}`;
}

export const paths = (cfg: StackConfig) => ({
  logs: resolve(cfg.dir, 'logs'),
  run: resolve(cfg.dir, 'run'),
  data: resolve(cfg.dir, 'data'),
  dist: resolve(cfg.dir, 'dist'),
  maven: resolve(cfg.dir, 'maven'),
  conf: resolve(cfg.dir, 'conf'),
  log: (component: string) => resolve(cfg.dir, 'logs', `${component}.log`),
  pid: (component: string) => resolve(cfg.dir, 'run', `${component}.pid`),
});
