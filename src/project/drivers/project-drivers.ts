import type { ChangeEvent } from '../../decode/change-event.js';
import { FAMILY, type EsIntent, type Origin } from '../intents.js';
import { idOf, knownFields, num, str } from '../row.js';

const STATUS_FIELDS = [
  'status',
  'vehicle_type',
  'home_zone_id',
  'full_name',
  'plate_number',
  'updated_at',
] as const;

function originOf(e: ChangeEvent): Origin {
  return { topic: e.topic, partition: e.partition, offset: e.offset };
}

/**
 * driver_locations row change → the location part of the driver's latest document, plus one
 * time-series document per change. The time-series id is (table, driver, LSN): Debezium re-emits
 * the same LSN after a connector restart, so a duplicate lands on the same document.
 */
export function projectDriverLocation(e: ChangeEvent): EsIntent[] {
  const origin = originOf(e);
  const driverId = idOf(e.after, 'driver_id') ?? idOf(e.before, 'driver_id') ?? idOf(e.key, 'driver_id');
  if (driverId === null) return [];
  if (e.op === 'd') {
    // The row is gone: drop the location part; the driver document itself goes with the driver row.
    return [
      {
        kind: 'driver-patch',
        driverId,
        part: 'location',
        lsn: e.lsn,
        fields: { location: null, heading: null, speed_kmh: null, zone_id: null, location_updated_at: null },
        origin,
      },
    ];
  }
  if (e.op === 't' || !e.after) return [];
  const a = e.after;
  const lat = num(a.lat);
  const lon = num(a.lon);
  const updatedAt = str(a.updated_at);
  const fields: Record<string, unknown> = {
    location: lat !== null && lon !== null ? { lat, lon } : null,
    heading: num(a.heading),
    speed_kmh: num(a.speed_kmh),
    zone_id: num(a.zone_id),
    location_updated_at: updatedAt,
  };
  const intents: EsIntent[] = [
    { kind: 'driver-patch', driverId, part: 'location', lsn: e.lsn, fields, origin },
  ];
  if (updatedAt !== null) {
    intents.push({
      kind: 'timeseries-doc',
      family: FAMILY.driverTimeseries,
      timestamp: updatedAt,
      id: `driver_locations:${driverId}:${e.lsn}`,
      mode: 'create',
      doc: {
        '@timestamp': updatedAt,
        driver_id: Number(driverId),
        location: fields.location,
        heading: fields.heading,
        speed_kmh: fields.speed_kmh,
        zone_id: fields.zone_id,
        source_lsn: e.lsn,
        source_ts_ms: e.sourceTsMs,
        op: e.op,
      },
      origin,
    });
  }
  return intents;
}

/** drivers row change → the status part of the same latest document; a deleted driver removes it. */
export function projectDriver(e: ChangeEvent): EsIntent[] {
  const origin = originOf(e);
  const driverId = idOf(e.after, 'id') ?? idOf(e.before, 'id') ?? idOf(e.key, 'id');
  if (driverId === null || e.op === 't') return [];
  if (e.op === 'd') return [{ kind: 'driver-delete', driverId, lsn: e.lsn, origin }];
  if (!e.after) return [];
  const fields = knownFields(e.after, STATUS_FIELDS);
  if ('updated_at' in fields) {
    fields.status_updated_at = fields.updated_at;
    delete fields.updated_at;
  }
  return [{ kind: 'driver-patch', driverId, part: 'status', lsn: e.lsn, fields, origin }];
}
