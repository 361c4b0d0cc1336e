/**
 * The compose stack cannot be started here (no Docker engine), so this file checks what can be
 * checked statically: the services and their wiring, pinned images, the worker's configuration
 * (fed through the real config loader), Kafka durability settings, healthchecks and dependency
 * order, mounted files, the Prometheus rules (with promtool when installed), the Grafana
 * provisioning, and the one-shot scripts' pure parts.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ndjsonFiles } from '../../compose/scripts/import-kibana.mjs';
import { fillPlaceholders, toConnectorRequest } from '../../compose/scripts/register-connector.mjs';
import { loadWorkerConfig } from '../../src/config/worker-config.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const COMPOSE_DIR = join(ROOT, 'compose');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

// ── helpers ──────────────────────────────────────────────────────────────────────────────────
type Env = Record<string, string>;
interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
}
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  restart?: string;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  volumes?: (string | { type?: string; source?: string; target: string })[];
  ports?: string[];
  healthcheck?: Healthcheck;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** Compose interpolation with nothing set in the shell: ${VAR:-default} → default, $$ → $. */
function interpolate(s: string, vars: Env = {}): string {
  return s
    .replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g,
      (_all, name: string, op: string | undefined, def: string | undefined) => {
        const v = vars[name];
        if (op === ':-') return v !== undefined && v !== '' ? v : (def ?? '');
        if (op === '-') return v !== undefined ? v : (def ?? '');
        return v ?? '';
      },
    )
    .replace(/\$\$/g, '$');
}

function envOf(svc: Service): Env {
  const out: Env = {};
  const e = svc.environment ?? {};
  if (Array.isArray(e)) {
    for (const item of e) {
      const i = item.indexOf('=');
      out[i < 0 ? item : item.slice(0, i)] = i < 0 ? '' : interpolate(item.slice(i + 1));
    }
  } else {
    for (const [k, v] of Object.entries(e)) out[k] = v === null ? '' : interpolate(String(v));
  }
  return out;
}

function dependsOn(svc: Service): Record<string, string> {
  const d = svc.depends_on ?? {};
  if (Array.isArray(d)) return Object.fromEntries(d.map((n) => [n, 'service_started']));
  return Object.fromEntries(Object.entries(d).map(([n, v]) => [n, v.condition]));
}

function hasHealthcheck(svc: Service): boolean {
  return !!svc.healthcheck && svc.healthcheck.disable !== true && svc.healthcheck.test !== undefined;
}

const isOneShot = (svc: Service) => svc.restart === 'no';

/** An image reference pinned to an exact version: a tag with at least major.minor, not latest. */
function isPinned(ref: string): boolean {
  const m =
    /^(?<name>[a-z0-9][a-z0-9._/-]*(?::\d+)?(?:\/[a-z0-9._-]+)*):(?<tag>[A-Za-z0-9_][A-Za-z0-9._-]*)(?:@sha256:[a-f0-9]{64})?$/.exec(
      ref,
    );
  const tag = m?.groups?.tag;
  return !!tag && tag !== 'latest' && /^v?\d+\.\d+/.test(tag);
}

/** FROM references of a Dockerfile with ARG defaults substituted; stage aliases are skipped. */
function dockerfileBaseImages(text: string): string[] {
  const args: Env = {};
  const stages = new Set<string>();
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const arg = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)/.exec(line);
    if (arg?.[1] && arg[2]) args[arg[1]] = arg[2];
    const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from?.[1]) {
      const ref = from[1].replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_a, n: string) => args[n] ?? '');
      if (!stages.has(ref)) out.push(ref);
      if (from[2]) stages.add(from[2]);
    }
  }
  return out;
}

/** Names of every metric src/observe/metrics.ts registers, with the series a histogram adds. */
function exportedMetricNames(): Set<string> {
  const src = read('src/observe/metrics.ts');
  const names = new Set<string>();
  for (const m of src.matchAll(
    /new (Counter|Gauge|Histogram|Summary)\(\{\s*name:\s*'([a-z_:][a-z0-9_:]*)'/g,
  )) {
    const [, kind, name] = m;
    if (!name) continue;
    names.add(name);
    if (kind === 'Histogram' || kind === 'Summary')
      for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  }
  return names;
}

const rideCdcMetricsIn = (expr: string) => [...expr.matchAll(/\bride_cdc_[a-z0-9_]+/g)].map((m) => m[0]);

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function markdownAnchors(md: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of md.split('\n')) {
    const h = /^#{1,6}\s+(.*)$/.exec(line);
    if (h?.[1])
      anchors.add(
        h[1]
          .trim()
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      );
  }
  return anchors;
}

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

const compose = parse(read('compose/docker-compose.yml'), { merge: true }) as ComposeFile;
const services = compose.services;
const svc = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`service ${name} missing`);
  return s;
};

