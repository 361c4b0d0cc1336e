/**
 * compose/docker-compose.secure.yml, the compose counterpart of `stack up --secure`, cannot be
 * started here (no Docker engine). What can be checked is checked against the native secured
 * stack's own definitions: the overlay is merged into the base file as compose merges it, its
 * variables are interpolated as compose does (a required one missing fails), the broker start
 * script and Connect's entrypoint are really run (in their dry-run mode) with the environment
 * compose would give them, and what they write is compared with what the native stack writes.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { aclJobSettings } from '../../compose/scripts/kafka-acls.mjs';
import { pgRolesPlan } from '../../compose/scripts/pg-roles.mjs';
import { connectAuthHeaders, securedConnectorConfig } from '../../compose/scripts/register-connector.mjs';
import { loadWorkerConfig } from '../../src/config/worker-config.js';
import {
  REST_EXTENSION,
  connectRestJaas,
  connectRestUsers,
  connectSecuritySettings,
  connectorSecrets,
  workerConnectEnv,
} from '../../src/stack/components/connect-security.js';
import {
  CONNECT_GROUP,
  kafkaUsers,
  connectKafkaSettings,
  secureKafkaSettings,
  workerKafkaEnv,
} from '../../src/stack/components/kafka-security.js';
import { loginRoles, workerReportingEnv } from '../../src/stack/components/postgres-security.js';
import {
  ES_WORKER_ROLE,
  esWorkerRole,
  workerEsEnv,
} from '../../src/stack/components/elasticsearch-security.js';
import { registryComponent } from '../../src/stack/components/registry.js';
import {
  propertiesText,
  registrySecurityProperties,
  workerRegistryEnv,
} from '../../src/stack/components/registry-security.js';
import { loadStackConfig } from '../../src/stack/config.js';
import { connectorSecretRefs } from '../../src/stack/connector-secrets.js';
import {
  DEBEZIUM_PG_ROLE,
  KAFKA_CONNECT_USER,
  KAFKA_SUPER_USER,
  KAFKA_WORKER_USER,
  SECRET_VARIABLES,
} from '../../src/stack/security.js';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

type Env = Record<string, string>;
interface Service {
  image?: string;
  user?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | number | boolean | null>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

// ── compose semantics ────────────────────────────────────────────────────────────────────────

/**
 * `docker compose -f base -f overlay`: mappings (environment, depends_on) merged key by key,
 * volumes merged by mount target, everything else (command, entrypoint, healthcheck) replaced.
 */
function mergeCompose(base: ComposeFile, overlay: ComposeFile): ComposeFile {
  const target = (v: string) => v.split(':')[1];
  const services: Record<string, Service> = { ...base.services };
  for (const [name, o] of Object.entries(overlay.services)) {
    const b = services[name] ?? {};
    const volumes = [...(b.volumes ?? [])].filter(
      (v) => !(o.volumes ?? []).some((x) => target(x) === target(v)),
    );
    services[name] = {
      ...b,
      ...o,
      environment: { ...b.environment, ...o.environment },
      depends_on: { ...b.depends_on, ...o.depends_on },
      volumes: [...volumes, ...(o.volumes ?? [])],
    };
  }
  return { services, volumes: { ...base.volumes, ...overlay.volumes } };
}

class MissingVariable extends Error {}

