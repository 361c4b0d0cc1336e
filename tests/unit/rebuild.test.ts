import { describe, expect, it } from 'vitest';
import type { Admin } from 'kafkajs';
import { foldMart, rowsTouched } from '../../src/project/mart-fold.js';
import type { RatingState } from '../../src/project/metrics/state.js';
import { REBUILD_LSN, rebuildEvents } from '../../src/batch/rebuild/rebuild-events.js';
import { rebuildIntents, viewsFedBy } from '../../src/batch/rebuild/rebuild-es.js';
import { metricsReading } from '../../src/batch/rebuild/rebuild-mart.js';
import { assertNoWorker, checkTables } from '../../src/batch/rebuild/rebuild.js';
import { decoderFormExpr, sourceRowsSql } from '../../src/batch/rebuild/source-rows.js';
import { tablesToRead } from '../../src/batch/rebuild/snapshot.js';
import { rebuildCommand } from '../../src/worker/pipeline/truncate-stage.js';
import { ConfigError } from '../../src/shared/errors.js';

const rating = (id: string, score: string): RatingState => ({
  id,
  booking_id: '10',
  rater_type: 'passenger',
  rater_id: '1',
  ratee_id: '2',
  score,
  rated_at: '2026-11-21T04:21:00.000000Z',
});

describe('mart rebuild: a table from its current source rows', () => {
  it('current rows become snapshot reads, rows the mart holds but the source lost become deletes', () => {
    const rows = [
      {
        id: '1',
        booking_id: '10',
        rater_type: 'passenger',
        rater_id: '1',
        ratee_id: '2',
        score: 5,
        rated_at: 'x',
      },
      {
        id: '3',
        booking_id: '11',
        rater_type: 'driver',
        rater_id: '2',
        ratee_id: '1',
        score: 4,
        rated_at: 'y',
      },
    ];
    const evs = rebuildEvents('ratings', 'id', rows, ['1', '2']);
    expect(evs.map((e) => [e.op, e.key])).toEqual([
      ['r', { id: '1' }],
      ['r', { id: '3' }],
      ['d', { id: '2' }],
    ]);
    expect(evs.every((e) => e.lsn === REBUILD_LSN && e.snapshot)).toBe(true);
  });

  it('through the worker fold: the stored states become exactly the source rows (truncate: all removed)', () => {
    const stored = new Map([
      ['1', rating('1', '3')],
      ['2', rating('2', '4')],
    ]);
    // After TRUNCATE ratings and one new rating: row 5 only.
    const fresh = { ...rating('5', '5') };
    const fold = foldMart(rowsTouched(rebuildEvents('ratings', 'id', [fresh], [...stored.keys()])), {
      ratings: stored,
    });
    expect(fold.rejected).toEqual([]);
    expect(fold.states).toEqual([{ table: 'ratings', upserts: [fresh], deletes: ['1', '2'] }]);
  });

  it('reads every column in the form the decoder gives the projections', () => {
    expect(decoderFormExpr({ name: 'rated_at', dataType: 'timestamp with time zone' })).toBe(
      `to_char("rated_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "rated_at"`,
    );
    expect(decoderFormExpr({ name: 'amount', dataType: 'numeric' })).toBe('"amount"::text AS "amount"');
    expect(decoderFormExpr({ name: 'id', dataType: 'bigint' })).toBe('"id"::text AS "id"');
    expect(decoderFormExpr({ name: 'status', dataType: 'USER-DEFINED' })).toBe('"status"::text AS "status"');
    expect(decoderFormExpr({ name: 'score', dataType: 'smallint' })).toBe('"score"');
    expect(sourceRowsSql('ratings', [{ name: 'id', dataType: 'bigint' }], 'id')).toBe(
      'SELECT "id"::text AS "id" FROM public."ratings" ORDER BY "id"',
    );
  });

  it('knows which views and KPIs a table feeds', () => {
    expect(viewsFedBy('bookings')).toEqual(['booking_events']);
    expect(viewsFedBy('driver_locations')).toEqual(['driver_locations']);
    expect(viewsFedBy('ratings')).toEqual([]);
    expect(tablesToRead('driver_locations')).toEqual(['drivers', 'driver_locations']);
    const names = metricsReading(['ratings']).map((m) => m.name);
    expect(names.length).toBeGreaterThan(0);
    expect(metricsReading(['ratings']).every((m) => m.parts.some((p) => p.source === 'ratings'))).toBe(true);
  });

  it('Elasticsearch: booking step documents and driver documents from rows, never a time-series document', () => {
    const booking = {
      id: '7',
      status: 'accepted',
      vehicle_type: 'car',
      pickup_lat: 10.77,
      pickup_lon: 106.7,
      dropoff_lat: 10.78,
      dropoff_lon: 106.71,
      requested_at: '2026-11-21T04:00:00.000000Z',
      accepted_at: '2026-11-21T04:01:00.000000Z',
    };
    const bookings = rebuildIntents('booking_events', {
      rows: new Map([['bookings', [booking]]]),
      extra: new Map(),
    });
    expect(bookings.map((i) => (i.kind === 'timeseries-doc' ? i.id : i.kind))).toEqual([
      'booking:7:requested',
      'booking:7:accepted',
    ]);
    const drivers = rebuildIntents('driver_locations', {
      rows: new Map([['driver_locations', [{ driver_id: '3', lat: 10.7, lon: 106.6, updated_at: 'z' }]]]),
      extra: new Map([['drivers', [{ id: '3', status: 'available', vehicle_type: 'car' }]]]),
    });
    expect(drivers.map((i) => `${i.kind}:${i.kind === 'driver-patch' ? `${i.part}@${i.lsn}` : ''}`)).toEqual([
      'driver-patch:status@0',
      'driver-patch:location@0',
    ]);
  });

  it('refuses unknown tables and a consumer group that still has a worker', async () => {
    expect(() => checkTables(['rating'])).toThrow(ConfigError);
    expect(() => checkTables([])).toThrow(ConfigError);
    expect(() => checkTables(['ratings', 'payments'])).not.toThrow();
    const admin = (members: number) =>
      ({
        describeGroups: async () => ({
          groups: [
            {
              groupId: 'g',
              state: members ? 'Stable' : 'Empty',
              members: Array.from({ length: members }, () => ({
                clientId: 'ride-cdc',
                clientHost: '/127.0.0.1',
              })),
            },
          ],
        }),
      }) as unknown as Admin;
    await expect(assertNoWorker(admin(1), 'g')).rejects.toThrow(/still has 1 member.*stop every worker/);
    await expect(assertNoWorker(admin(0), 'g')).resolves.toBeUndefined();
    expect(rebuildCommand('ratings')).toBe('ride-cdc mart rebuild --table ratings');
  });
});
