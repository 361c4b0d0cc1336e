import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateTarget } from '../../src/db/targets.js';
import { createClient, quoteIdent, type PgSettings } from '../../src/db/pg.js';
import { connectUrl } from '../../src/stack/components/connect.js';
import { connectHeaders } from '../../src/stack/components/connect-security.js';
import { esRequest } from '../../src/stack/components/elasticsearch-security.js';
import { kafkaClientOptions } from '../../src/stack/components/kafka-security.js';
import { ccompatUrl } from '../../src/stack/components/registry.js';
import { registryHeaders } from '../../src/stack/components/registry-security.js';
import { CAPTURED_TABLES } from '../../src/config/captured-tables.js';
import { loadStackConfig, paths } from '../../src/stack/config.js';
import { tlsFiles } from '../../src/stack/tls.js';

/**
 * Against the real secured stack: every service refuses a client that does not log in or logs in
 * wrongly, and each principal can do its job and nothing beyond it.
 */
const cfg = loadStackConfig();
const sec = cfg.security!;
const broker = `127.0.0.1:${cfg.ports.kafka}`;
const ca = () => readFileSync(tlsFiles(cfg).caCert, 'utf8');
const wrong = { user: 'x', password: 'not-the-password-at-all' };

function kafka(opts: Record<string, unknown>) {
  return new Kafka({
    clientId: 'refusal-test',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    authenticationTimeout: 3000,
    retry: { retries: 0 },
    ...opts,
  });
}

async function connectError(k: Kafka): Promise<unknown> {
  const admin = k.admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

describe('secured stack: Kafka', () => {
  it('is secured at all (the suite runs against STACK_SECURE=true)', () => {
    expect(sec).toBeDefined();
  });

  it('refuses a plaintext client, a TLS client without SASL, and a wrong SCRAM password', async () => {
    expect(await connectError(kafka({}))).toBeInstanceOf(Error);
    expect(await connectError(kafka({ ssl: { ca: [ca()] } }))).toBeInstanceOf(Error);
    const bad = (await connectError(
      kafka({
        ssl: { ca: [ca()] },
        sasl: { mechanism: 'scram-sha-512', username: sec.kafka.worker.user, password: wrong.password },
      }),
    )) as Error;
    expect(bad?.name).toBe('KafkaJSSASLAuthenticationError');
    expect(bad.message).not.toContain(wrong.password);
  });

  it('lets the worker read only its topics and neither create nor write CDC topics', async () => {
    const k = kafka(kafkaClientOptions(cfg, sec.kafka.worker));
    const admin = k.admin();
    await admin.connect();
    try {
      // Describe is granted on ride.public.* only: the listing shows nothing else (not _connect-*).
      const topics = await admin.listTopics();
      expect(topics.length).toBeGreaterThan(0);
      expect(topics.every((t) => t.startsWith('ride.public.') || t === 'ride-cdc.dlq')).toBe(true);
      const err = (await admin
        .createTopics({ topics: [{ topic: 'not-the-workers-topic' }] })
        .catch((e: unknown) => e)) as { errors?: { type?: string }[] };
      expect(err.errors?.[0]?.type).toBe('TOPIC_AUTHORIZATION_FAILED');
    } finally {
      await admin.disconnect();
    }
    const producer = k.producer();
    await producer.connect();
    try {
      await expect(
        producer.send({ topic: 'ride.public.drivers', messages: [{ value: 'forged change event' }] }),
      ).rejects.toThrow(/authoriz/i);
    } finally {
      await producer.disconnect();
    }
  });

  it('lets Connect write CDC topics but not read them or join the worker group', async () => {
    const k = kafka(kafkaClientOptions(cfg, sec.kafka.connect));
    const consumer = k.consumer({ groupId: 'ride-cdc-worker', retry: { retries: 0 } });
    const crashed = new Promise<Error>((res) =>
      consumer.on(consumer.events.CRASH, (e) => res(e.payload.error)),
    );
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: ['ride.public.drivers'], fromBeginning: true });
      await consumer.run({ eachMessage: async () => undefined });
      const err = (await crashed) as Error & { type?: string };
      // kafkajs reports FindCoordinator's GROUP_AUTHORIZATION_FAILED as "coordinator not found";
      // the worker principal does join this group (the secured mart e2e runs on it).
      expect(`${err.name} ${err.type ?? ''} ${err.message}`).toMatch(
        /AUTHORIZATION_FAILED|not authorized|GroupCoordinatorNotFound/i,
      );
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  });
});