// ── services and images ──────────────────────────────────────────────────────────────────────
describe('compose: services and images', () => {
  const required = [
    'source-db',
    'reporting-db',
    'kafka-1',
    'kafka-2',
    'kafka-3',
    'registry',
    'connect',
    'connector-init',
    'es-certs',
    'es01',
    'es-setup',
    'kibana',
    'kibana-import',
    'prometheus',
    'grafana',
    'migrate',
    'worker',
    'generator',
  ];

  it('defines every service of the stack', () => {
    for (const name of required) expect(services, name).toHaveProperty(name);
  });

  it('pins every image to an exact version (no latest, no bare or major-only tag)', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.image, `${name} has no image`).toBeTypeOf('string');
      const ref = interpolate(s.image ?? '');
      if (s.build) {
        // A locally built image: named and tagged, never "latest"; its bases are checked below.
        expect(ref, name).toMatch(/^[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9_][A-Za-z0-9._-]*$/);
        expect(ref.endsWith(':latest'), name).toBe(false);
      } else {
        expect(isPinned(ref), `${name}: ${ref}`).toBe(true);
      }
    }
  });

  it('pins the base images of every Dockerfile it builds', () => {
    const dockerfiles = new Set<string>();
    for (const s of Object.values(services)) {
      if (!s.build) continue;
      const b = typeof s.build === 'string' ? { context: s.build } : s.build;
      dockerfiles.add(resolve(COMPOSE_DIR, b.context ?? '.', b.dockerfile ?? 'Dockerfile'));
    }
    expect(dockerfiles.size).toBeGreaterThanOrEqual(2);
    for (const file of dockerfiles) {
      expect(existsSync(file), file).toBe(true);
      const bases = dockerfileBaseImages(readFileSync(file, 'utf8'));
      expect(bases.length, file).toBeGreaterThan(0);
      for (const ref of bases) expect(isPinned(ref), `${relative(ROOT, file)}: ${ref}`).toBe(true);
    }
  });

  it('uses the versions the rest of the project is built against', () => {
    const image = (n: string) => interpolate(svc(n).image ?? '');
    expect(image('es01')).toMatch(/:8\.19\.\d+$/);
    expect(image('kibana')).toBe(image('es01').replace('elasticsearch/elasticsearch', 'kibana/kibana'));
    expect(image('es-certs')).toBe(image('es01'));
    expect(image('kafka-1')).toMatch(/^apache\/kafka:4\./);
    expect(image('registry')).toMatch(/^apicurio\/apicurio-registry:3\./);
    expect(image('source-db')).toMatch(/^postgres:1[67]\./);
    // The native stack pins Kafka, Debezium and Apicurio in src/stack/versions.ts: same here.
    const versions = read('src/stack/versions.ts');
    const pinned = (name: string) => new RegExp(`${name} = '([^']+)'`).exec(versions)?.[1];
    expect(image('kafka-1')).toBe(`apache/kafka:${pinned('KAFKA_VERSION')}`);
    expect(image('registry')).toBe(`apicurio/apicurio-registry:${pinned('APICURIO_SERVER_VERSION')}`);
    expect(read('compose/connect/Dockerfile')).toContain(
      `quay.io/debezium/connect:${pinned('DEBEZIUM_VERSION')}`,
    );
    expect(read('compose/connect/Dockerfile')).toContain(
      `apicurio-registry-utils-converter:${pinned('APICURIO_VERSION')}`,
    );
    expect(read('compose/connect/pom.xml')).toContain(
      `<version>${pinned('APICURIO_SERDE_VERSION')}</version>`,
    );
    // The worker's Elasticsearch client major.minor matches the server.
    const client = (JSON.parse(read('package.json')) as { dependencies: Record<string, string> })
      .dependencies['@elastic/elasticsearch'];
    expect(client).toMatch(/8\.19\./);
  });

  it('runs the ride-cdc commands on the image built from the repo Dockerfile', () => {
    const cmd = (n: string) =>
      Array.isArray(svc(n).command) ? (svc(n).command as string[]).join(' ') : String(svc(n).command);
    for (const n of ['worker', 'migrate', 'generator', 'connector-init', 'kibana-import']) {
      expect(svc(n).build, n).toEqual({ context: '..', dockerfile: 'Dockerfile' });
      expect(svc(n).image, n).toBe(svc('worker').image);
    }
    expect(cmd('worker')).toBe('ride-cdc worker');
    expect(cmd('migrate')).toBe('ride-cdc migrate --target all');
    expect(cmd('generator')).toBe('ride-cdc generate --mode stream --volume small');
  });

  it('keeps the source database ready for pgoutput logical decoding', () => {
    const cmd = (svc('source-db').command as string[]).join(' ');
    expect(cmd).toContain('wal_level=logical');
    expect(cmd).toMatch(/max_replication_slots=\d+/);
    expect(cmd).toMatch(/max_wal_senders=\d+/);
    expect(envOf(svc('source-db'))).toMatchObject({
      POSTGRES_DB: 'ride_hailing_db',
      POSTGRES_USER: 'user',
      POSTGRES_PASSWORD: 'password',
    });
    expect(envOf(svc('reporting-db'))).toMatchObject({
      POSTGRES_DB: 'reporting_db',
      POSTGRES_USER: 'user',
      POSTGRES_PASSWORD: 'password',
    });
  });

  it('publishes the documented host ports, bound to localhost by default', () => {
    const published = Object.fromEntries(
      Object.entries(services).flatMap(([n, s]) => (s.ports ?? []).map((p) => [interpolate(p), n] as const)),
    );
    expect(published).toMatchObject({
      '127.0.0.1:18081:8080': 'registry',
      '127.0.0.1:8083:8083': 'connect',
      '127.0.0.1:9200:9200': 'es01',
      '127.0.0.1:5601:5601': 'kibana',
      '127.0.0.1:9464:9464': 'worker',
      '127.0.0.1:9090:9090': 'prometheus',
      '127.0.0.1:3000:3000': 'grafana',
      '127.0.0.1:5432:5432': 'source-db',
      '127.0.0.1:5433:5432': 'reporting-db',
    });
    for (const p of Object.keys(published)) expect(p.startsWith('127.0.0.1:'), p).toBe(true);
  });
});

