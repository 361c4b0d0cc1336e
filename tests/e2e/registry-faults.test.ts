import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/db/pg.js';
import { registryUrl } from '../../src/stack/components/registry.js';
import { diffMart } from '../../src/verify/mart-truth.js';
import { RegistryProxy } from './support/registry-proxy.js';
import { Scenario } from './support/scenario.js';

const REPO = join(import.meta.dirname, '../..');

/** Runs `ride-cdc <args>` with the scenario's worker environment; resolves with stdout. */
function cli(env: Record<string, string>, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, 'bin/ride-cdc.js'), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.once('exit', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`ride-cdc ${args.join(' ')} exited ${code}:\n${out}\n${err}`)),
    );
  });
}

async function dlqCount(s: Scenario): Promise<number> {
  const admin = s.kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(s.dlqTopic)) return 0;
    return (await admin.fetchTopicOffsets(s.dlqTopic)).reduce(
      (n, o) => n + Number(o.high) - Number(o.low),
      0,
    );
  } finally {
    await admin.disconnect();
  }
}

async function driverStatus(s: Scenario, id: number): Promise<string | null> {
  await s.es.indices.refresh({ index: `${s.indexPrefix}driver_locations` }).catch(() => undefined);
  const doc = await s.es
    .get<{ status: string }>({ index: `${s.indexPrefix}driver_locations`, id: String(id) })
    .catch(() => null);
  return doc?._source?.status ?? null;
}

const seedDrivers = async (db: pg.Client) => {
  await db.query(
    `INSERT INTO drivers (id, full_name, phone, vehicle_type, plate_number, status, home_zone_id) VALUES
       (1, 'Fault One', '+84911', 'car', '51A-11', 'available', 1), (2, 'Fault Two', '+84912', 'bike', '51A-12', 'available', 2)`,
  );
  await db.query(
    `INSERT INTO driver_locations (driver_id, lat, lon, zone_id, updated_at) VALUES (1, 10.77, 106.70, 1, now()), (2, 10.78, 106.69, 2, now())`,
  );
};

/**
 * Issue 9 item 2 on the real stack: a registry that refuses the worker's credentials pauses the
 * pipeline (not ready, nothing dead-lettered, offsets kept) and it resumes by itself once the
 * registry accepts them. The native registry has no auth, so a loopback proxy in front of it
 * answers 401 — the same answer an auth-enabled Apicurio gives a wrong password.
 */
describe('registry refusing the credentials', () => {
  const s = new Scenario();
  const proxy = new RegistryProxy(registryUrl(s.stack));

  beforeAll(async () => {
    await proxy.start();
    await s.start({ beforeConnector: seedDrivers });
  }, 300_000);
  afterAll(async () => {
    await s.stop();
    await proxy.stop();
  });

  it('pauses instead of dead-lettering, then resumes by itself', async () => {
    // At start a refused login fails fast (tests/secure); here the registry starts refusing a
    // running worker (a rotated password), which must pause, not dead-letter.
    proxy.mode = 'pass';
    const worker = await s.startWorker({
      SCHEMA_REGISTRY_URL: proxy.url,
      SCHEMA_REGISTRY_USERNAME: 'ride',
      SCHEMA_REGISTRY_PASSWORD: 'rotated-away',
    });
    const seeded = await s.converge(async () => {
      const st = [await driverStatus(s, 1), await driverStatus(s, 2)];
      return st.every((x) => x === 'available') ? [] : [JSON.stringify(st)];
    }, 120_000);
    expect(seeded).toEqual([]);

    proxy.mode = 'unauthorized';
    const before = proxy.requests;
    // A new column gives the drivers' values a new schema id: the worker must ask the registry.
    await s.sourceDb.query('ALTER TABLE drivers ADD COLUMN shift_note text');
    await s.sourceDb.query(
      `UPDATE drivers SET status = 'busy', shift_note = 'rotated', updated_at = now() WHERE id = 1`,
    );
    const deadline = Date.now() + 120_000;
    while (proxy.requests - before < 3 && Date.now() < deadline) await sleep(500);
    expect(proxy.requests - before).toBeGreaterThanOrEqual(3); // it kept asking, with backoff
    expect(worker.child.exitCode).toBeNull();
    expect((await worker.get('/readyz')).status).toBe(503);
    expect(await worker.metric('ride_cdc_ready')).toBe(0);
    // The alertable signal: a systemic failure of the decode stage, reason registry-auth.
    expect(
      await worker.metric('ride_cdc_systemic_failures', { stage: 'decode', reason: 'registry-auth' }),
    ).toBeGreaterThan(0);
    expect(await dlqCount(s)).toBe(0);
    expect(await worker.metric('ride_cdc_dead_letter_total')).toBe(0);
    expect(await driverStatus(s, 1)).toBe('available');

    proxy.mode = 'pass'; // the password is fixed on the registry side
    const diffs = await s.converge(async () => {
      const st = await driverStatus(s, 1);
      return st === 'busy' ? [] : [`driver 1 is ${st}`];
    }, 120_000);
    expect(diffs).toEqual([]);
    expect(await dlqCount(s)).toBe(0);
    await worker.waitReady(60_000);
  }, 300_000);
});

