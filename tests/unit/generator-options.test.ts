import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checksumOf, loadMigrations, MigrationError } from '../../src/db/migrations.js';
import { splitSqlStatements } from '../../src/db/sql-split.js';
import { pgSettingsFromEnv, poolConfig, SOURCE_PG_DEFAULTS } from '../../src/db/pg.js';
import { DEFAULT_SEED_BASE_TIME, resolveOptions } from '../../src/generator/options.js';
import { VOLUME_PRESETS } from '../../src/generator/volumes.js';
import { ConfigError } from '../../src/shared/errors.js';

describe('generator options', () => {
  it('fills defaults from the volume preset', () => {
    const o = resolveOptions({ volume: 'medium' });
    expect(o.mode).toBe('stream');
    expect(o.drivers).toBe(VOLUME_PRESETS.medium.drivers);
    expect(o.passengers).toBe(VOLUME_PRESETS.medium.passengers);
    expect(o.stream.maxInflight).toBe(VOLUME_PRESETS.medium.maxInflight);
    expect(o.baseTime.toISOString()).toBe(new Date(DEFAULT_SEED_BASE_TIME).toISOString());
    expect(o.rate).toBe(0);
  });

  it('sizes large at 20× small', () => {
    expect(VOLUME_PRESETS.large.drivers).toBe(20 * VOLUME_PRESETS.small.drivers);
    expect(VOLUME_PRESETS.large.passengers).toBe(20 * VOLUME_PRESETS.small.passengers);
    expect(VOLUME_PRESETS.large.seedBookings).toBe(20 * VOLUME_PRESETS.small.seedBookings);
  });

  it('accepts CLI strings and "unlimited"', () => {
    const o = resolveOptions({
      rate: 'unlimited',
      seconds: '12',
      ticks: '300',
      seed: 7,
      baseTime: '2024-02-10T00:00:00+07:00',
      stream: { maxInflight: '9', newBookingProb: '0.3', sleepMinMs: '0', sleepMaxMs: '0' },
      synchronousCommit: 'off',
    });
    expect(o.rate).toBe(0);
    expect(o.seconds).toBe(12);
    expect(o.ticks).toBe(300);
    expect(resolveOptions({}).ticks).toBe(0);
    expect(() => resolveOptions({ ticks: '-1' })).toThrow(ConfigError);
    expect(o.seed).toBe('7');
    expect(o.baseTime.toISOString()).toBe('2024-02-09T17:00:00.000Z');
    expect(o.stream).toMatchObject({ maxInflight: 9, newBookingProb: 0.3, sleepMinMs: 0, sleepMaxMs: 0 });
    expect(o.synchronousCommit).toBe(false);
    expect(resolveOptions({ rate: '250' }).rate).toBe(250);
  });

  it('reports every bad value at once', () => {
    let err: unknown;
    try {
      resolveOptions({
        volume: 'huge' as 'tiny',
        rate: 'fast',
        stream: { newBookingProb: 2 },
        baseTime: 'yesterday',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/volume/);
    expect(msg).toMatch(/rate/);
    expect(msg).toMatch(/newBookingProb/);
    expect(msg).toMatch(/baseTime/);
  });

  it('rejects sleep min above max', () => {
    expect(() => resolveOptions({ stream: { sleepMinMs: 500, sleepMaxMs: 100 } })).toThrow(ConfigError);
  });

  it('merges knob overrides over the defaults', () => {
    const o = resolveOptions({
      knobs: { deleteCancelledProb: 0.5, fateWeights: { complete: 0.1 } as never },
    });
    expect(o.knobs.deleteCancelledProb).toBe(0.5);
    expect(o.knobs.fateWeights.complete).toBe(0.1);
    expect(o.knobs.fateWeights.systemNoDriver).toBeGreaterThan(0);
  });
});

describe('PG settings from env', () => {
  it('reads a prefix with defaults', () => {
    expect(pgSettingsFromEnv('GENERATOR_', SOURCE_PG_DEFAULTS, {})).toEqual({
      host: 'localhost',
      port: 5432,
      database: 'ride_hailing_db',
      user: 'user',
      password: 'password',
    });
    const s = pgSettingsFromEnv('GENERATOR_', SOURCE_PG_DEFAULTS, {
      GENERATOR_PGPORT: '6000',
      GENERATOR_PGDB: 'x',
    });
    expect(s).toMatchObject({ port: 6000, database: 'x' });
    expect(poolConfig(s, { sessionSettings: { synchronous_commit: 'off' } }).options).toBe(
      '-c synchronous_commit=off',
    );
  });

  it('names the bad variable', () => {
    expect(() => pgSettingsFromEnv('REPORTING_', SOURCE_PG_DEFAULTS, { REPORTING_PGPORT: 'abc' })).toThrow(
      /REPORTING_PGPORT/,
    );
  });
});

describe('loadMigrations', () => {
  const dir = (): string => mkdtempSync(join(tmpdir(), 'ridecdc-mig-'));

  it('orders NNN_name.sql files numerically and ignores other files', () => {
    const d = dir();
    writeFileSync(join(d, '010_later.sql'), 'SELECT 10;');
    writeFileSync(join(d, '002_second.sql'), 'SELECT 2;');
    writeFileSync(join(d, '001_first.sql'), '-- migrate:no-transaction\nSELECT 1;');
    writeFileSync(join(d, 'README.md'), '# notes');
    const m = loadMigrations(d);
    expect(m.map((x) => x.name)).toEqual(['001_first.sql', '002_second.sql', '010_later.sql']);
    expect(m[0]!.transactional).toBe(false);
    expect(m[1]!.transactional).toBe(true);
    expect(m[1]!.checksum).toBe(checksumOf('SELECT 2;'));
  });

  it('treats a missing directory as nothing to do', () => {
    expect(loadMigrations(join(tmpdir(), 'does-not-exist-ridecdc'))).toEqual([]);
  });

  it('rejects badly named files and duplicate versions', () => {
    const a = dir();
    writeFileSync(join(a, 'schema.sql'), 'SELECT 1;');
    expect(() => loadMigrations(a)).toThrow(MigrationError);
    const b = dir();
    writeFileSync(join(b, '001_a.sql'), 'SELECT 1;');
    writeFileSync(join(b, '001_b.sql'), 'SELECT 1;');
    expect(() => loadMigrations(b)).toThrow(/share version 1/);
  });

  it('checksums ignore CRLF vs LF', () => {
    expect(checksumOf('a\r\nb')).toBe(checksumOf('a\nb'));
  });
});

describe('splitSqlStatements', () => {
  it('splits at top-level semicolons only', () => {
    const sql = `-- header; with a semicolon
CREATE TABLE a (v text DEFAULT 'x;y');
/* block; /* nested; */ still comment */
DO $$ BEGIN PERFORM 1; END $$;
CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;
SELECT "odd;name" FROM a;
-- trailing comment only`;
    expect(splitSqlStatements(sql)).toEqual([
      "-- header; with a semicolon\nCREATE TABLE a (v text DEFAULT 'x;y')",
      '/* block; /* nested; */ still comment */\nDO $$ BEGIN PERFORM 1; END $$',
      'CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql',
      'SELECT "odd;name" FROM a',
    ]);
  });
});
