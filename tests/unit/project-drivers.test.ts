import { describe, expect, it } from 'vitest';
import { UNCHANGED } from '../../src/decode/change-event.js';
import { mergeDriverDoc } from '../../src/project/drivers/merge-latest.js';
import { projectDriver, projectDriverLocation } from '../../src/project/drivers/project-drivers.js';
import type { DriverDelete, DriverPatch } from '../../src/project/intents.js';
import { projectToElasticsearch } from '../../src/project/project-es.js';
import { changeEvent } from './fixtures-events.js';

const loc = (lsn: number, lat: number, at = '2026-11-21T04:00:00.000000Z') =>
  changeEvent(
    'driver_locations',
    'u',
    { driver_id: 7, lat, lon: 106.7, heading: 90, speed_kmh: 30, zone_id: 1, updated_at: at },
    { lsn },
  );
const status = (lsn: number, s: string) =>
  changeEvent(
    'drivers',
    'u',
    {
      id: 7,
      status: s,
      vehicle_type: 'car',
      home_zone_id: 1,
      full_name: 'A',
      plate_number: '51A',
      updated_at: '2026-11-21T04:00:01.000000Z',
      phone: 'x',
      created_at: 'y',
    },
    { lsn },
  );

describe('driver location projection', () => {
  it('emits the location part and one time-series document keyed by table, driver and LSN', () => {
    const intents = projectDriverLocation(loc(555, 10.77, '2026-11-21T23:59:59.999999Z'));
    expect(intents).toHaveLength(2);
    const [patch, ts] = intents;
    expect(patch).toMatchObject({
      kind: 'driver-patch',
      driverId: '7',
      part: 'location',
      lsn: 555,
      fields: { location: { lat: 10.77, lon: 106.7 }, zone_id: 1 },
    });
    expect(ts).toMatchObject({
      kind: 'timeseries-doc',
      family: 'driver_locations_timeseries',
      id: 'driver_locations:7:555',
      timestamp: '2026-11-21T23:59:59.999999Z',
      mode: 'create',
    });
  });
  it('the same event twice gives the same ids (replays land on the same document)', () => {
    expect(projectDriverLocation(loc(9, 1))).toEqual(projectDriverLocation(loc(9, 1)));
  });
  it('status changes carry only the status part, without personal data like the phone', () => {
    const [p] = projectDriver(status(600, 'busy')) as DriverPatch[];
    expect(p!.part).toBe('status');
    expect(p!.fields).toEqual({
      status: 'busy',
      vehicle_type: 'car',
      home_zone_id: 1,
      full_name: 'A',
      plate_number: '51A',
      status_updated_at: '2026-11-21T04:00:01.000000Z',
    });
  });
  it('TOAST-unchanged columns are never written as data', () => {
    const e = status(601, 'available');
    e.after!.full_name = UNCHANGED;
    const [p] = projectDriver(e) as DriverPatch[];
    expect('full_name' in p!.fields).toBe(false);
  });
  it('a deleted driver deletes the document; other tables feed only the mart', () => {
    expect(projectDriver(changeEvent('drivers', 'd', null, { before: { id: 7 }, lsn: 700 }))).toMatchObject([
      { kind: 'driver-delete', driverId: '7' },
    ]);
    expect(projectToElasticsearch([changeEvent('payments', 'c', { id: 1 })])).toEqual([]);
  });
});

