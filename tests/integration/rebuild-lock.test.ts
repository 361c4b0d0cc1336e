import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rebuildMart } from '../../src/batch/rebuild/rebuild-mart.js';
import { createClient, createPool, quoteIdent, type PgSettings } from '../../src/db/pg.js';
import { migrateTarget } from '../../src/db/targets.js';
import { loadStackConfig } from '../../src/stack/config.js';

/**
 * `mart rebuild` against a lock it cannot get (a stopped worker's last statement still running in
 * PostgreSQL, here a session that holds a write lock): it fails after its lock timeout, changes
 * nothing and names the session; once the lock is gone the same call succeeds. Real reporting PG.
 */
describe('mart rebuild and a lock held by another session', () => {
  const stack = loadStackConfig();
  const settings: PgSettings = {
    host: '127.0.0.1',
    user: stack.pg.user,
    password: stack.pg.password,
    port: stack.ports.reportingPg,
    database: `reporting_rebuildlock_${randomBytes(4).toString('hex')}`,
  };
  let pool: pg.Pool;
  let holder: pg.Client;
  const snapshot = { rows: new Map([['ratings', []]]), extra: new Map() };
  const ends = [{ topic: 'lock.public.ratings', partition: 0, high: '7' }];
  const stored = async () =>
    (
      await pool.query<{ next_offset: string }>(
        `SELECT next_offset::text FROM mart.consumer_offsets WHERE group_id = 'g' AND topic = $1`,
        [ends[0]!.topic],
      )
    ).rows.map((r) => r.next_offset);

  beforeAll(async () => {
    await migrateTarget('reporting', { settings });
    pool = createPool(settings, { max: 1 });
    holder = createClient(settings);
    await holder.connect();
  });

  afterAll(async () => {
    await holder?.end().catch(() => undefined);
    await pool?.end();
    const c = createClient({ ...settings, database: 'postgres' });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(settings.database)} WITH (FORCE)`);
    await c.end();
  });

  it('fails after its lock timeout naming the holder, changes nothing, and succeeds once the lock is gone', async () => {
    const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE mart.consumer_offsets IN ROW EXCLUSIVE MODE');
    const refused = await rebuildMart(pool, 'g', snapshot, ends, { lockTimeoutMs: 500 }).then(
      () => undefined,
      (err: Error) => err.message,
    );
    expect(refused).toMatch(/stayed locked for 0\.5 s, nothing was changed/);
    expect(refused).toContain(
      `pid ${rows[0]!.pid} (ride-cdc, idle in transaction): LOCK TABLE mart.consumer_offsets`,
    );
    await holder.query('COMMIT');
    expect(await stored()).toEqual([]);

    const done = await rebuildMart(pool, 'g', snapshot, ends, { lockTimeoutMs: 500 });
    expect(done.positions).toEqual(ends);
    expect(await stored()).toEqual(['7']);
  });
});