// ── configuration of the worker and generator ────────────────────────────────────────────────
describe('compose: worker and generator configuration', () => {
  const workerVars = [
    'KAFKA_BROKERS',
    'KAFKA_CLIENT_ID',
    'KAFKA_GROUP_ID',
    'KAFKA_TOPIC_PREFIX',
    'KAFKA_SASL_MECHANISM',
    'KAFKA_SASL_USERNAME',
    'KAFKA_SASL_PASSWORD',
    'KAFKA_SSL',
    'SCHEMA_REGISTRY_URL',
    'SCHEMA_REGISTRY_USERNAME',
    'SCHEMA_REGISTRY_PASSWORD',
    'ES_NODE',
    'ES_USERNAME',
    'ES_PASSWORD',
    'ES_API_KEY',
    'ES_TLS_CA_FILE',
    'REPORTING_PGHOST',
    'REPORTING_PGPORT',
    'REPORTING_PGDB',
    'REPORTING_PGUSER',
    'REPORTING_PGPASSWORD',
    'METRICS_PORT',
    'LOG_LEVEL',
    'DLQ_TOPIC',
  ];
  const generatorVars = [
    'GENERATOR_PGHOST',
    'GENERATOR_PGPORT',
    'GENERATOR_PGDB',
    'GENERATOR_PGUSER',
    'GENERATOR_PGPASSWORD',
  ];

  it('sets every variable the worker reads, with the documented values', () => {
    const env = envOf(svc('worker'));
    for (const v of workerVars) expect(env, v).toHaveProperty(v);
    expect(env).toMatchObject({
      KAFKA_TOPIC_PREFIX: 'ride',
      SCHEMA_REGISTRY_URL: 'http://registry:8080/apis/ccompat/v7',
      ES_NODE: 'https://es01:9200',
      ES_USERNAME: 'elastic',
      REPORTING_PGHOST: 'reporting-db',
      REPORTING_PGDB: 'reporting_db',
      REPORTING_PGUSER: 'user',
      METRICS_PORT: '9464',
      DLQ_TOPIC: 'ride-cdc.dlq',
    });
    // The superuser password and the worker's are the same variable.
    expect(env.ES_PASSWORD).toBe(envOf(svc('es01')).ELASTIC_PASSWORD);
    expect(env.REPORTING_PGPASSWORD).toBe(envOf(svc('reporting-db')).POSTGRES_PASSWORD);
  });

  it('gives migrate the reporting and source connections', () => {
    const env = envOf(svc('migrate'));
    for (const v of [...workerVars, ...generatorVars]) expect(env, v).toHaveProperty(v);
  });

  it('sets every variable the generator reads, pointing at ride_hailing_db', () => {
    const env = envOf(svc('generator'));
    for (const v of generatorVars) expect(env, v).toHaveProperty(v);
    expect(env).toMatchObject({
      GENERATOR_PGHOST: 'source-db',
      GENERATOR_PGPORT: '5432',
      GENERATOR_PGDB: 'ride_hailing_db',
      GENERATOR_PGUSER: 'user',
    });
    expect(env.GENERATOR_PGPASSWORD).toBe(envOf(svc('source-db')).POSTGRES_PASSWORD);
  });

  it('is accepted by the worker configuration loader', () => {
    // ES_TLS_CA_FILE must be readable at load time; the CA lives in a volume, so stand in a file.
    const dir = mkdtempSync(join(tmpdir(), 'ride-cdc-compose-'));
    try {
      const ca = join(dir, 'ca.crt');
      writeFileSync(ca, 'test');
      const env = envOf(svc('worker'));
      const cfg = loadWorkerConfig({ ...env, ES_TLS_CA_FILE: ca });
      expect(cfg.kafka.brokers).toEqual(['kafka-1:9092', 'kafka-2:9092', 'kafka-3:9092']);
      expect(cfg.kafka.sasl).toBeUndefined();
      expect(cfg.kafka.ssl).toBe(false);
      expect(cfg.kafka.topicPrefix).toBe('ride');
      expect(cfg.kafka.dlqTopic).toBe('ride-cdc.dlq');
      expect(cfg.registry.url).toBe('http://registry:8080/apis/ccompat/v7');
      expect(cfg.elasticsearch).toMatchObject({
        node: 'https://es01:9200',
        username: 'elastic',
        apiKey: undefined,
        caFile: ca,
      });
      expect(cfg.reporting).toMatchObject({
        host: 'reporting-db',
        port: 5432,
        database: 'reporting_db',
        user: 'user',
      });
      expect(cfg.metricsPort).toBe(9464);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('points the worker at brokers, registry, Elasticsearch and databases that exist in the stack', () => {
    const env = envOf(svc('worker'));
    for (const b of (env.KAFKA_BROKERS ?? '').split(',')) {
      const [host, port] = b.split(':');
      expect(services, b).toHaveProperty(host ?? '');
      expect(envOf(svc(host ?? '')).KAFKA_LISTENERS).toContain(`INTERNAL://:${port}`);
    }
    expect(services).toHaveProperty(new URL(env.SCHEMA_REGISTRY_URL ?? '').hostname);
    expect(services).toHaveProperty(new URL(env.ES_NODE ?? '').hostname);
    expect(services).toHaveProperty(env.REPORTING_PGHOST ?? '');
    // The CA file is in the es-certs volume, mounted where ES_TLS_CA_FILE says.
    const mount = (svc('worker').volumes ?? []).find(
      (v) => typeof v === 'string' && v.startsWith('es-certs:'),
    );
    expect(mount).toBe('es-certs:/certs:ro');
    expect(env.ES_TLS_CA_FILE).toBe('/certs/ca/ca.crt');
  });

  it('lets the worker drain on SIGTERM before Docker kills it', () => {
    const grace = (svc('worker') as { stop_grace_period?: string }).stop_grace_period ?? '10s';
    expect(Number.parseInt(grace, 10)).toBeGreaterThan(30); // SHUTDOWN_TIMEOUT_MS defaults to 30 s
  });
});

// ── Kafka ────────────────────────────────────────────────────────────────────────────────────
describe('compose: Kafka cluster', () => {
  const brokers = ['kafka-1', 'kafka-2', 'kafka-3'];

  it('runs 3 KRaft nodes with one quorum and cluster id', () => {
    const envs = brokers.map((b) => envOf(svc(b)));
    expect(new Set(envs.map((e) => e.KAFKA_NODE_ID)).size).toBe(3);
    expect(new Set(envs.map((e) => e.CLUSTER_ID)).size).toBe(1);
    for (const [i, e] of envs.entries()) {
      expect(e.KAFKA_PROCESS_ROLES?.split(',').sort()).toEqual(['broker', 'controller']);
      expect(e.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe('1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093');
      expect(e.KAFKA_ADVERTISED_LISTENERS).toContain(`INTERNAL://${brokers[i]}:9092`);
      expect(e.KAFKA_LISTENERS).toContain('CONTROLLER://:9093');
    }
  });

  it('replicates every topic 3 times with min.insync.replicas 2 and 3 partitions by default', () => {
    for (const b of brokers) {
      expect(envOf(svc(b)), b).toMatchObject({
        KAFKA_DEFAULT_REPLICATION_FACTOR: '3',
        KAFKA_MIN_INSYNC_REPLICAS: '2',
        KAFKA_NUM_PARTITIONS: '3',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '3',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '3',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '2',
      });
    }
    expect(envOf(svc('connect'))).toMatchObject({
      CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR: '3',
      CONNECT_OFFSET_STORAGE_REPLICATION_FACTOR: '3',
      CONNECT_STATUS_STORAGE_REPLICATION_FACTOR: '3',
    });
  });

  it('keeps each broker on its own volume', () => {
    const vols = brokers.map((b) =>
      (svc(b).volumes ?? []).find((v) => typeof v === 'string' && v.endsWith(':/var/lib/kafka/data')),
    );
    expect(new Set(vols).size).toBe(3);
  });
});

// ── health and start order ───────────────────────────────────────────────────────────────────
describe('compose: healthchecks and dependencies', () => {
  it('has a healthcheck on every long-running service except the generator', () => {
    for (const [name, s] of Object.entries(services)) {
      if (isOneShot(s) || name === 'generator') continue;
      expect(hasHealthcheck(s), name).toBe(true);
    }
  });

  it('only waits for health on services that have a healthcheck, and for completion on one-shots', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, condition] of Object.entries(dependsOn(s))) {
        expect(services, `${name} → ${dep}`).toHaveProperty(dep);
        if (condition === 'service_healthy') expect(hasHealthcheck(svc(dep)), `${name} → ${dep}`).toBe(true);
        if (condition === 'service_completed_successfully')
          expect(isOneShot(svc(dep)), `${name} → ${dep}`).toBe(true);
      }
    }
  });

  it('has no dependency cycle', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (n: string, path: string[]): void => {
      if (state.get(n) === 'done') return;
      if (state.get(n) === 'visiting') throw new Error(`cycle: ${[...path, n].join(' → ')}`);
      state.set(n, 'visiting');
      for (const d of Object.keys(dependsOn(svc(n)))) visit(d, [...path, n]);
      state.set(n, 'done');
    };
    for (const n of Object.keys(services)) expect(() => visit(n, [])).not.toThrow();
  });

  it('starts the worker only once its dependencies are healthy and set up', () => {
    expect(dependsOn(svc('worker'))).toMatchObject({
      'kafka-1': 'service_healthy',
      'kafka-2': 'service_healthy',
      'kafka-3': 'service_healthy',
      registry: 'service_healthy',
      es01: 'service_healthy',
      'reporting-db': 'service_healthy',
      migrate: 'service_completed_successfully',
      'connector-init': 'service_completed_successfully',
    });
    expect(dependsOn(svc('connector-init'))).toMatchObject({ connect: 'service_healthy' });
    expect(dependsOn(svc('kibana-import'))).toMatchObject({ kibana: 'service_healthy' });
    expect(dependsOn(svc('kibana'))).toMatchObject({ 'es-setup': 'service_completed_successfully' });
    // Prometheus must run exactly when the worker does not.
    expect(dependsOn(svc('prometheus'))).not.toHaveProperty('worker');
  });

  it('probes the worker on /healthz, in compose and in the image', () => {
    const test = svc('worker').healthcheck?.test;
    expect(Array.isArray(test) ? test.join(' ') : test).toContain('/healthz');
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
  });
});