/** Compose interpolation: ${V}, ${V:-d}, ${V-d}, ${V:?msg} (fails when unset or empty), $$ → $. */
function interpolate(s: string, vars: Env): string {
  return s
    .replace(
      /(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g,
      (_all, name: string, op: string | undefined, arg: string | undefined) => {
        const v = vars[name];
        if (op === ':?') {
          if (v === undefined || v === '') throw new MissingVariable(`${name}: ${arg}`);
          return v;
        }
        if (op === ':-') return v !== undefined && v !== '' ? v : (arg ?? '');
        if (op === '-') return v ?? arg ?? '';
        return v ?? '';
      },
    )
    .replace(/\$\$/g, '$');
}

function envOf(svc: Service, vars: Env): Env {
  return Object.fromEntries(
    Object.entries(svc.environment ?? {}).map(([k, v]) => [
      k,
      v === null ? '' : interpolate(String(v), vars),
    ]),
  );
}

const base = parse(read('compose/docker-compose.yml'), { merge: true }) as ComposeFile;
const overlayText = read('compose/docker-compose.secure.yml');
const overlay = parse(overlayText, { merge: true }) as ComposeFile;
const merged = mergeCompose(base, overlay);
const svc = (name: string): Service => {
  const s = merged.services[name];
  if (!s) throw new Error(`service ${name} missing`);
  return s;
};

/** What `npm run stack -- secrets --out compose/.env` gives, plus the three compose-only secrets. */
const secrets: Env = Object.fromEntries(SECRET_VARIABLES.map(([n], i) => [n, `compose-secret-${i}-abcdef`]));
const vars: Env = {
  ...secrets,
  KIBANA_PASSWORD: 'kibana-secret-abcdef',
  KIBANA_ENCRYPTION_KEY: 'k'.repeat(32),
  GRAFANA_ADMIN_PASSWORD: 'grafana-secret-abcdef',
};
const nativeCfg = loadStackConfig({
  ...secrets,
  STACK_SECURE: 'true',
  STACK_DIR: mkdtempSync(join(tmpdir(), 'compose-secure-')),
});
const sec = nativeCfg.security!;
const tmp = mkdtempSync(join(tmpdir(), 'compose-secure-run-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(nativeCfg.dir, { recursive: true, force: true });
});

const parseProperties = (text: string): Env =>
  Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

function runScript(script: string, env: Env): string {
  const r = spawnSync('bash', [join(ROOT, script)], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env, RIDE_CDC_DRY_RUN: '1' },
    encoding: 'utf8',
  });
  expect(r.status, `${script}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

// ── secrets ──────────────────────────────────────────────────────────────────────────────────
describe('compose secured: secrets', () => {
  it('refuses to start without the secrets: every one is a required variable without a default', () => {
    expect(() =>
      JSON.stringify(merged.services, (_k, v: unknown) => (typeof v === 'string' ? interpolate(v, {}) : v)),
    ).toThrow(MissingVariable);
    const refs = [...overlayText.matchAll(/\$\{((?:STACK|KIBANA|GRAFANA)_[A-Z_]*)(:?[-?]?)/g)];
    expect(refs.length).toBeGreaterThan(20);
    for (const [, name, op] of refs) expect(`${name}${op}`).toBe(`${name}:?`);
    const known = new Set<string>(SECRET_VARIABLES.map(([n]) => n));
    const used = new Set(refs.map((m) => m[1]!).filter((n) => n.startsWith('STACK_')));
    for (const n of used) expect(known, n).toContain(n);
    // Compose uses every native secret.
    expect([...known].filter((n) => !used.has(n))).toEqual([]);
  });

  it("leaves none of the base file's development credentials in use", () => {
    const all = JSON.stringify(merged.services, (_k, v: unknown) =>
      typeof v === 'string' ? interpolate(v, vars) : v,
    );
    for (const dev of [
      'ride-cdc-elastic',
      'ride-cdc-kibana',
      'ride-cdc-grafana',
      'af4866acf35801c1f836bcd18772943c0385ccb01dde664e',
    ])
      expect(all, dev).not.toContain(dev);
    for (const [name, s] of Object.entries(merged.services))
      for (const [k, v] of Object.entries(envOf(s, vars)))
        if (/PASSWORD/.test(k)) expect(['password', 'user', 'admin'], `${name} ${k}`).not.toContain(v);
  });
});

// ── Kafka ────────────────────────────────────────────────────────────────────────────────────
describe('compose secured: Kafka', () => {
  const conf = join(tmp, 'kafka-conf');
  const certs = join(tmp, 'kafka-certs');
  mkdirSync(conf, { recursive: true });
  mkdirSync(certs, { recursive: true });
  writeFileSync(join(certs, 'keystore.password'), 'keystore-pw-1234');
  writeFileSync(join(certs, 'kafka.p12'), 'not a real keystore');
  const out = runScript('compose/kafka/secure-start.sh', {
    ...envOf(svc('kafka-1'), vars),
    RIDE_CDC_KAFKA_CONF: conf,
    RIDE_CDC_KAFKA_CERTS: certs,
  });
  const props = parseProperties(readFileSync(join(conf, 'ride-cdc-secure.properties'), 'utf8'));

  it('runs every node through the secured start script with the certificates it needs', () => {
    for (const n of ['kafka-1', 'kafka-2', 'kafka-3']) {
      const s = svc(n);
      expect(s.command).toEqual(['bash', '/ride-cdc/secure-start.sh']);
      expect(s.volumes).toContain('./kafka/secure-start.sh:/ride-cdc/secure-start.sh:ro');
      expect(s.volumes).toContain('kafka-certs:/etc/kafka/ride-cdc-certs:ro');
      expect(s.depends_on?.['es-certs']?.condition).toBe('service_completed_successfully');
      expect(String(s.healthcheck?.test)).toContain(
        '--command-config /opt/kafka/config/ride-cdc-admin.properties',
      );
    }
    expect(out).toContain('would run');
    expect(props['node.id']).toBe('1');
    expect(props['controller.quorum.voters']).toBe('1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093');
    expect(statSync(join(conf, 'ride-cdc-secure.properties')).mode & 0o077).toBe(0);
  });

  it('configures the same security as the native secured broker', async () => {
    const native = await secureKafkaSettings(nativeCfg, {
      listeners: 'PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093',
      'advertised.listeners': 'PLAINTEXT://127.0.0.1:9092',
    });
    for (const k of [
      'sasl.enabled.mechanisms',
      'sasl.mechanism.inter.broker.protocol',
      'authorizer.class.name',
      'allow.everyone.if.no.acl.found',
      'listener.name.controller.ssl.client.auth',
      'ssl.truststore.type',
    ])
      expect(props[k], k).toBe(String(native[k]));
    const protocols = (m: string) =>
      Object.fromEntries(m.split(',').map((x) => x.split(':') as [string, string]));
    const nativeMap = protocols(String(native['listener.security.protocol.map']));
    const composeMap = protocols(props['listener.security.protocol.map']!);
    for (const l of props.listeners!.split(',').map((x) => x.split('://')[0]!))
      expect(composeMap[l], l).toBe(l === 'CONTROLLER' ? nativeMap.CONTROLLER : nativeMap.SASL_SSL);
    const inter = props['inter.broker.listener.name']!;
    expect(composeMap[inter]).toBe('SASL_SSL');
    expect(props[`listener.name.${inter.toLowerCase()}.scram-sha-512.sasl.jaas.config`]).toContain(
      `username="${KAFKA_SUPER_USER}" password="${secrets.STACK_KAFKA_ADMIN_PASSWORD}"`,
    );
    // Super users: the admin principal, and the brokers' certificate subject on the controller listener.
    const supers = props['super.users']!.split(';');
    expect(String(native['super.users']).split(';')).toContain(`User:${KAFKA_SUPER_USER}`);
    expect(supers).toContain(`User:${KAFKA_SUPER_USER}`);
    const cn = /--name (\S+)/.exec(read('compose/elastic/setup.sh'))?.[1];
    expect(supers).toEqual([`User:${KAFKA_SUPER_USER}`, `User:CN=${cn}`]);
    expect(props['ssl.keystore.password']).toBe('keystore-pw-1234');
  });

  it('formats the storage with the native principals, passwords only in a private argument file', () => {
    const args = readFileSync(join(conf, 'ride-cdc-format.args'), 'utf8');
    const scram = [...args.matchAll(/SCRAM-SHA-512=\[name=([^,]+),password=([^\]]+)\]/g)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(scram).toEqual([
      [KAFKA_SUPER_USER, secrets.STACK_KAFKA_ADMIN_PASSWORD],
      [KAFKA_CONNECT_USER, secrets.STACK_KAFKA_CONNECT_PASSWORD],
      [KAFKA_WORKER_USER, secrets.STACK_KAFKA_WORKER_PASSWORD],
    ]);
    expect(statSync(join(conf, 'ride-cdc-format.args')).mode & 0o077).toBe(0);
    expect(out).not.toContain(secrets.STACK_KAFKA_ADMIN_PASSWORD!);
  });

  it("applies the native stack's ACLs for the names the services use (kafka-acls job)", () => {
    const job = svc('kafka-acls');
    const env = envOf(job, vars);
    const s = aclJobSettings(env);
    expect(s.users).toEqual(kafkaUsers(sec));
    const connect = envOf(svc('connect'), vars);
    expect(s.connect.group).toBe(connect.GROUP_ID);
    expect(s.connect.group).toBe(CONNECT_GROUP);
    for (const t of ['CONFIG_STORAGE_TOPIC', 'OFFSET_STORAGE_TOPIC', 'STATUS_STORAGE_TOPIC'])
      expect(connect[t]!.startsWith(s.connect.topicPrefix), t).toBe(true);
    const worker = envOf(svc('worker'), vars);
    expect(s.pipeline).toEqual({
      topicPrefix: worker.KAFKA_TOPIC_PREFIX,
      dlqTopic: worker.DLQ_TOPIC,
      groupId: worker.KAFKA_GROUP_ID,
    });
    for (const n of ['kafka-1', 'kafka-2', 'kafka-3'])
      expect(job.depends_on?.[n]?.condition).toBe('service_healthy');
    for (const n of ['connect', 'worker'])
      expect(svc(n).depends_on?.['kafka-acls']?.condition).toBe('service_completed_successfully');
  });

  it("keeps the brokers' keystore out of every container but the brokers and the job that makes it", () => {
    for (const [name, s] of Object.entries(merged.services))
      if ((s.volumes ?? []).some((v) => v.startsWith('kafka-certs:')))
        expect(['kafka-1', 'kafka-2', 'kafka-3', 'es-certs'], name).toContain(name);
    expect(merged.volumes).toHaveProperty('kafka-certs');
  });
});

// ── Kafka Connect ────────────────────────────────────────────────────────────────────────────
describe('compose secured: Kafka Connect', () => {
  const dir = join(tmp, 'connect-secrets');
  const connect = svc('connect');
  const env = envOf(connect, vars);
  const out = runScript('compose/connect/secure-entrypoint.sh', { ...env, RIDE_CDC_SECRETS_DIR: dir });
  const file = (f: string) => readFileSync(join(dir, f), 'utf8');

  it('writes the same REST login, JAAS entry and connector secrets as the native stack, privately', () => {
    expect(file('rest-users.properties')).toBe(connectRestUsers(sec.connectRest));
    expect(file('rest-jaas.conf')).toBe(connectRestJaas(join(dir, 'rest-users.properties')));
    expect(file('connector-secrets.properties')).toBe(
      connectorSecrets(sec.registry.connect, sec.pg.debezium.password),
    );
    expect(parseProperties(file('kafka-client.properties'))['sasl.jaas.config']).toBe(
      connectKafkaSettings(nativeCfg)['sasl.jaas.config'],
    );
    for (const f of [
      'rest-users.properties',
      'rest-jaas.conf',
      'connector-secrets.properties',
      'kafka-client.properties',
    ])
      expect(statSync(join(dir, f)).mode & 0o077, f).toBe(0);
    expect(out).toContain(`-Djava.security.auth.login.config=${join(dir, 'rest-jaas.conf')}`);
    for (const v of Object.values(secrets)) expect(out).not.toContain(v);
  });

  it("gives Connect's Kafka clients the native settings and its REST API the basic-auth extension", () => {
    const clientFile = `\${file:/kafka/ride-cdc-secrets/kafka-client.properties:sasl.jaas.config}`;
    const native = connectKafkaSettings(nativeCfg);
    for (const [k, v] of Object.entries(native)) {
      const name = `CONNECT_${k.toUpperCase().replaceAll('.', '_')}`;
      if (k.endsWith('sasl.jaas.config')) expect(env[name], name).toBe(clientFile);
      else if (k.endsWith('ssl.truststore.location')) expect(env[name], name).toBe('/certs/ca/ca.crt');
      else expect(env[name], name).toBe(v);
    }
    const nativeRest = connectSecuritySettings(nativeCfg);
    expect(env.CONNECT_REST_EXTENSION_CLASSES).toBe(REST_EXTENSION);
    expect(nativeRest['rest.extension.classes']).toBe(REST_EXTENSION);
    expect(env.CONNECT_CONFIG_PROVIDERS).toBe(nativeRest['config.providers']);
    expect(env.CONNECT_CONFIG_PROVIDERS_FILE_CLASS).toBe(nativeRest['config.providers.file.class']);
    expect(connect.entrypoint).toEqual(['bash', '/ride-cdc/secure-entrypoint.sh']);
    expect(connect.volumes).toContain('./connect/secure-entrypoint.sh:/ride-cdc/secure-entrypoint.sh:ro');
    expect(connect.volumes).toContain('es-certs:/certs:ro');
    expect(String(connect.healthcheck?.test)).toContain('-u "connect-admin:');
    expect(env.SOURCE_PGPASSWORD).toBe('');
  });

  it('registers the connector with the REST login and the native secret references (connector-init)', () => {
    const init = envOf(svc('connector-init'), vars);
    const secretsDir = /dir=\$\{RIDE_CDC_SECRETS_DIR:-([^}]+)\}/.exec(
      read('compose/connect/secure-entrypoint.sh'),
    )?.[1];
    expect(init.CONNECTOR_SECRETS_FILE).toBe(`${secretsDir}/connector-secrets.properties`);
    expect(init.CONNECTOR_DATABASE_USER).toBe(DEBEZIUM_PG_ROLE);
    expect(securedConnectorConfig(init)).toEqual(
      connectorSecretRefs(init.CONNECTOR_SECRETS_FILE!, DEBEZIUM_PG_ROLE),
    );
    expect(connectAuthHeaders(init)).toEqual({
      authorization: `Basic ${Buffer.from(`${sec.connectRest.user}:${sec.connectRest.password}`).toString('base64')}`,
    });
    expect(securedConnectorConfig({})).toEqual({});
    expect(() => connectAuthHeaders({ CONNECT_USERNAME: 'u' })).toThrow(/together/);
    expect(svc('connector-init').depends_on?.['pg-roles']?.condition).toBe('service_completed_successfully');
  });
});

// ── registry ─────────────────────────────────────────────────────────────────────────────────
describe('compose secured: registry', () => {
  const registry = svc('registry');
  const env = envOf(registry, vars);

  it('mounts the native registrySecurityProperties, passwords as expressions over its environment', () => {
    const ref = (v: string) => `\${${v}}`;
    const expected = propertiesText(
      registrySecurityProperties({
        admin: { user: sec.registry.admin.user, password: ref('STACK_REGISTRY_ADMIN_PASSWORD') },
        connect: { user: sec.registry.connect.user, password: ref('STACK_REGISTRY_CONNECT_PASSWORD') },
        worker: { user: sec.registry.worker.user, password: ref('STACK_REGISTRY_WORKER_PASSWORD') },
      }),
    );
    const committed = read('compose/registry/security.properties');
    expect(
      committed
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .join('\n'),
    ).toBe(expected);
    const mount = registry.volumes?.find((v) => v.startsWith('./registry/security.properties:'));
    expect(mount?.split(':')[1]).toBe(env.QUARKUS_CONFIG_LOCATIONS);
    for (const v of [
      'STACK_REGISTRY_ADMIN_PASSWORD',
      'STACK_REGISTRY_CONNECT_PASSWORD',
      'STACK_REGISTRY_WORKER_PASSWORD',
    ])
      expect(env[v], v).toBe(secrets[v]);
  });

  it('stores schemas as the native stack does (H2 in a volume of its own) and probes health without a login', () => {
    const spec = registryComponent(nativeCfg).startSpec();
    const native = Object.fromEntries(
      spec.args
        .filter((a) => a.startsWith('-D'))
        .map((a) => [a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
    );
    expect(env.APICURIO_STORAGE_KIND).toBe(native['apicurio.storage.kind']);
    expect(env.APICURIO_STORAGE_SQL_KIND).toBe(native['apicurio.storage.sql.kind']);
    const dataMount = registry.volumes?.find((v) => v.startsWith('registry-data:'))?.split(':')[1];
    expect(env.APICURIO_DATASOURCE_URL).toMatch(new RegExp(`^jdbc:h2:file:${dataMount}/`));
    expect(registry.depends_on?.['registry-data-init']?.condition).toBe('service_completed_successfully');
    expect(String(registry.healthcheck?.test)).toContain('/health/ready');
  });
});

// ── worker, databases ────────────────────────────────────────────────────────────────────────
describe('compose secured: worker and PostgreSQL roles', () => {
  it('logs the worker in everywhere as the native secured stack logs it in', () => {
    const ca = join(tmp, 'ca.crt');
    writeFileSync(ca, 'ca');
    const env = { ...envOf(svc('worker'), vars), KAFKA_TLS_CA_FILE: ca, ES_TLS_CA_FILE: ca };
    const c = loadWorkerConfig(env);
    const nk = workerKafkaEnv(nativeCfg);
    expect(c.kafka.ssl).toBe(true);
    expect(c.kafka.sasl).toEqual({
      mechanism: nk.KAFKA_SASL_MECHANISM,
      username: nk.KAFKA_SASL_USERNAME,
      password: nk.KAFKA_SASL_PASSWORD,
    });
    expect(c.registry.username).toBe(workerRegistryEnv(nativeCfg).SCHEMA_REGISTRY_USERNAME);
    expect(c.registry.password).toBe(workerRegistryEnv(nativeCfg).SCHEMA_REGISTRY_PASSWORD);
    const ne = workerEsEnv(nativeCfg);
    expect(c.elasticsearch.username).toBe(ne.ES_USERNAME);
    expect(c.elasticsearch.password).toBe(ne.ES_PASSWORD);
    expect(c.reporting.user).toBe(workerReportingEnv(nativeCfg).REPORTING_PGUSER);
    expect(c.reporting.password).toBe(workerReportingEnv(nativeCfg).REPORTING_PGPASSWORD);
    const nc = workerConnectEnv(nativeCfg, 'x');
    expect(c.capture).toMatchObject({ username: nc.CONNECT_USERNAME, password: nc.CONNECT_PASSWORD });
    expect(c.developmentDefaults).toEqual([]);
    // The worker holds no superuser password.
    expect(Object.values(env)).not.toContain(secrets.STACK_PGPASSWORD);
  });

  it("creates the worker's Elasticsearch user with the native role (es-setup)", () => {
    expect(JSON.parse(read('compose/elastic/worker-role.json'))).toEqual(esWorkerRole());
    const setup = svc('es-setup');
    expect(setup.volumes).toContain(
      './elastic/worker-role.json:/usr/local/share/ride-cdc/worker-role.json:ro',
    );
    expect(envOf(setup, vars).ES_WORKER_PASSWORD).toBe(workerEsEnv(nativeCfg).ES_PASSWORD);
    const script = read('compose/elastic/setup.sh');
    expect(script).toContain(
      `_security/role/${ES_WORKER_ROLE} -d @/usr/local/share/ride-cdc/worker-role.json`,
    );
    expect(script).toContain(`_security/user/${workerEsEnv(nativeCfg).ES_USERNAME}`);
  });

  it("gives the migrations' roles their logins before the connector and the worker start (pg-roles job)", () => {
    const plan = pgRolesPlan(envOf(svc('pg-roles'), vars));
    expect(plan.superuserPassword).toBe(sec.pg.superuserPassword);
    const [source, reporting] = plan.clusters;
    expect(source!.roles).toEqual(loginRoles(nativeCfg, 'source'));
    expect(source!.replication).toBe(true);
    expect(reporting!.roles).toEqual(loginRoles(nativeCfg, 'reporting'));
    expect(svc('pg-roles').depends_on?.migrate?.condition).toBe('service_completed_successfully');
    expect(svc('worker').depends_on?.['pg-roles']?.condition).toBe('service_completed_successfully');
    const migrate = envOf(svc('migrate'), vars);
    expect([migrate.REPORTING_PGUSER, migrate.REPORTING_PGPASSWORD]).toEqual([
      'user',
      secrets.STACK_PGPASSWORD,
    ]);
  });

  it('mounts only files that exist and declares its volumes', () => {
    for (const s of Object.values(overlay.services))
      for (const v of s.volumes ?? [])
        if (v.startsWith('./')) expect(existsSync(join(ROOT, 'compose', v.split(':')[0]!)), v).toBe(true);
    for (const s of Object.values(overlay.services))
      for (const v of s.volumes ?? [])
        if (!v.startsWith('./')) expect(merged.volumes, v).toHaveProperty(v.split(':')[0]!);
  });
});
