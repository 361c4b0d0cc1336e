import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  businessDayOf,
  DEFAULT_BUSINESS_TIMEZONE,
  loadBatchConfig,
  parseDay,
} from '../../src/batch/business-day.js';
import { BATCH_CATALOG, batchTruthSql, renderBatchCatalog } from '../../src/batch/cohorts/catalog.js';
import { MART_BOOKINGS, SOURCE_BOOKINGS } from '../../src/batch/cohorts/sql.js';
import { ConfigError } from '../../src/shared/errors.js';

const ROOT = join(import.meta.dirname, '../..');

describe('business day', () => {
  it('defaults to Ho Chi Minh City and validates every setting at once', () => {
    expect(loadBatchConfig({})).toEqual({
      timezone: DEFAULT_BUSINESS_TIMEZONE,
      churnDays: 7,
      intervalMs: 60_000,
    });
    expect(loadBatchConfig({ BUSINESS_TIMEZONE: 'UTC', CHURN_DAYS: '14' }).churnDays).toBe(14);
    expect(() => loadBatchConfig({ BUSINESS_TIMEZONE: 'Mars/Olympus', CHURN_DAYS: '0' })).toThrow(
      /BUSINESS_TIMEZONE.*\n.*CHURN_DAYS/s,
    );
  });

  it('is the calendar day in the zone, not in UTC', () => {
    // 18:30 UTC is 01:30 the next day in UTC+7.
    expect(businessDayOf(new Date('2025-06-01T18:30:00Z'), 'Asia/Ho_Chi_Minh')).toBe('2025-06-02');
    expect(businessDayOf(new Date('2025-06-01T18:30:00Z'), 'UTC')).toBe('2025-06-01');
    expect(addDays('2025-03-01', -1)).toBe('2025-02-28');
    expect(addDays('2024-12-31', 7)).toBe('2025-01-07');
    expect(parseDay('--day', '2025-06-02')).toBe('2025-06-02');
    expect(() => parseDay('--day', '02/06/2025')).toThrow(ConfigError);
  });
});

describe('daily batch catalog', () => {
  it('runs the same SQL over the mart states and over the source', () => {
    for (const v of BATCH_CATALOG) {
      const mart = v.sql(MART_BOOKINGS);
      expect(batchTruthSql(v)).toBe(mart.split(MART_BOOKINGS).join(SOURCE_BOOKINGS));
      expect(mart).not.toContain('public.');
      // Every parameter is named once, so both sides bind the same six values.
      for (let i = 1; i <= 6; i++) expect(mart).toContain(`$${i}::`);
      expect(mart).not.toContain('$7');
      for (const c of v.key) expect(v.columns).toContain(c);
      expect(v.columns).toContain(v.dayColumn);
    }
  });

  it('docs/cohorts.md carries the rendered catalog', () => {
    const doc = readFileSync(join(ROOT, 'docs/cohorts.md'), 'utf8');
    expect(doc).toContain(renderBatchCatalog());
  });

  it('the migration creates every catalog table with its columns', () => {
    const sql = readFileSync(join(ROOT, 'mart-sql/reporting/010_cohorts.sql'), 'utf8');
    for (const v of BATCH_CATALOG) {
      const table = new RegExp(`CREATE TABLE IF NOT EXISTS mart\\.${v.name} \\(([^;]*)\\);`).exec(sql);
      expect(table, v.name).not.toBeNull();
      for (const c of v.columns) expect(table![1], `${v.name}.${c}`).toMatch(new RegExp(`\\n\\s+${c}\\s`));
    }
  });
});