// ── mounted files ────────────────────────────────────────────────────────────────────────────
describe('compose: mounted files and build contexts', () => {
  const binds = Object.entries(services).flatMap(([name, s]) =>
    (s.volumes ?? []).flatMap((v) => {
      const source = typeof v === 'string' ? v.split(':')[0] : v.source;
      return source && (source.startsWith('.') || source.startsWith('/'))
        ? [{ name, source, abs: resolve(COMPOSE_DIR, source) }]
        : [];
    }),
  );

  it('mounts only paths inside the repository', () => {
    expect(binds.length).toBeGreaterThan(0);
    for (const b of binds)
      expect(relative(ROOT, b.abs).startsWith('..'), `${b.name}: ${b.source}`).toBe(false);
  });

  it('mounts files that exist (those this stack owns, and the source schema)', () => {
    const owned = [
      'compose/prometheus',
      'compose/grafana/provisioning',
      'compose/grafana/dashboards',
      'compose/elastic/setup.sh',
      'compose/scripts',
      'mart-sql/source',
    ];
    for (const p of owned) {
      expect(
        binds.some((b) => relative(ROOT, b.abs) === p),
        `${p} is mounted`,
      ).toBe(true);
      expect(existsSync(join(ROOT, p)), p).toBe(true);
    }
    // Written by other parts of the project; Docker creates an empty directory if one is missing,
    // and the one-shot jobs then say so (register-connector fails, kibana-import skips).
    const others = binds.map((b) => relative(ROOT, b.abs)).filter((p) => !owned.includes(p));
    expect(others.sort()).toEqual(['connectors', 'kibana']);
  });

  it('mounts the files Prometheus and Grafana are configured to read', () => {
    expect(existsSync(join(COMPOSE_DIR, 'prometheus/prometheus.yml'))).toBe(true);
    expect(existsSync(join(COMPOSE_DIR, 'prometheus/alerts.yml'))).toBe(true);
    expect(existsSync(join(COMPOSE_DIR, 'grafana/provisioning/datasources/prometheus.yml'))).toBe(true);
    expect(existsSync(join(COMPOSE_DIR, 'grafana/provisioning/dashboards/ride-cdc.yml'))).toBe(true);
    expect(existsSync(join(COMPOSE_DIR, 'grafana/dashboards/ride-cdc-worker.json'))).toBe(true);
    expect(statSync(join(ROOT, 'mart-sql/source')).isDirectory()).toBe(true);
  });

  it('declares every named volume it uses', () => {
    const declared = Object.keys(compose.volumes ?? {});
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const source = typeof v === 'string' ? v.split(':')[0] : v.source;
        if (source && !source.startsWith('.') && !source.startsWith('/'))
          expect(declared, `${name}: ${source}`).toContain(source);
      }
    }
  });

  it('documents every variable it interpolates in .env.example', () => {
    const withoutComments = read('compose/docker-compose.yml').replace(/^\s*#.*$/gm, '');
    const used = new Set([...withoutComments.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]));
    const documented = new Set(
      [...read('compose/.env.example').matchAll(/^([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]),
    );
    expect([...used].filter((v) => !documented.has(v))).toEqual([]);
    expect([...documented].filter((v) => !used.has(v))).toEqual([]);
  });
});