describe('mergeDriverDoc', () => {
  const patches = (...es: ReturnType<typeof loc>[]) =>
    es
      .flatMap((e) => (e.table === 'drivers' ? projectDriver(e) : projectDriverLocation(e)))
      .filter((i) => i.kind !== 'timeseries-doc') as (DriverPatch | DriverDelete)[];

  it('merges parts from two tables whatever order they arrive in', () => {
    const a = mergeDriverDoc(null, patches(loc(120, 10.8), status(110, 'busy')));
    const b = mergeDriverDoc(null, patches(status(110, 'busy'), loc(120, 10.8)));
    expect(a.doc).toEqual(b.doc);
    expect(a.doc).toMatchObject({
      driver_id: 7,
      status: 'busy',
      location: { lat: 10.8, lon: 106.7 },
      location_lsn: 120,
      status_lsn: 110,
      source_lsn: 120,
    });
  });
  it('rejects stale and replayed parts and counts them', () => {
    const first = mergeDriverDoc(null, patches(loc(200, 11)));
    const replay = mergeDriverDoc(first.doc, patches(loc(150, 9), loc(200, 11)));
    expect(replay.changed).toBe(false);
    expect(replay.stale).toBe(2);
    expect(replay.doc).toEqual(first.doc);
  });
  it('applies a batch of updates in order, the newest LSN wins', () => {
    const r = mergeDriverDoc(null, patches(loc(1, 1), loc(2, 2), loc(3, 3)));
    expect(r.doc!.location).toEqual({ lat: 3, lon: 106.7 });
  });
  it('delete removes the document unless a newer part already arrived', () => {
    const doc = mergeDriverDoc(null, patches(loc(5, 1))).doc;
    expect(
      mergeDriverDoc(doc, [
        { kind: 'driver-delete', driverId: '7', lsn: 6, origin: { topic: 't', partition: 0, offset: '1' } },
      ]).doc,
    ).toBeNull();
    expect(
      mergeDriverDoc(doc, [
        { kind: 'driver-delete', driverId: '7', lsn: 4, origin: { topic: 't', partition: 0, offset: '1' } },
      ]).stale,
    ).toBe(1);
  });

  describe('a deleted driver (issue #9 item 8): the delete wins over older patches, loses to newer ones', () => {
    const del = (lsn: number) =>
      patches(changeEvent('drivers', 'd', null, { before: { id: 7 }, key: { id: 7 }, lsn }));
    const locDelete = (lsn: number) =>
      patches(changeEvent('driver_locations', 'd', null, { before: { driver_id: 7 }, lsn }));
    /** Applies each group as its own write (each a batch of another partition), the tombstone kept between. */
    const sequence = (...groups: (DriverPatch | DriverDelete)[][]) => {
      let doc = null as ReturnType<typeof mergeDriverDoc>['doc'];
      let tomb: number | null = null;
      for (const g of groups) ({ doc, tombstone: tomb } = mergeDriverDoc(doc, g, tomb));
      return { doc, tomb };
    };
    const live = [...patches(status(100, 'available')), ...patches(loc(110, 10.8))];

    it('an older location processed after the delete does not bring the document back', () => {
      expect(sequence(live, del(200), patches(loc(150, 10.9))).doc).toBeNull();
    });
    it('the cascaded location delete (newer LSN) in either order leaves no document', () => {
      // DELETE FROM drivers cascades to driver_locations: drivers row at 200, location row at 201.
      expect(sequence(live, del(200), locDelete(201)).doc).toBeNull();
      expect(sequence(live, locDelete(201), del(200)).doc).toBeNull();
    });
    it('either merge order of the delete and a stale patch ends the same, in one batch or two', () => {
      const orders = [
        sequence(live, del(200), patches(status(150, 'busy'))),
        sequence(live, patches(status(150, 'busy')), del(200)),
        sequence(live, [...del(200), ...patches(status(150, 'busy'))]),
        sequence(live, [...patches(status(150, 'busy')), ...del(200)]),
      ];
      for (const o of orders) expect(o).toEqual({ doc: null, tomb: 200 });
    });
    it('a newer row with the same id (inserted again) wins over the delete, in either order', () => {
      const again = patches(status(300, 'offline'));
      const a = sequence(live, del(200), again);
      const b = sequence(live, again, del(200));
      expect(a.doc).toEqual(b.doc);
      expect(a.doc).toMatchObject({ driver_id: 7, status: 'offline', status_lsn: 300, source_lsn: 300 });
      expect(a.doc).not.toHaveProperty('location'); // the old location belonged to the deleted row
    });
    it('the delete is idempotent: a replay changes nothing', () => {
      const gone = mergeDriverDoc(null, del(200), 200);
      expect(gone).toMatchObject({ doc: null, changed: false, tombstone: 200 });
    });
  });
});
