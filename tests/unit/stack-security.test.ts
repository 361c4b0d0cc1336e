import { pbkdf2Sync, createHash, createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../../src/config/worker-config.js';
import { authFailureMessage, classifyAuthFailure } from '../../src/shared/auth-failure.js';
import { loadStackConfig } from '../../src/stack/config.js';
import { esPbkdf2Hash, esRolesYml } from '../../src/stack/components/elasticsearch-security.js';
import { loadMappings } from '../../src/sink/elasticsearch/setup.js';
import { pipelineAcls } from '../../src/stack/components/kafka-acls.js';
import { kafkaUsers } from '../../src/stack/components/kafka-security.js';
import {
  connectorSecurityConfig,
  connectorSourceLogin,
  workerConnectEnv,
} from '../../src/stack/components/connect-security.js';
import { loginRoles } from '../../src/stack/components/postgres-security.js';
import { stackConnectorEnv } from '../../src/stack/connector.js';
import { scramSha256Verifier } from '../../src/stack/scram.js';
import { SECRET_VARIABLES, allSecrets, generateSecretsEnv } from '../../src/stack/security.js';
import { createLogger } from '../../src/observe/logger.js';

const good = Object.fromEntries(SECRET_VARIABLES.map(([n], i) => [n, `s3cret-value-number-${i}`]));

describe('secured stack configuration', () => {
  it("grants the worker's Elasticsearch role every index family mappings/ defines, and only those", () => {
    const yml = esRolesYml();
    const families = loadMappings('').map((m) => m.name);
    expect(families).toEqual(
      expect.arrayContaining(['driver_locations', 'booking_events', 'kpi_buckets', 'pipeline_metrics']),
    );
    const names = /names: \[(.*)\]/.exec(yml)?.[1]?.split(', ') ?? [];
    expect(names.sort()).toEqual(families.map((f) => `'*${f}*'`).sort());
  });

  it('is off by default: the open development stack keeps its defaults', () => {
    expect(loadStackConfig({}).security).toBeUndefined();
  });

  it('refuses to start without every secret, naming each variable to set', () => {
    let msg = '';
    try {
      loadStackConfig({ STACK_SECURE: 'true' });
    } catch (err) {
      msg = (err as Error).message;
    }
    for (const [n] of SECRET_VARIABLES) expect(msg).toContain(`${n} is not set`);
  });

  it('refuses the development defaults and short secrets, without echoing them', () => {
    let msg = '';
    try {
      loadStackConfig({
        ...good,
        STACK_SECURE: 'true',
        STACK_PGPASSWORD: 'password',
        STACK_ES_PASSWORD: 'short1',
      });
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toMatch(/STACK_PGPASSWORD is a development default: set STACK_PGPASSWORD/);
    expect(msg).toMatch(/STACK_ES_PASSWORD is shorter than 12 characters/);
    expect(msg).not.toContain('short1');
  });

  it('accepts a complete set and lists every secret once (for the log scan)', () => {
    const cfg = loadStackConfig({ ...good, STACK_SECURE: 'true' });
    expect(cfg.pg.password).toBe(good.STACK_PGPASSWORD);
    expect(new Set(allSecrets(cfg.security!))).toEqual(new Set(Object.values(good)));
  });

  it('generates an env file that the reader accepts', () => {
    let i = 0;
    const text = generateSecretsEnv(() => `generated-secret-${i++}-abcdef`);
    const env = Object.fromEntries(
      text
        .trim()
        .split('\n')
        .map((l) => l.split('=') as [string, string]),
    );
    expect(loadStackConfig(env).security).toBeDefined();
  });
});

describe('least-privilege Kafka ACLs of one pipeline', () => {
  it('worker: read its CDC prefix, its group, write its DLQ; Connect: write the prefix', () => {
    const sec = loadStackConfig({ ...good, STACK_SECURE: 'true' }).security!;
    const acls = pipelineAcls(kafkaUsers(sec), {
      topicPrefix: 'ride',
      dlqTopic: 'ride-cdc.dlq',
      groupId: 'g',
    });
    const worker = acls.filter((a) => a.principal === 'User:ride-cdc-worker');
    const connect = acls.filter((a) => a.principal === 'User:connect');
    expect(new Set(worker.map((a) => a.resourceName))).toEqual(
      new Set(['ride.public.', 'g', 'ride-cdc.dlq', '__debezium-heartbeat.ride', 'g.capture-watch.']),
    );
    // The capture watcher's group (capture-watch.ts) falls under the prefixed grant.
    const watcherGroup = loadWorkerConfig({ CONNECT_URL: 'http://h:8083', KAFKA_GROUP_ID: 'g' }).capture!
      .groupPrefix;
    expect(worker.find((a) => a.resourceName === watcherGroup)?.resourcePatternType).toBe(4);
    // Reading only: the watcher may neither write nor create the heartbeat topic.
    expect(
      worker
        .filter((a) => a.resourceName === '__debezium-heartbeat.ride')
        .map((a) => a.operation)
        .sort(),
    ).toEqual([3, 8]);
    expect(new Set(connect.map((a) => a.resourceName))).toEqual(new Set(['ride.']));
    expect(acls.every((a) => a.host === '*' && a.permissionType === 3)).toBe(true);
  });
});

describe("Debezium's PostgreSQL login", () => {
  const secured = () => loadStackConfig({ ...good, STACK_SECURE: 'true' });

  it('is its own role on the secured stack, its password a reference Connect resolves', () => {
    const cfg = secured();
    const sec = cfg.security!;
    expect(sec.pg.debezium.user).toBe('ride_cdc_debezium');
    expect(loginRoles(cfg, 'source')).toEqual([sec.pg.debezium]);
    expect(loginRoles(cfg, 'reporting').map((p) => p.user)).toEqual(['ride_cdc_worker', 'reporting_reader']);
    const login = connectorSourceLogin(cfg);
    expect(login.user).toBe('ride_cdc_debezium');
    expect(login.password).toMatch(/^\$\{file:.*connector-secrets\.properties:source\.password\}$/);
    const overlay = connectorSecurityConfig(cfg);
    expect(overlay['database.user']).toBe('ride_cdc_debezium');
    expect(overlay['database.password']).toBe(login.password);
    // Neither the superuser's nor Debezium's password is ever sent to Connect in clear.
    const sent = JSON.stringify({ ...stackConnectorEnv(cfg, {}), ...overlay });
    expect(sent).not.toContain(sec.pg.superuserPassword);
    expect(sent).not.toContain(sec.pg.debezium.password);
    expect(stackConnectorEnv(cfg, {}).SOURCE_PGUSER).toBe('ride_cdc_debezium');
  });

  it('stays the superuser on the open stack (no role login there, nothing overlaid)', () => {
    const cfg = loadStackConfig({});
    expect(loginRoles(cfg, 'source')).toEqual([]);
    expect(connectorSecurityConfig(cfg)).toEqual({});
    expect(stackConnectorEnv(cfg, {}).SOURCE_PGUSER).toBe('user');
  });
});

describe("the capture watcher's Connect login", () => {
  it('comes with the secured stack and is absent on the open one', () => {
    const cfg = loadStackConfig({ ...good, STACK_SECURE: 'true' });
    const env = workerConnectEnv(cfg, 'c1');
    expect(env).toMatchObject({ CONNECTOR_NAME: 'c1', CONNECT_USERNAME: 'connect-admin' });
    expect(env.CONNECT_PASSWORD).toBe(good.STACK_CONNECT_REST_PASSWORD);
    expect(loadWorkerConfig(env).capture).toMatchObject({
      username: 'connect-admin',
      password: good.STACK_CONNECT_REST_PASSWORD,
    });
    expect(Object.keys(workerConnectEnv(loadStackConfig({}), 'c1')).sort()).toEqual([
      'CONNECTOR_NAME',
      'CONNECT_URL',
    ]);
  });

  it('is both variables or neither, and never inside CONNECT_URL', () => {
    expect(() => loadWorkerConfig({ CONNECT_URL: 'http://h:8083', CONNECT_USERNAME: 'u' })).toThrow(
      /CONNECT_USERNAME and CONNECT_PASSWORD must be set together/,
    );
    let msg = '';
    try {
      loadWorkerConfig({ CONNECT_URL: 'http://u:hunter2hunter2@h:8083' });
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toContain('CONNECT_URL carries credentials: put them in CONNECT_USERNAME / CONNECT_PASSWORD');
    expect(msg).not.toContain('hunter2');
  });

  it('is redacted when the worker logs its capture settings', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _e, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const capture = loadWorkerConfig({
      CONNECT_URL: 'http://h:8083',
      CONNECT_USERNAME: 'connect-admin',
      CONNECT_PASSWORD: 'hunter2hunter2',
    }).capture;
    createLogger('info', sink).info({ capture }, 'capture settings');
    expect(lines.join('')).toContain('connect-admin');
    expect(lines.join('')).not.toContain('hunter2');
  });
});

describe('password verifiers', () => {
  it('PostgreSQL SCRAM-SHA-256 verifier follows RFC 5802 (checked against an independent computation)', () => {
    const salt = Buffer.alloc(16, 7);
    const v = scramSha256Verifier('pencil', 4096, salt);
    const salted = pbkdf2Sync('pencil', salt, 4096, 32, 'sha256');
    const stored = createHash('sha256')
      .update(createHmac('sha256', salted).update('Client Key').digest())
      .digest();
    expect(v).toBe(
      `SCRAM-SHA-256$4096:${salt.toString('base64')}$${stored.toString('base64')}:${createHmac('sha256', salted).update('Server Key').digest('base64')}`,
    );
  });

  it('Elasticsearch {PBKDF2} hash has cost, salt and a 256-bit key', () => {
    const [prefix, salt, key] = esPbkdf2Hash('pencil').split('$');
    expect(prefix).toBe('{PBKDF2}10000');
    expect(Buffer.from(salt!, 'base64')).toHaveLength(32);
    expect(Buffer.from(key!, 'base64')).toHaveLength(32);
  });
});

describe('worker credentials', () => {
  it('names the development defaults it fell back to, and refuses half a login', () => {
    expect(loadWorkerConfig({}).developmentDefaults).toEqual(['REPORTING_PGUSER', 'REPORTING_PGPASSWORD']);
    expect(
      loadWorkerConfig({ REPORTING_PGUSER: 'u', REPORTING_PGPASSWORD: 'p' }).developmentDefaults,
    ).toEqual([]);
    expect(() => loadWorkerConfig({ REPORTING_PGUSER: 'u' })).toThrow(/must be set together/);
  });

  it('KAFKA_TLS_CA_FILE turns TLS on and must be readable', () => {
    expect(() => loadWorkerConfig({ KAFKA_TLS_CA_FILE: '/nonexistent/ca.crt' })).toThrow(/KAFKA_TLS_CA_FILE/);
  });

  it('classifies refused logins and denied grants of every dependency, naming the variables', () => {
    expect(classifyAuthFailure({ name: 'KafkaJSSASLAuthenticationError', message: 'x' })).toBe(
      'authentication',
    );
    expect(classifyAuthFailure({ code: '28P01' })).toBe('authentication');
    expect(classifyAuthFailure({ code: '42501' })).toBe('authorization');
    expect(classifyAuthFailure({ meta: { statusCode: 401 } })).toBe('authentication');
    expect(classifyAuthFailure({ status: 403 })).toBe('authorization');
    expect(classifyAuthFailure({ code: 'ECONNREFUSED' })).toBeUndefined();
    expect(authFailureMessage('connect', { status: 401, message: 'HTTP 401' })).toMatch(
      /connect refused the worker's credentials .*check CONNECT_USERNAME \/ CONNECT_PASSWORD/,
    );
    expect(
      authFailureMessage(
        'reporting_db',
        Object.assign(new Error('password authentication failed'), { code: '28P01' }),
      ),
    ).toMatch(/check REPORTING_PGUSER \/ REPORTING_PGPASSWORD/);
  });
});

describe('logs', () => {
  it('never carry the user:password part of a URL, in messages or fields', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _e, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const logger = createLogger('info', sink);
    logger.error(
      { err: 'GET http://alice:hunter2hunter2@registry:8081/x failed' },
      'at https://bob:pw12345678@es:9200/',
    );
    logger.warn({ nested: { url: 'http://carol:s3cr3t-s3cr3t@h/' } }, 'nested');
    expect(lines.join('')).not.toMatch(/hunter2|pw12345678|s3cr3t/);
    expect(lines.join('')).toContain('//[redacted]@registry');
  });
});
