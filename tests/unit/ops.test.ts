import { describe, expect, it } from 'vitest';
import { quantile, slaVerdict } from '../../src/ops/quantiles.js';
import { checkTable, checksExitCode, table } from '../../src/ops/table.js';
import { compareVersions, javaMajor, mavenVersion } from '../../src/ops/versions.js';

describe('ops: table formatting', () => {
  it('pads columns to the widest cell and trims line ends', () => {
    expect(
      table([
        ['A', 'BB'],
        ['ccc', 'd'],
        ['e', ''],
      ]),
    ).toBe('A    BB\nccc  d\ne');
  });

  it('prints statuses upper-case and fails the command only on FAIL', () => {
    const rows = [
      { component: 'kafka', status: 'ok' as const, detail: '1 broker(s)' },
      { component: 'prometheus', status: 'warn' as const, detail: 'not reachable' },
    ];
    expect(checkTable(rows).split('\n')).toEqual([
      'COMPONENT   STATUS  DETAIL',
      'kafka       OK      1 broker(s)',
      'prometheus  WARN    not reachable',
    ]);
    expect(checksExitCode(rows)).toBe(0);
    expect(checksExitCode([...rows, { component: 'worker', status: 'fail', detail: '/readyz 503' }])).toBe(1);
  });
});

describe('ops: quantiles and SLA verdicts', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100, shuffled below
  const shuffled = [...hundred].sort((a, b) => ((a * 37) % 101) - ((b * 37) % 101));

  it('nearest-rank quantiles are observed values, independent of input order', () => {
    expect(quantile(shuffled, 0.5)).toBe(50);
    expect(quantile(shuffled, 0.95)).toBe(95);
    expect(quantile(shuffled, 0.99)).toBe(99);
    expect(quantile(shuffled, 1)).toBe(100);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([1, 2], 0.5)).toBe(1);
    expect(() => quantile([], 0.5)).toThrow(/no samples/);
    expect(() => quantile([1], 0)).toThrow(/0 < q/);
  });

  it('passes within the SLA and names every breach otherwise', () => {
    const ok = slaVerdict('es', shuffled, { p95Ms: 95, p99Ms: 99 });
    expect(ok).toMatchObject({ ok: true, n: 100, lost: 0, p50: 50, p95: 95, p99: 99, max: 100, reasons: [] });
    const over = slaVerdict('es', shuffled, { p95Ms: 90, p99Ms: 99 });
    expect(over.ok).toBe(false);
    expect(over.reasons).toEqual(['p95 95 ms > SLA 90 ms']);
  });

  it('a lost probe is never hidden by good quantiles', () => {
    const samples = [...hundred.slice(0, 99).map(() => 10), Number.POSITIVE_INFINITY];
    const v = slaVerdict('mart', samples, { p95Ms: 1000, p99Ms: 1000 });
    expect(v.p95).toBe(10);
    expect(v.lost).toBe(1);
    expect(v.ok).toBe(false);
    expect(v.reasons).toEqual(['1 of 100 probes never arrived']);
  });
});

describe('ops: toolchain versions', () => {
  it('reads Java majors, modern and legacy', () => {
    expect(javaMajor('openjdk version "17.0.13" 2024-10-15\nOpenJDK Runtime Environment')).toBe(17);
    expect(javaMajor('openjdk version "21" 2023-09-19')).toBe(21);
    expect(javaMajor('java version "1.8.0_392"')).toBe(8);
    expect(javaMajor('command not found')).toBeUndefined();
  });

  it('reads Maven versions and compares dotted versions numerically', () => {
    expect(mavenVersion('Apache Maven 3.8.7\nMaven home: /usr/share/maven')).toBe('3.8.7');
    expect(mavenVersion('nothing')).toBeUndefined();
    expect(compareVersions('3.8.7', '3.6.0')).toBe(1);
    expect(compareVersions('3.10.0', '3.9.9')).toBe(1);
    expect(compareVersions('3.6', '3.6.0')).toBe(0);
    expect(compareVersions('3.5.4', '3.6.0')).toBe(-1);
  });
});

describe('tail: any Debezium topic', () => {
  it('maps <prefix>.<schema>.<table> to the table, whatever the prefix or schema', async () => {
    const { anyDebeziumTable } = await import('../../src/decode/decoder.js');
    expect(anyDebeziumTable('ride.public.bookings')).toBe('bookings');
    expect(anyDebeziumTable('e2eab12.public.audit_log')).toBe('audit_log');
    expect(anyDebeziumTable('ride.billing.invoices')).toBe('invoices');
    expect(anyDebeziumTable('__debezium-heartbeat.ride')).toBeNull();
    expect(anyDebeziumTable('ride-cdc.dlq')).toBeNull();
  });
});
