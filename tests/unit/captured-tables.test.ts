import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CAPTURED_TABLES } from '../../src/config/captured-tables.js';

describe('one list of captured tables', () => {
  it('the publication captures exactly CAPTURED_TABLES', () => {
    const sql = readFileSync('mart-sql/source/001_schema.sql', 'utf8');
    const m = /CREATE PUBLICATION ride_cdc_pub FOR TABLE ([^;]+);/.exec(sql);
    expect(m?.[1]?.split(',').map((t) => t.trim())).toEqual([...CAPTURED_TABLES]);
  });

  it("Debezium's role may read exactly CAPTURED_TABLES (mart-sql/source/003_debezium_role.sql)", () => {
    const sql = readFileSync('mart-sql/source/003_debezium_role.sql', 'utf8');
    const grants = [...sql.matchAll(/^GRANT SELECT ON ([^;]+) TO ride_cdc_debezium;/gm)];
    expect(grants).toHaveLength(1);
    expect(grants[0]![1]!.split(',').map((t) => t.trim())).toEqual([...CAPTURED_TABLES]);
    expect(sql).toMatch(/CREATE ROLE ride_cdc_debezium NOLOGIN REPLICATION;/);
    expect(sql).not.toMatch(/GRANT (INSERT|UPDATE|DELETE|TRUNCATE|ALL|CREATE)/i);
  });

  it("the connector's table.include.list is exactly CAPTURED_TABLES", () => {
    const c = JSON.parse(readFileSync('connectors/ride-hailing-postgres.json', 'utf8')) as {
      config: Record<string, string>;
    };
    expect(c.config['table.include.list']!.split(',')).toEqual(CAPTURED_TABLES.map((t) => `public.${t}`));
  });
});