describe('secured stack: Kafka Connect REST', () => {
  const url = `${connectUrl(cfg)}/connectors`;
  it('answers 401 without credentials and with a wrong password, 200 with the right one', async () => {
    expect((await fetch(url)).status).toBe(401);
    expect(
      (await fetch(url, { headers: connectHeaders(cfg, { ...sec.connectRest, password: wrong.password }) }))
        .status,
    ).toBe(401);
    expect((await fetch(url, { headers: connectHeaders(cfg) })).status).toBe(200);
  });

  it('listens on loopback only', () => {
    // /proc/net/tcp{,6}: local address:port in hex, state 0A = LISTEN. No packet is sent.
    const hexPort = cfg.ports.connect.toString(16).toUpperCase().padStart(4, '0');
    const loopback = ['0100007F', '0000000000000000FFFF00000100007F', '00000000000000000000000001000000'];
    const listening = ['/proc/net/tcp', '/proc/net/tcp6']
      .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A')
      .map((f) => f[1]!.split(':')[0]!);
    expect(listening.length).toBeGreaterThan(0);
    expect(listening.filter((a) => !loopback.includes(a))).toEqual([]);
  });
});

describe('secured stack: registry', () => {
  const url = `${ccompatUrl(cfg)}/subjects`;
  const schema = JSON.stringify({ schema: JSON.stringify({ type: 'string' }) });
  const post = (who: Record<string, string>) =>
    fetch(`${ccompatUrl(cfg)}/subjects/refusal-test-${process.pid}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...who },
      body: schema,
    });

  it('answers 401 without credentials and with a wrong password', async () => {
    expect((await fetch(url)).status).toBe(401);
    expect(
      (
        await fetch(url, {
          headers: registryHeaders(cfg, { ...sec.registry.worker, password: wrong.password }),
        })
      ).status,
    ).toBe(401);
    expect((await fetch(url, { headers: registryHeaders(cfg, sec.registry.worker) })).status).toBe(200);
  });

  it('lets the worker read but not register schemas; Connect may register', async () => {
    expect((await post(registryHeaders(cfg, sec.registry.worker))).status).toBe(403);
    const ok = await post(registryHeaders(cfg, sec.registry.connect));
    expect(ok.status, await ok.text()).toBe(200);
    await fetch(`${ccompatUrl(cfg)}/subjects/refusal-test-${process.pid}`, {
      method: 'DELETE',
      headers: registryHeaders(cfg),
    });
  });
});

describe('secured stack: Elasticsearch', () => {
  it('serves HTTPS only and refuses missing or wrong credentials', async () => {
    await expect(fetch(`http://127.0.0.1:${cfg.ports.es}/`)).rejects.toThrow();
    const noAuth = {
      ...cfg,
      security: { ...sec, es: { ...sec.es, admin: { user: 'elastic', password: wrong.password } } },
    };
    await expect(esRequest(noAuth, 'GET', '/_cluster/health')).rejects.toThrow(/401/);
    expect(
      JSON.parse(await esRequest(cfg, 'GET', '/_security/_authenticate', undefined, 'worker')).username,
    ).toBe(sec.es.worker.user);
  });

  it('confines the worker to its index families', async () => {
    await expect(esRequest(cfg, 'PUT', `/refusal-test-${process.pid}`, {}, 'worker')).rejects.toThrow(/403/);
    await expect(
      esRequest(
        cfg,
        'PUT',
        '/_cluster/settings',
        { persistent: { 'cluster.routing.allocation.enable': 'all' } },
        'worker',
      ),
    ).rejects.toThrow(/403/);
  });
});

