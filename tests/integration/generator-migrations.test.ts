/**
 * The SQL migration runner (src/db/migrations.ts) against a real PostgreSQL (GENERATOR_PG*), each
 * test in its own throwaway database.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { MigrationError, runMigrations } from '../../src/db/migrations.js';
import {
  createClient,
  ensureDatabase,
  quoteIdent,
  sourcePgSettings,
  type PgSettings,
} from '../../src/db/pg.js';
import { migrateTarget } from '../../src/db/targets.js';

function serverSettings(): PgSettings {
  if (process.env.GENERATOR_PGHOST || process.env.GENERATOR_PGPORT) return sourcePgSettings();
  // Under the integration global setup the stack publishes its endpoints; outside it, env defaults.
  try {
    return (inject('stack') as { source: PgSettings } | undefined)?.source ?? sourcePgSettings();
  } catch {
    return sourcePgSettings();
  }
}

const server = serverSettings();
const created: string[] = [];

async function freshDb(): Promise<PgSettings> {
  const s = { ...server, database: `gen_it_mig_${randomBytes(4).toString('hex')}` };
  expect(await ensureDatabase(s)).toBe(true);
  created.push(s.database);
  return s;
}

async function q<T = Record<string, unknown>>(s: PgSettings, sql: string): Promise<T[]> {
  const c = createClient(s);
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

function dirWith(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'ridecdc-mig-'));
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(d, name), sql);
  return d;
}

afterAll(async () => {
  const c = createClient({ ...server, database: 'postgres' });
  await c.connect();
  for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  await c.end();
}, 60_000);

describe('migration runner', () => {
  it('applies files in order once, records them, and skips them next time', async () => {
    const db = await freshDb();
    const dir = dirWith({
      '001_t.sql': 'CREATE TABLE t (id int PRIMARY KEY, v text);',
      '002_rows.sql': "INSERT INTO t VALUES (1, 'a');",
      '010_more.sql': "INSERT INTO t VALUES (2, 'b');",
    });
    expect(await runMigrations(db, { dir })).toEqual({
      applied: ['001_t.sql', '002_rows.sql', '010_more.sql'],
      skipped: [],
    });
    expect(await runMigrations(db, { dir })).toEqual({
      applied: [],
      skipped: ['001_t.sql', '002_rows.sql', '010_more.sql'],
    });
    expect(await q(db, 'SELECT id FROM t ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    const recorded = await q<{ name: string; checksum: string; applied_at: Date }>(
      db,
      'SELECT * FROM public.schema_migrations ORDER BY name',
    );
    expect(recorded.map((r) => r.name)).toEqual(['001_t.sql', '002_rows.sql', '010_more.sql']);
    expect(recorded[0]!.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('fails loudly when an applied file changed', async () => {
    const db = await freshDb();
    const dir = dirWith({ '001_t.sql': 'CREATE TABLE t (id int);' });
    await runMigrations(db, { dir });
    writeFileSync(join(dir, '001_t.sql'), 'CREATE TABLE t (id bigint);');
    await expect(runMigrations(db, { dir })).rejects.toThrow(/changed after it was applied/);
  });

  it('rolls a failing file back entirely, records nothing, and names the file and line', async () => {
    const db = await freshDb();
    const dir = dirWith({
      '001_ok.sql': 'CREATE TABLE ok (id int);',
      '002_bad.sql': 'CREATE TABLE half (id int);\nINSERT INTO nope VALUES (1);',
    });
    const err = await runMigrations(db, { dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as Error).message).toMatch(/002_bad\.sql:2: relation "nope" does not exist/);
    expect(await q(db, "SELECT to_regclass('half') AS r")).toEqual([{ r: null }]);
    expect((await q<{ name: string }>(db, 'SELECT name FROM schema_migrations')).map((r) => r.name)).toEqual([
      '001_ok.sql',
    ]);
  });

  it('is safe to run concurrently (advisory lock)', async () => {
    const db = await freshDb();
    const dir = dirWith({
      '001_t.sql': 'CREATE TABLE t (id int); SELECT pg_sleep(0.3);',
      '002_rows.sql': 'INSERT INTO t VALUES (1);',
    });
    const results = await Promise.all(Array.from({ length: 4 }, () => runMigrations(db, { dir })));
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, 0, 2]);
    expect(await q(db, 'SELECT count(*)::int AS n FROM t')).toEqual([{ n: 1 }]);
  });

  it('supports another bookkeeping schema, no-transaction files, and empty or missing directories', async () => {
    const db = await freshDb();
    const dir = dirWith({
      '001_idx.sql':
        '-- migrate:no-transaction\nCREATE TABLE x (id int);\nCREATE INDEX CONCURRENTLY x_idx ON x (id);',
    });
    expect((await runMigrations(db, { dir, schema: 'mart' })).applied).toEqual(['001_idx.sql']);
    expect(
      await q(db, "SELECT count(*)::int AS n FROM mart.schema_migrations WHERE name = '001_idx.sql'"),
    ).toEqual([{ n: 1 }]);
    expect(await runMigrations(db, { dir: dirWith({}) })).toEqual({ applied: [], skipped: [] });
    expect(await runMigrations(db, { dir: join(dir, 'missing') })).toEqual({ applied: [], skipped: [] });
  });

  it('applies the real source schema and zones, creating the database when missing', async () => {
    const s = { ...server, database: `gen_it_mig_${randomBytes(4).toString('hex')}` };
    created.push(s.database);
    const r = await migrateTarget('source', { settings: s });
    expect(r.applied.slice(0, 2)).toEqual(['001_schema.sql', '002_zones.sql']);
    const zones = await q<{ n: number }>(s, 'SELECT count(*)::int AS n FROM zones');
    expect(zones[0]!.n).toBeGreaterThanOrEqual(12);
    expect((await migrateTarget('source', { settings: s })).applied).toEqual([]);
  });
});
