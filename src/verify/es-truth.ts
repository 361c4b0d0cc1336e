import type { Client } from '@elastic/elasticsearch';
import type pg from 'pg';
import type { TimeRange } from './mart-truth.js';
import { BOOKING_STEPS } from '../project/bookings/project-booking-events.js';

/**
 * Compares Elasticsearch with SQL over ride_hailing_db and returns every difference found (an
 * empty list means exact). Used by `ride-cdc verify` and by the end-to-end tests after the
 * pipeline has drained. With a range, the time-stamped views (booking events, location time
 * series) are compared for documents whose @timestamp is in [since, until); the latest driver view
 * is current state and always compared whole.
 */
export interface EsDiff {
  what: string;
  expected: unknown;
  actual: unknown;
}

type Queryable = Pick<pg.ClientBase, 'query'>;

async function allDocs<T>(
  es: Client,
  index: string,
  range?: TimeRange,
  fields?: string[],
): Promise<{ id: string; source: T }[]> {
  const out: { id: string; source: T }[] = [];
  let res = await es.search<T>({
    index,
    size: 5000,
    scroll: '1m',
    allow_no_indices: true,
    ignore_unavailable: true,
    ...(fields ? { _source: fields } : {}),
    query: range
      ? { range: { '@timestamp': { gte: range.since.toISOString(), lt: range.until.toISOString() } } }
      : { match_all: {} },
  });
  try {
    while (res.hits.hits.length > 0) {
      for (const h of res.hits.hits) out.push({ id: h._id!, source: h._source as T });
      res = await es.scroll<T>({ scroll_id: res._scroll_id!, scroll: '1m' });
    }
  } finally {
    if (res._scroll_id) await es.clearScroll({ scroll_id: res._scroll_id }).catch(() => undefined);
  }
  return out;
}

export async function diffDriverLatest(source: Queryable, es: Client, prefix: string): Promise<EsDiff[]> {
  await es.indices.refresh({ index: `${prefix}driver_locations` });
  const rows = (
    await source.query<{
      id: string;
      status: string;
      vehicle_type: string;
      lat: number | null;
      lon: number | null;
      zone_id: number | null;
    }>(
      `SELECT d.id::text, d.status::text, d.vehicle_type::text, l.lat, l.lon, l.zone_id
         FROM drivers d LEFT JOIN driver_locations l ON l.driver_id = d.id`,
    )
  ).rows;
  const docs = new Map(
    (await allDocs<Record<string, unknown>>(es, `${prefix}driver_locations`)).map((d) => [d.id, d.source]),
  );
  const diffs: EsDiff[] = [];
  if (docs.size !== rows.length)
    diffs.push({ what: 'driver document count', expected: rows.length, actual: docs.size });
  for (const r of rows) {
    const d = docs.get(r.id);
    if (!d) {
      diffs.push({ what: `driver ${r.id} document`, expected: 'present', actual: 'missing' });
      continue;
    }
    const loc = d.location as { lat: number; lon: number } | null | undefined;
    const expectedLoc = r.lat === null ? null : { lat: r.lat, lon: r.lon };
    if (d.status !== r.status)
      diffs.push({ what: `driver ${r.id} status`, expected: r.status, actual: d.status });
    if (d.vehicle_type !== r.vehicle_type)
      diffs.push({ what: `driver ${r.id} vehicle_type`, expected: r.vehicle_type, actual: d.vehicle_type });
    if (JSON.stringify(loc ?? null) !== JSON.stringify(expectedLoc))
      diffs.push({ what: `driver ${r.id} location`, expected: expectedLoc, actual: loc });
    if ((d.zone_id ?? null) !== r.zone_id)
      diffs.push({ what: `driver ${r.id} zone_id`, expected: r.zone_id, actual: d.zone_id });
  }
  return diffs;
}

/** Every position the source accepted (the trigger-written history) has exactly one time-series document. */
export async function diffLocationTimeseries(
  source: Queryable,
  es: Client,
  prefix: string,
  range?: TimeRange,
): Promise<EsDiff[]> {
  const index = `${prefix}driver_locations_timeseries-*`;
  await es.indices.refresh({ index, allow_no_indices: true, ignore_unavailable: true });
  const truth = new Map(
    (
      await source.query<{ driver_id: string; n: string }>(
        `SELECT driver_id::text, count(*)::text AS n FROM driver_location_history
          WHERE ${range ? 'recorded_at >= $1 AND recorded_at < $2' : 'TRUE'} GROUP BY driver_id`,
        range ? [range.since, range.until] : [],
      )
    ).rows.map((r) => [r.driver_id, Number(r.n)]),
  );
  const counts = new Map<string, number>();
  for (const d of await allDocs<{ driver_id: number }>(es, index, range, ['driver_id'])) {
    const k = String(d.source.driver_id);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const diffs: EsDiff[] = [];
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  if (total(truth) !== total(counts))
    diffs.push({ what: 'time-series document count', expected: total(truth), actual: total(counts) });
  for (const [driver, n] of truth)
    if (counts.get(driver) !== n)
      diffs.push({
        what: `driver ${driver} time-series documents`,
        expected: n,
        actual: counts.get(driver) ?? 0,
      });
  for (const driver of counts.keys())
    if (!truth.has(driver))
      diffs.push({ what: `driver ${driver} time-series documents`, expected: 0, actual: counts.get(driver) });
  return diffs;
}

/** booking_events-* holds one document per (booking, lifecycle step with a timestamp), at that timestamp. */
export async function diffBookingEvents(
  source: Queryable,
  es: Client,
  prefix: string,
  range?: TimeRange,
): Promise<EsDiff[]> {
  const index = `${prefix}booking_events-*`;
  await es.indices.refresh({ index, allow_no_indices: true, ignore_unavailable: true });
  const cols = BOOKING_STEPS.map(
    ([step, col]) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ${step}`,
  ).join(', ');
  const expected = new Map<string, string>();
  // Millisecond bounds: ts ≥ since ⇔ floor_ms(ts) ≥ since, so Date.parse (which drops µs) is exact here.
  const inRange = (ts: string) =>
    !range || (Date.parse(ts) >= range.since.getTime() && Date.parse(ts) < range.until.getTime());
  const anyStepIn = range
    ? `WHERE ${BOOKING_STEPS.map(([, col]) => `(${col} >= $1 AND ${col} < $2)`).join(' OR ')}`
    : '';
  for (const r of (
    await source.query<Record<string, string | null>>(
      `SELECT id::text, ${cols} FROM bookings ${anyStepIn}`,
      range ? [range.since, range.until] : [],
    )
  ).rows) {
    for (const [step] of BOOKING_STEPS)
      if (r[step] && inRange(r[step]!)) expected.set(`booking:${r.id}:${step}`, r[step]!);
  }
  const actual = new Map(
    (await allDocs<{ '@timestamp': string }>(es, index, range, ['@timestamp'])).map((d) => [
      d.id,
      d.source['@timestamp'],
    ]),
  );
  const diffs: EsDiff[] = [];
  if (expected.size !== actual.size)
    diffs.push({ what: 'booking event document count', expected: expected.size, actual: actual.size });
  for (const [id, ts] of expected)
    if (actual.get(id) !== ts)
      diffs.push({ what: `booking event ${id}`, expected: ts, actual: actual.get(id) ?? 'missing' });
  for (const id of actual.keys())
    if (!expected.has(id)) diffs.push({ what: `booking event ${id}`, expected: 'absent', actual: 'present' });
  return diffs;
}