/**
 * Dead letters are not a dead end: events whose schema the registry did not know (a lagging
 * registry after a DDL change) are dead-lettered after the bounded wait; once the registry knows
 * the schema, `ride-cdc dlq replay` re-drives them and Elasticsearch and the mart converge to the
 * source. Replaying again changes nothing.
 */
describe('dlq replay after the schema becomes known', () => {
  const s = new Scenario();
  const proxy = new RegistryProxy(registryUrl(s.stack));
  let reporting: pg.Client;

  beforeAll(async () => {
    await proxy.start();
    await s.start({ beforeConnector: seedDrivers });
    reporting = createClient(s.reporting);
    await reporting.connect();
  }, 300_000);
  afterAll(async () => {
    await reporting?.end();
    await s.stop();
    await proxy.stop();
  });

  it('re-drives the letters, converges, and is idempotent', async () => {
    const env = {
      SCHEMA_REGISTRY_URL: proxy.url,
      SCHEMA_UNKNOWN_RETRIES: '1',
      SCHEMA_UNKNOWN_WAIT_MS: '1000',
    };
    const worker = await s.startWorker(env);
    expect(
      await s.converge(async () => ((await driverStatus(s, 2)) === 'available' ? [] : ['not yet']), 90_000),
    ).toEqual([]);

    proxy.frozen = true;
    await s.sourceDb.query(`ALTER TABLE drivers ADD COLUMN note text`);
    await s.sourceDb.query(`UPDATE drivers SET status = 'busy', note = 'a', updated_at = now() WHERE id = 1`);
    await s.sourceDb.query(`UPDATE drivers SET status = 'busy', note = 'b', updated_at = now() WHERE id = 2`);
    await s.sourceDb.query(
      `UPDATE drivers SET status = 'offline', note = 'c', updated_at = now() WHERE id = 1`,
    );
    const deadline = Date.now() + 120_000;
    while ((await dlqCount(s)) < 3 && Date.now() < deadline) await sleep(1000);
    expect(await dlqCount(s)).toBe(3);
    expect(await driverStatus(s, 1)).toBe('available');

    const cliEnv = s.workerEnv(env);
    const listed = (await cli(cliEnv, ['dlq', 'list', '--reason', 'unknown-schema']))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reason: string; origin: { topic: string; offset: string } });
    expect(listed).toHaveLength(3);
    expect(new Set(listed.map((l) => l.origin.topic))).toEqual(new Set([`${s.topicPrefix}.public.drivers`]));

    proxy.frozen = false; // the registry caught up
    const summary = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>;
    const first = summary(await cli(cliEnv, ['dlq', 'replay', '--reason', 'unknown-schema']));
    expect(first).toMatchObject({ selected: 3, replayed: 2, superseded: 1 });

    const converged = await s.converge(async () => {
      const st = [await driverStatus(s, 1), await driverStatus(s, 2)];
      const mart = (await diffMart(s.sourceDb, reporting)).diffs;
      return st[0] === 'offline' && st[1] === 'busy' && mart.length === 0
        ? []
        : [JSON.stringify({ st, mart: mart.slice(0, 3) })];
    }, 120_000);
    expect(converged).toEqual([]);
    const eventsAfterFirst = await worker.metric('ride_cdc_events_in_total');

    const second = summary(await cli(cliEnv, ['dlq', 'replay', '--reason', 'unknown-schema']));
    expect(second).toMatchObject({ selected: 3, replayed: 0, superseded: 3 });
    await sleep(5000);
    expect(await worker.metric('ride_cdc_events_in_total')).toBe(eventsAfterFirst);
    expect((await diffMart(s.sourceDb, reporting)).diffs).toEqual([]);
    expect([await driverStatus(s, 1), await driverStatus(s, 2)]).toEqual(['offline', 'busy']);
  }, 420_000);
});