describe('secured stack: PostgreSQL', () => {
  const db = `refusals_${process.pid}`;
  const su: PgSettings = {
    host: '127.0.0.1',
    port: cfg.ports.reportingPg,
    user: cfg.pg.user,
    password: cfg.pg.password,
    database: db,
  };
  const as = (user: string, password: string, host = '127.0.0.1') =>
    createClient({ ...su, host, user, password });

  beforeAll(async () => {
    await migrateTarget('reporting', { settings: su });
  });
  afterAll(async () => {
    const c = createClient({ ...su, database: 'postgres' });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(db)} WITH (FORCE)`);
    await c.end();
  });

  const refusedWith = async (c: pg.Client) => {
    try {
      await c.connect();
      await c.end();
      return 'connected';
    } catch (err) {
      return (err as { code?: string }).code;
    }
  };

  it('refuses wrong passwords over TCP and over the Unix socket (scram-sha-256 everywhere)', async () => {
    for (const user of [cfg.pg.user, sec.pg.worker.user, sec.pg.reader.user])
      expect(await refusedWith(as(user, wrong.password))).toBe('28P01');
    const socketDir = resolve(paths(cfg).run, 'postgres-reporting-sock');
    expect(await refusedWith(as(cfg.pg.user, wrong.password, socketDir))).toBe('28P01');
    const ok = as(cfg.pg.user, cfg.pg.password, socketDir);
    await ok.connect();
    await ok.end();
  });

  it('gives reporting_reader the views and facts only, read-only', async () => {
    const c = as(sec.pg.reader.user, sec.pg.reader.password);
    await c.connect();
    try {
      for (const rel of ['fact_metric_bucket', 'fact_booking', 'latest_metric_snapshot', 'daily_summary'])
        await c.query(`SELECT * FROM mart.${rel} LIMIT 1`);
      for (const sql of [
        'SELECT * FROM mart.consumer_offsets',
        'SELECT * FROM mart.driver_state',
        "INSERT INTO mart.consumer_offsets VALUES ('g', 't', 0, 0)",
        'DELETE FROM mart.fact_booking',
      ])
        await expect(c.query(sql), sql).rejects.toMatchObject({ code: '42501' });
    } finally {
      await c.end();
    }
  });

  it('gives ride_cdc_debezium replication and reads of the captured tables only', async () => {
    const src = createClient({
      host: '127.0.0.1',
      port: cfg.ports.sourcePg,
      database: cfg.pg.sourceDb,
      user: sec.pg.debezium.user,
      password: sec.pg.debezium.password,
    });
    await src.connect();
    try {
      const me = await src.query<{ rolsuper: boolean; rolreplication: boolean; rolcreaterole: boolean }>(
        'SELECT rolsuper, rolreplication, rolcreaterole FROM pg_roles WHERE rolname = current_user',
      );
      expect(me.rows[0]).toEqual({ rolsuper: false, rolreplication: true, rolcreaterole: false });
      for (const t of CAPTURED_TABLES) await src.query(`SELECT * FROM public.${t} LIMIT 1`);
      for (const sql of [
        'SELECT * FROM public.driver_location_history LIMIT 1',
        "UPDATE public.zones SET name = 'forged'",
        'DELETE FROM public.bookings',
        'INSERT INTO public.ratings (booking_id) VALUES (1)',
        'TRUNCATE public.payments',
        'CREATE TABLE public.evil (x int)',
        'ALTER PUBLICATION ride_cdc_pub ADD TABLE public.driver_location_history',
        'CREATE PUBLICATION evil_pub FOR TABLE public.zones',
        'SELECT * FROM public.schema_migrations',
      ])
        await expect(src.query(sql), sql).rejects.toMatchObject({ code: '42501' });
    } finally {
      await src.end();
    }
    // The role exists in the source cluster only: reporting_db does not let it in at all.
    expect(
      await refusedWith(
        createClient({
          ...su,
          database: cfg.pg.reportingDb,
          user: sec.pg.debezium.user,
          password: sec.pg.debezium.password,
        }),
      ),
    ).toBe('28P01');
  });

  it('lets ride_cdc_worker write the mart but change neither its schema nor the migration ledger', async () => {
    const c = as(sec.pg.worker.user, sec.pg.worker.password);
    await c.connect();
    try {
      await c.query('BEGIN');
      await c.query(
        "INSERT INTO mart.consumer_offsets (group_id, topic, \"partition\", next_offset) VALUES ('g', 't', 0, 1)",
      );
      await c.query('ROLLBACK');
      for (const sql of [
        'CREATE TABLE mart.evil (x int)',
        'DROP TABLE mart.fact_booking',
        'DELETE FROM public.schema_migrations',
      ])
        await expect(c.query(sql), sql).rejects.toMatchObject({ code: '42501' });
    } finally {
      await c.end();
    }
  });
});