// ── the ride-cdc image ───────────────────────────────────────────────────────────────────────
describe('Dockerfile', () => {
  const text = read('Dockerfile');
  it('builds from a pinned node 20 bookworm-slim image, as a non-root user', () => {
    expect(text).toMatch(/ARG NODE_IMAGE=node:20\.\d+\.\d+-bookworm-slim/);
    const users = [...text.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe('node');
    expect(text).toMatch(/npm ci --omit=dev/);
    expect(text).toMatch(/CMD \["ride-cdc", "worker"\]/);
  });
  it('copies what the code reads at run time and keeps secrets and host modules out of the context', () => {
    for (const dir of ['src', 'bin', 'mappings', 'mart-sql']) expect(text).toContain(`COPY ${dir} ./${dir}`);
    const ignore = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const p of ['node_modules', '.git', '**/.env']) expect(ignore).toContain(p);
  });
});

// ── Prometheus ───────────────────────────────────────────────────────────────────────────────
interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const alertsText = read('compose/prometheus/alerts.yml');
const rules = (parse(alertsText) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);

describe('Prometheus', () => {
  it('scrapes the worker on port 9464 and loads alerts.yml', () => {
    const cfg = parse(read('compose/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: {
        job_name: string;
        static_configs?: { targets: string[] }[];
        dns_sd_configs?: { names: string[]; port: number }[];
      }[];
    };
    expect(cfg.rule_files.map((f) => f.split('/').at(-1))).toContain('alerts.yml');
    const job = cfg.scrape_configs.find((j) => j.job_name === 'ride-cdc-worker');
    const targets = [
      ...(job?.static_configs ?? []).flatMap((s) => s.targets),
      ...(job?.dns_sd_configs ?? []).flatMap((d) => d.names.map((n) => `${n}:${d.port}`)),
    ];
    expect(targets).toContain('worker:9464');
  });

  it('has on every alert an expression, a for, a severity and the on-call annotations', () => {
    expect(rules.length).toBeGreaterThanOrEqual(10);
    for (const r of rules) {
      expect(r.alert, JSON.stringify(r)).toBeTypeOf('string');
      expect(r.expr.trim().length, r.alert).toBeGreaterThan(0);
      expect(r.for, r.alert).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning'], r.alert).toContain(r.labels?.severity);
      for (const a of ['summary', 'description', 'runbook', 'runbook_url'])
        expect(r.annotations?.[a], `${r.alert}.${a}`).toBeTruthy();
    }
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
  });

  it('covers the on-call contract with the worker metric names', () => {
    const exprOf = (name: string) => rules.find((r) => r.alert === name)?.expr ?? '';
    expect(exprOf('RideCdcWorkerDown')).toMatch(/up\{job="ride-cdc-worker"\} == 0/);
    expect(exprOf('RideCdcConsumerLagHigh')).toContain('ride_cdc_consumer_lag');
    expect(exprOf('RideCdcE2eLatencyP95High')).toMatch(
      /histogram_quantile\(0\.95,.*ride_cdc_e2e_latency_seconds_bucket/,
    );
    expect(exprOf('RideCdcDeadLettersRising')).toContain('ride_cdc_dead_letter_total');
    expect(exprOf('RideCdcSinkFailures')).toContain('ride_cdc_sink_failures_total');
    expect(exprOf('RideCdcNotReady')).toMatch(/ride_cdc_ready == 0/);
    expect(exprOf('RideCdcPartitionsPausedLong')).toContain('ride_cdc_paused_partitions');
    expect(exprOf('RideCdcMatchRateFalling')).toContain('ride_cdc_kpi{metric="match_rate"}');
    expect(exprOf('RideCdcCancellationRateRising')).toContain('ride_cdc_kpi{metric="cancellation_rate"}');
  });

  it('only uses metrics the worker exports', () => {
    const exported = exportedMetricNames();
    expect(exported.size).toBeGreaterThan(10);
    for (const r of rules)
      for (const m of rideCdcMetricsIn(r.expr)) expect(exported, `${r.alert}: ${m}`).toContain(m);
  });

  it('links every alert to a runbook section of docs/operations.md', () => {
    const anchors = markdownAnchors(read('docs/operations.md'));
    for (const r of rules) {
      const [file, anchor] = (r.annotations?.runbook_url ?? '').split('#');
      expect(file, r.alert).toBe('docs/operations.md');
      expect(anchors, `${r.alert} → #${anchor}`).toContain(anchor);
    }
  });

  it('passes promtool check rules/config and the alert unit tests', () => {
    // Never skipped: .ci/run installs promtool (.ci/programs.tsv: Debian package `prometheus`).
    expect(which('promtool'), 'promtool not found: apt-get install prometheus').toBeTruthy();
    const run = (args: string[], cwd: string) => {
      const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
      expect(r.status, `promtool ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
    };
    const dir = join(COMPOSE_DIR, 'prometheus');
    run(['check', 'rules', 'alerts.yml'], dir);
    run(['check', 'config', 'prometheus.yml'], dir);
    // promtool compares annotations verbatim; the unit tests pin expressions, for and labels.
    const tmp = mkdtempSync(join(tmpdir(), 'ride-cdc-promtool-'));
    try {
      const doc = parse(alertsText) as { groups: { rules: Rule[] }[] };
      for (const g of doc.groups) for (const r of g.rules) delete r.annotations;
      writeFileSync(join(tmp, 'alerts.yml'), stringify(doc));
      cpSync(join(dir, 'alerts.test.yml'), join(tmp, 'alerts.test.yml'));
      run(['test', 'rules', 'alerts.test.yml'], tmp);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

// ── Grafana ──────────────────────────────────────────────────────────────────────────────────
describe('Grafana', () => {
  interface Panel {
    type: string;
    title: string;
    datasource?: { uid: string };
    targets?: { expr: string }[];
  }
  const dashboard = JSON.parse(read('compose/grafana/dashboards/ride-cdc-worker.json')) as {
    uid: string;
    panels: Panel[];
  };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it('provisions the Prometheus datasource the dashboard refers to', () => {
    const ds = parse(read('compose/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: { uid: string; url: string; type: string }[];
    };
    expect(ds.datasources[0]).toMatchObject({
      uid: 'prometheus',
      type: 'prometheus',
      url: 'http://prometheus:9090',
    });
    for (const p of dashboard.panels.filter((x) => x.type !== 'row'))
      expect(p.datasource?.uid, p.title).toBe('prometheus');
    const provider = parse(read('compose/grafana/provisioning/dashboards/ride-cdc.yml')) as {
      providers: { options: { path: string } }[];
    };
    const mount = (svc('grafana').volumes ?? []).find(
      (v) => typeof v === 'string' && v.startsWith('./grafana/dashboards:'),
    );
    expect(String(mount).split(':')[1]).toBe(provider.providers[0]?.options.path);
  });

  it('shows throughput, lag, e2e p50/p95/p99, errors, DLQ, paused partitions, sink latency and KPIs', () => {
    const all = exprs.join('\n');
    for (const needle of [
      'ride_cdc_events_in_total',
      'ride_cdc_consumer_lag',
      'histogram_quantile(0.50, sum by (le) (rate(ride_cdc_e2e_latency_seconds_bucket',
      'histogram_quantile(0.95, sum by (le) (rate(ride_cdc_e2e_latency_seconds_bucket',
      'histogram_quantile(0.99, sum by (le) (rate(ride_cdc_e2e_latency_seconds_bucket',
      'ride_cdc_sink_failures_total',
      'ride_cdc_decode_errors_total',
      'ride_cdc_dead_letter_total',
      'ride_cdc_paused_partitions',
      'ride_cdc_sink_request_seconds_bucket{sink="elasticsearch"}',
      'ride_cdc_sink_request_seconds_bucket{sink="reporting_db"}',
      'ride_cdc_kpi{metric="match_rate"',
      'ride_cdc_kpi{metric="cancellation_rate"',
    ]) {
      expect(all, needle).toContain(needle);
    }
    expect(dashboard.panels.filter((p) => p.type === 'gauge').length).toBeGreaterThanOrEqual(2);
  });

  it('only queries metrics the worker exports', () => {
    const exported = exportedMetricNames();
    for (const e of exprs) for (const m of rideCdcMetricsIn(e)) expect(exported, m).toContain(m);
  });
});

// ── one-shot scripts ─────────────────────────────────────────────────────────────────────────
describe('register-connector', () => {
  it('fills ${NAME} and ${NAME:-default} in string values and reports what is missing', () => {
    const cfg = {
      a: '${SOURCE_PGHOST}:${SOURCE_PGPORT:-5432}',
      n: 3,
      list: ['${X}'],
      nested: { b: 'jdbc://${MISSING}' },
    };
    const { value, missing } = fillPlaceholders(cfg, { SOURCE_PGHOST: 'source-db', X: 'x' });
    expect(value).toEqual({ a: 'source-db:5432', n: 3, list: ['x'], nested: { b: 'jdbc://${MISSING}' } });
    expect(missing).toEqual(['MISSING']);
  });

  it('fills ${env:NAME} when it can and otherwise leaves it to Connect; other providers untouched', () => {
    const { value, missing } = fillPlaceholders(
      { p: '${env:SOURCE_PGPASSWORD}', q: '${env:NOT_HERE}', f: '${file:/s.properties:pw}' },
      { SOURCE_PGPASSWORD: 'pw' },
    );
    expect(value).toEqual({ p: 'pw', q: '${env:NOT_HERE}', f: '${file:/s.properties:pw}' });
    expect(missing).toEqual([]);
  });

  it('does not re-interpret values that contain JSON-special characters', () => {
    const { value } = fillPlaceholders({ 'database.password': '${PW}' }, { PW: 'a"b\\c' });
    expect(value['database.password']).toBe('a"b\\c');
  });

  it('accepts the POST /connectors shape and a flat config', () => {
    expect(toConnectorRequest({ name: 'ride', config: { 'connector.class': 'X' } }, 'f.json')).toEqual({
      name: 'ride',
      config: { 'connector.class': 'X', name: 'ride' },
    });
    expect(toConnectorRequest({ 'connector.class': 'X' }, '/c/ride-hailing-postgres.json')).toEqual({
      name: 'ride-hailing-postgres',
      config: { 'connector.class': 'X', name: 'ride-hailing-postgres' },
    });
    expect(() => toConnectorRequest([], 'f.json')).toThrow(/JSON object/);
  });

  it('gives connector-init a value for the placeholders the connector file uses', () => {
    const file = join(ROOT, 'connectors/ride-hailing-postgres.json');
    if (!existsSync(file)) return; // written by the connector's owner; checked once it exists
    const env = envOf(svc('connector-init'));
    const { missing } = fillPlaceholders(JSON.parse(readFileSync(file, 'utf8')) as unknown, env);
    expect(missing).toEqual([]);
    expect(env.CONNECTOR_FILE).toBe('/connectors/ride-hailing-postgres.json');
  });
});

describe('import-kibana', () => {
  it('imports *.ndjson in name order and nothing when the directory is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ride-cdc-kibana-'));
    try {
      for (const f of ['20-dashboards.ndjson', '10-data-views.ndjson', 'README.md'])
        writeFileSync(join(dir, f), '');
      expect(ndjsonFiles(dir)).toEqual(['10-data-views.ndjson', '20-dashboards.ndjson']);
      expect(ndjsonFiles(join(dir, 'missing'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
