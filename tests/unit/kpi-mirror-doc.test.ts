import { describe, expect, it } from 'vitest';
import {
  mirrorDoc,
  mirrorDocId,
  rowFingerprint,
  touchedKeys,
  type MartMetricRow,
} from '../../src/sink/elasticsearch/kpi-mirror-doc.js';
import type { Delta } from '../../src/project/metrics/delta.js';
import { loadMappings } from '../../src/sink/elasticsearch/setup.js';

const B = '2026-12-01T09:41:00.000Z';

describe('KPI mirror documents', () => {
  it('ids are (metric, granularity, bucket, dimension), the same for every writer', () => {
    expect(mirrorDocId({ metric: 'gmv', granularity: 'MINUTE', bucketStart: B, dimension: 'zone:3' })).toBe(
      `gmv|MINUTE|${B}|zone:3`,
    );
    expect(
      mirrorDocId({ metric: 'drivers_online', granularity: 'CURRENT', bucketStart: null, dimension: 'all' }),
    ).toBe('drivers_online|CURRENT|current|all');
  });

  it('a batch touches each mart row once, member deltas included (they move the distinct count)', () => {
    const deltas: Delta[] = [
      {
        kind: 'add',
        metric: 'gmv',
        granularity: 'MINUTE',
        bucketStart: B,
        dimension: 'all',
        num: '1',
        den: '1',
      },
      {
        kind: 'add',
        metric: 'gmv',
        granularity: 'MINUTE',
        bucketStart: B,
        dimension: 'all',
        num: '2',
        den: '1',
      },
      {
        kind: 'member',
        metric: 'active_passengers',
        granularity: 'HOUR',
        bucketStart: '2026-12-01T09:00:00.000Z',
        dimension: 'zone:1',
        part: 'numerator',
        member: '42',
        ref: 1,
      },
    ];
    expect(touchedKeys(deltas).map(mirrorDocId)).toEqual([
      `gmv|MINUTE|${B}|all`,
      'active_passengers|HOUR|2026-12-01T09:00:00.000Z|zone:1',
    ]);
  });

  it('documents carry absolute values, the dimension split up and the catalog group', () => {
    const row: MartMetricRow = {
      metric: 'match_rate',
      granularity: 'MINUTE',
      bucketStart: B,
      dimension: 'zone:12',
      numerator: '3',
      denominator: '4',
      value: '0.750000',
      updatedAt: '2026-12-01T09:41:02.123456Z',
    };
    expect(mirrorDoc(row)).toEqual({
      metric: 'match_rate',
      metric_group: 'Operation',
      unit: expect.any(String),
      granularity: 'MINUTE',
      bucket_start: B,
      dimension: 'zone:12',
      dimension_family: 'zone',
      dimension_value: '12',
      zone_id: 12,
      value: 0.75,
      numerator: 3,
      denominator: 4,
      mart_updated_at: '2026-12-01T09:41:02.123456Z',
    });
    const all = mirrorDoc({ ...row, dimension: 'all', value: null, denominator: '0' });
    expect(all).toMatchObject({ dimension_family: 'all', dimension_value: null, zone_id: null, value: null });
    expect(mirrorDoc({ ...row, dimension: 'vehicle:bike' })).toMatchObject({
      dimension_family: 'vehicle',
      dimension_value: 'bike',
      zone_id: null,
    });
  });

  it('every document field is mapped in mappings/kpi_buckets.json', () => {
    const m = loadMappings('').find((x) => x.name === 'kpi_buckets')!;
    const props = (m.body.mappings as { properties: Record<string, unknown> }).properties;
    const doc = mirrorDoc({
      metric: 'gmv',
      granularity: 'HOUR',
      bucketStart: B,
      dimension: 'all',
      numerator: '1',
      denominator: '1',
      value: '1',
      updatedAt: B,
    });
    expect(Object.keys(doc).sort()).toEqual(Object.keys(props).sort());
  });

  it('fingerprints tell a changed or vanished row from an unchanged one', () => {
    const row = { numerator: '1', denominator: '2' } as MartMetricRow;
    expect(rowFingerprint(row)).toBe(rowFingerprint({ ...row }));
    expect(rowFingerprint(row)).not.toBe(rowFingerprint({ ...row, numerator: '2' }));
    expect(rowFingerprint(undefined)).toBe('absent');
  });
});
