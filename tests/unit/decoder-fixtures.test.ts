import { beforeAll, describe, expect, it } from 'vitest';
import { UNCHANGED, type ChangeEvent } from '../../src/decode/change-event.js';
import { TOAST_PLACEHOLDER } from '../../src/decode/logical-types.js';
import type { DecodedMessage } from '../../src/decode/envelope.js';
import { frame } from '../../src/decode/wire-format.js';
import { PoisonMessageError } from '../../src/shared/errors.js';
import { UnknownSchemaError } from '../../src/decode/schema-source.js';
import { projectToElasticsearch } from '../../src/project/project-es.js';
import {
  decodeAll,
  fixtureDecoder,
  type FixtureMessage,
} from '../../src/stack/fixtures/captured-messages.js';

/** The decoder against real bytes captured from Debezium 3.4.3 + Apicurio 3.0.9 (no services). */
describe('decoder on captured Debezium messages', () => {
  let all: { msg: FixtureMessage; decoded: DecodedMessage }[];
  const byLabel = (label: string): DecodedMessage => {
    const hit = all.find((x) => x.msg.label === label);
    if (!hit) throw new Error(`no fixture labelled ${label}`);
    return hit.decoded;
  };
  const change = (label: string): ChangeEvent => {
    const d = byLabel(label);
    if (d.kind !== 'change') throw new Error(`${label} is ${d.kind}`);
    return d.event;
  };

  beforeAll(async () => {
    all = await decodeAll();
  });

  it('decodes every captured message into a change, tombstone or heartbeat', () => {
    expect(all.length).toBeGreaterThan(40);
    const kinds = new Set(all.map((x) => x.decoded.kind));
    expect([...kinds].sort()).toEqual(['change', 'heartbeat', 'tombstone']);
    for (const { msg, decoded } of all)
      if (msg.value === null) expect(decoded.kind, msg.label).toBe('tombstone');
  });

  it('carries op, position and snapshot flag from the envelope', () => {
    const r = change('snapshot read bookings id=2');
    expect(r).toMatchObject({ table: 'bookings', op: 'r', snapshot: true, key: { id: '2' } });
    const c = change('insert bookings id=3');
    expect(c).toMatchObject({ op: 'c', snapshot: false, before: null });
    expect(c.lsn).toBeGreaterThan(0);
    expect(c.sourceTsMs).toBeGreaterThan(1.7e12);
    const u = change('update bookings id=3 (completed)');
    expect(u.op).toBe('u');
    expect(u.lsn).toBeGreaterThan(c.lsn);
    const d = change('delete bookings id=4');
    expect(d).toMatchObject({ op: 'd', after: null, key: { id: '4' } });
    expect(d.before!.id).toBe('4'); // bigserial: a decimal string
  });

  it('normalises numeric, timestamptz, enum, jsonb and uuid columns of the ride schema', () => {
    const a = change('update bookings id=3 (completed)').after!;
    expect(a.status).toBe('completed');
    expect(a.final_fare).toMatch(/^\d+\.\d{2}$/);
    expect(a.distance_km).toMatch(/^\d+\.\d{3}$/);
    expect(a.surge_multiplier).toMatch(/^\d+\.\d{2}$/);
    expect(a.completed_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect(a.booking_uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(typeof JSON.parse(a.metadata as string)).toBe('object'); // the exact JSON text
    const p = change('insert payments id=2').after!;
    for (const col of ['amount', 'platform_fee', 'driver_earnings']) expect(p[col]).toMatch(/^\d+\.\d{2}$/);
  });

  it('turns the TOAST placeholder into UNCHANGED, and projections never write it', () => {
    const e = change('update bookings id=2 (unchanged TOASTed metadata → __debezium_unavailable_value)');
    expect(e.after!.metadata).toBe(UNCHANGED);
    const docs = projectToElasticsearch([e]);
    expect(docs.length).toBeGreaterThan(0);
    expect(JSON.stringify(docs)).not.toContain(TOAST_PLACEHOLDER);
  });

  it('decodes every logical type of the type zoo exactly', () => {
    const a = change('snapshot read type_zoo id=1').after!;
    expect(a).toMatchObject({
      d: '2026-03-01',
      t: '08:15:30.123456',
      ts: '2026-03-01T08:15:30.123456Z',
      ts3: '2026-03-01T08:15:30.123000Z',
      tstz: '2026-03-01T01:15:30.123456Z',
      n_var: '12345.6789',
      n_fixed: '-98765432109876.543210',
      money_v: '1234.56',
      i8: '9007199254740993', // beyond 2^53: kept exact as a string
      u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      j: '{"a": [1, 2.5, "x"], "b": null}',
      jb: '{"a": {"nested": true}, "z": 1}',
      pt: { lon: 106.7009, lat: 10.7769 },
      ints: [1, 2, null, 4],
      texts: ['a', 'b c', null],
      status: 'busy',
    });
    const edge = change('insert type_zoo id=2 (edge values and NULLs)').after!;
    expect(edge).toMatchObject({
      d: '1900-01-01',
      ts: '1970-01-01T00:00:00.000000Z',
      tstz: '1969-12-31T23:59:59.999999Z',
      n_var: '-0.000001',
      ints: [],
      money_v: null,
    });
    expect(change('update type_zoo id=1').after!.n_var).toBe('0.00000000000000000001');
  });

  it('reads heartbeats and tombstones without errors', () => {
    const hb = byLabel('heartbeat');
    expect(hb.kind).toBe('heartbeat');
    expect((hb as { tsMs: number }).tsMs).toBeGreaterThan(1.7e12);
    expect(byLabel('tombstone after delete bookings id=4')).toEqual({ kind: 'tombstone', key: { id: '4' } });
  });

  it('classifies bad input: garbage is poison, an unknown schema id is dead-lettered', async () => {
    const d = fixtureDecoder();
    const meta = { topic: 'ride.public.bookings', partition: 0, offset: '1' };
    await expect(d.decode({ ...meta, key: null, value: Buffer.from('garbage!') })).rejects.toBeInstanceOf(
      PoisonMessageError,
    );
    await expect(
      d.decode({ ...meta, key: null, value: frame(999_999, Buffer.from([1, 2])) }),
    ).rejects.toBeInstanceOf(UnknownSchemaError);
    const good = all.find((x) => x.msg.label === 'insert bookings id=3')!.msg.value!;
    const truncated = good.subarray(0, 12);
    await expect(d.decode({ ...meta, key: null, value: truncated })).rejects.toMatchObject({
      reason: 'avro-decode-failed',
    });
    await expect(
      d.decode({ ...meta, topic: 'other.public.x', key: null, value: good }),
    ).rejects.toMatchObject({ reason: 'unexpected-topic' });
  });

  it('decodeNow waits for nothing: undefined until the schemas are resolved, then what decode gives', async () => {
    const d = fixtureDecoder();
    for (const { msg } of all) {
      const now = d.decodeNow(msg);
      const later = await d.decode(msg);
      // The first message of each schema (and every heartbeat: not a table topic) must resolve.
      if (now !== undefined) expect(now, msg.label).toEqual(later);
      expect(d.decodeNow(msg), msg.label).toEqual(
        msg.topic.startsWith('__debezium-heartbeat') ? undefined : later,
      );
    }
    const meta = { topic: 'ride.public.bookings', partition: 0, offset: '1' };
    expect(() => d.decodeNow({ ...meta, key: null, value: Buffer.from('garbage!') })).toThrow(
      PoisonMessageError,
    );
    expect(d.decodeNow({ ...meta, key: null, value: frame(999_999, Buffer.from([1, 2])) })).toBeUndefined();
  });
});
