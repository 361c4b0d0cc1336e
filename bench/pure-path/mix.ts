import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import avsc from 'avsc';
import { bigintLongType } from '../../src/stack/fixtures/raw-avro.js';
import { loadFixtureMessages, type FixtureMessage } from '../../src/stack/fixtures/captured-messages.js';
import { Rng } from '../../src/generator/rng.js';

/**
 * The bench mix: a deterministic stream of Confluent-framed Avro messages shaped like the stream
 * `ride-cdc generate` produces (docs/generator.md: ~89 % driver location reports; bookings going
 * requested → accepted → arrived → in_progress → completed, or cancelled; the drivers' status
 * flipping busy/available with each trip; one payment and one rating per completed trip; a few
 * sign-ups and drivers going on/offline).
 *
 * Every message is the re-encoding of a real captured Debezium message (tests/fixtures/debezium)
 * with its ids, times, statuses and amounts changed, under the captured schema ids: the production
 * decoder reads them exactly as it reads Debezium's. Steps of one booking are thousands of events
 * apart (a trip takes seconds of simulated time at 5,000 events/s), so each lands in a later batch
 * and is folded against the state the previous batch stored — as in the worker.
 */

const FIXTURES = join(import.meta.dirname, '../../tests/fixtures/debezium');
const PREFIX = 'ride.public.';
const PARTITIONS = 3;
/** Simulated time per event: 5,000 events/s, the original system's top target. */
const MS_PER_EVENT = 0.2;
const START_MS = Date.parse('2026-03-01T08:00:00Z');

export interface MixMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

export interface Mix {
  messages: MixMessage[];
  /** Messages per table, to print what was measured. */
  perTable: Record<string, number>;
}

type Rec = Record<string, unknown>;

interface Template {
  keyId: number;
  valueId: number;
  keyType: avsc.Type;
  valueType: avsc.Type;
  key: Rec;
  envelope: Rec;
}

/** A seeded stream of numbers in [0, 1): the generator's PRNG. */
function rng(seed: number): () => number {
  const r = new Rng(String(seed));
  return () => r.next();
}

/** Minimal two's-complement big-endian bytes of an unscaled decimal (Kafka Connect Decimal). */
function decimalBytes(unscaled: bigint): Buffer {
  let hex = (unscaled < 0n ? -unscaled : unscaled).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let b = Buffer.from(hex, 'hex');
  if (unscaled >= 0n) return b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
  // Negative: two's complement of the magnitude, one byte wider if needed.
  const width = b.length + (b[0]! & 0x80 ? 1 : 0);
  const v = (1n << BigInt(width * 8)) + unscaled;
  hex = v.toString(16).padStart(width * 2, '0');
  b = Buffer.from(hex, 'hex');
  return b;
}

function frame(id: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeInt32BE(id, 1);
  return Buffer.concat([head, payload]);
}

function loadTemplates(): Map<string, Template> {
  const schemas = JSON.parse(readFileSync(join(FIXTURES, 'schemas.json'), 'utf8')) as Record<string, unknown>;
  const types = new Map<number, avsc.Type>();
  const typeOf = (id: number) => {
    let t = types.get(id);
    if (!t) {
      t = avsc.Type.forSchema(
        schemas[String(id)] as avsc.Schema,
        {
          registry: { long: bigintLongType },
        } as never,
      );
      types.set(id, t);
    }
    return t;
  };
  const wanted: Record<string, (m: FixtureMessage) => boolean> = {
    bookings: (m) => m.label === 'insert bookings id=3',
    drivers: (m) => m.label === 'update drivers id=2',
    driver_locations: (m) => m.label.startsWith('update driver_locations'),
    payments: (m) => m.label === 'insert payments id=2',
    ratings: (m) => m.label === 'insert ratings id=2',
    passengers: (m) =>
      m.label.startsWith('insert passengers') || m.label.startsWith('snapshot read passengers'),
  };
  const out = new Map<string, Template>();
  for (const m of loadFixtureMessages()) {
    const table = m.topic.slice(PREFIX.length);
    if (out.has(table) || !wanted[table]?.(m) || !m.key || !m.value) continue;
    const keyId = m.key.readInt32BE(1);
    const valueId = m.value.readInt32BE(1);
    const keyType = typeOf(keyId);
    const valueType = typeOf(valueId);
    out.set(table, {
      keyId,
      valueId,
      keyType,
      valueType,
      key: { ...(keyType.fromBuffer(m.key.subarray(5)) as Rec) },
      envelope: { ...(valueType.fromBuffer(m.value.subarray(5)) as Rec) },
    });
  }
  for (const t of Object.keys(wanted))
    if (!out.has(t)) throw new Error(`bench mix: no fixture message for ${t} in ${FIXTURES}`);
  return out;
}

/** Same JS representation as the template's value (avsc decodes some longs to number, some to BigInt). */
const like = (template: unknown, v: number): number | bigint =>
  typeof template === 'bigint' ? BigInt(v) : v;
const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

interface Booking {
  id: number;
  passenger: number;
  driver: number | null;
  zone: number;
  vehicle: string;
  requestedAt: string;
  acceptedAt: string | null;
  arrivedAt: string | null;
  startedAt: string | null;
  status: string;
  fareUnscaled: number;
}

/** Builds `events` messages of the bench mix (deterministic for a given seed). */
export function buildMix(events: number, seed = 42): Mix {
  const templates = loadTemplates();
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const messages: MixMessage[] = [];
  const offsets = new Map<string, number>();
  let lsn = 200_000_000;

  const emit = (table: string, id: number, after: Rec, op: 'c' | 'u', atMs: number) => {
    const t = templates.get(table)!;
    const keyField = Object.keys(t.key)[0]!;
    const key = { [keyField]: like(t.key[keyField], id) };
    lsn += 328;
    const source = { ...(t.envelope.source as Rec) };
    source.ts_ms = BigInt(Math.floor(atMs));
    source.ts_us = BigInt(Math.floor(atMs * 1000));
    source.ts_ns = BigInt(Math.floor(atMs * 1000)) * 1000n;
    source.lsn = BigInt(lsn);
    source.txId = BigInt(40_000 + messages.length);
    source.sequence = `["${lsn}","${lsn}"]`;
    source.snapshot = 'false';
    const envelope = {
      ...t.envelope,
      before: null,
      after: { ...(t.envelope.after as Rec), ...after },
      source,
      op,
      ts_ms: BigInt(Math.floor(atMs) + 150),
      ts_us: BigInt(Math.floor(atMs * 1000) + 150_000),
      ts_ns: (BigInt(Math.floor(atMs * 1000)) + 150_000n) * 1000n,
    };
    const topic = `${PREFIX}${table}`;
    const partition = id % PARTITIONS;
    const tp = `${topic}:${partition}`;
    const offset = offsets.get(tp) ?? 0;
    offsets.set(tp, offset + 1);
    messages.push({
      topic,
      partition,
      offset: String(offset),
      key: frame(t.keyId, t.keyType.toBuffer(key)),
      value: frame(t.valueId, t.valueType.toBuffer(envelope)),
    });
  };

  const DRIVERS = 1_000;
  const PASSENGERS = 5_000;
  const ZONES = 16;
  const VEHICLES = ['bike', 'bike', 'bike', 'car', 'car', 'xl'] as const;
  const METHODS = ['cash', 'card', 'wallet'] as const;
  const driverTemplate = templates.get('drivers')!.envelope.after as Rec;
  const drivers = Array.from({ length: DRIVERS }, (_, i) => ({
    id: i + 1,
    zone: (i % ZONES) + 1,
    vehicle: VEHICLES[i % VEHICLES.length]!,
    status: i % 5 === 0 ? 'offline' : 'available',
    lat: 10.75 + random() * 0.1,
    lon: 106.65 + random() * 0.1,
  }));
  const available = new Set(drivers.filter((d) => d.status === 'available').map((d) => d.id));
  let nextBooking = 1_000_000;
  let nextPassenger = 100_000;
  let nextPayment = 2_000_000;
  let nextRating = 3_000_000;

  // Steps due at a later event index (a small binary heap keyed by index).
  type Step = { at: number; seq: number; run: (ms: number) => void };
  const heap: Step[] = [];
  let seq = 0;
  const later = (afterEvents: number, run: (ms: number) => void) => {
    heap.push({ at: messages.length + afterEvents, seq: seq++, run });
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (before(heap[p]!, heap[i]!)) break;
      [heap[p], heap[i]] = [heap[i]!, heap[p]!];
      i = p;
    }
  };
  const before = (a: Step, b: Step) => a.at < b.at || (a.at === b.at && a.seq < b.seq);
  const popDue = (): Step | null => {
    if (heap.length === 0 || heap[0]!.at > messages.length) return null;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i]!, heap[m]!];
        i = m;
      }
    }
    return top;
  };
  // A step of a trip: 0.3–2 s of simulated time later (1.5k–10k events; durations compressed as
  // in the generator's stream mode, so trips complete within a bench pass).
  const stepDelay = () => Math.floor((300 + random() * 1_700) / MS_PER_EVENT);

  const driverEvent = (d: (typeof drivers)[number], ms: number) =>
    emit(
      'drivers',
      d.id,
      {
        id: like(driverTemplate.id, d.id),
        status: d.status,
        vehicle_type: d.vehicle,
        home_zone_id: d.zone,
        full_name: `Driver ${d.id}`,
        updated_at: iso(ms),
      },
      'u',
      ms,
    );
  const bookingEvent = (b: Booking, ms: number, extra: Rec, op: 'c' | 'u') =>
    emit(
      'bookings',
      b.id,
      {
        id: like((templates.get('bookings')!.envelope.after as Rec).id, b.id),
        booking_uuid: `b7e3c1a0-0000-4000-8000-${b.id.toString(16).padStart(12, '0')}`,
        passenger_id: BigInt(b.passenger),
        driver_id: b.driver === null ? null : BigInt(b.driver),
        status: b.status,
        vehicle_type: b.vehicle,
        pickup_zone_id: b.zone,
        dropoff_zone_id: ((b.zone + 3) % ZONES) + 1,
        requested_at: b.requestedAt,
        accepted_at: b.acceptedAt,
        arrived_at: b.arrivedAt,
        started_at: b.startedAt,
        completed_at: null,
        cancelled_at: null,
        cancelled_by: null,
        cancel_reason: null,
        estimated_fare: decimalBytes(BigInt(b.fareUnscaled)),
        final_fare: null,
        distance_km: decimalBytes(BigInt(200 + (b.id % 1800))),
        surge_multiplier: decimalBytes(b.id % 7 === 0 ? 150n : 100n),
        payment_method: METHODS[b.id % 3]!,
        metadata: '{}',
        updated_at: iso(ms),
        ...extra,
      },
      op,
      ms,
    );

  const startBooking = (ms: number) => {
    const b: Booking = {
      id: nextBooking++,
      passenger: 1 + Math.floor(random() * PASSENGERS),
      driver: null,
      zone: 1 + Math.floor(random() * ZONES),
      vehicle: pick(VEHICLES),
      requestedAt: iso(ms),
      acceptedAt: null,
      arrivedAt: null,
      startedAt: null,
      status: 'requested',
      fareUnscaled: 1_500_000 + Math.floor(random() * 20_000_000),
    };
    bookingEvent(b, ms, {}, 'c');
    later(stepDelay(), (at) => {
      const free = [...available];
      if (free.length === 0 || random() < 0.08) {
        // Cancelled by the passenger (or nobody accepted).
        b.status = 'cancelled';
        bookingEvent(
          b,
          at,
          { cancelled_at: iso(at), cancelled_by: 'passenger', cancel_reason: 'waited' },
          'u',
        );
        return;
      }
      const d = drivers[free[Math.floor(random() * free.length)]! - 1]!;
      available.delete(d.id);
      d.status = 'busy';
      b.driver = d.id;
      b.status = 'accepted';
      b.acceptedAt = iso(at);
      bookingEvent(b, at, {}, 'u');
      driverEvent(d, at);
      const release = (t: number) => {
        d.status = 'available';
        available.add(d.id);
        driverEvent(d, t);
      };
      later(stepDelay(), (at2) => {
        if (random() < 0.06) {
          b.status = 'cancelled';
          bookingEvent(
            b,
            at2,
            { cancelled_at: iso(at2), cancelled_by: 'driver', cancel_reason: 'traffic' },
            'u',
          );
          release(at2);
          return;
        }
        b.status = 'arrived';
        b.arrivedAt = iso(at2);
        bookingEvent(b, at2, {}, 'u');
        later(stepDelay(), (at3) => {
          b.status = 'in_progress';
          b.startedAt = iso(at3);
          bookingEvent(b, at3, {}, 'u');
          later(stepDelay(), (at4) => {
            b.status = 'completed';
            const fare = b.fareUnscaled + (b.id % 13) * 1_000;
            bookingEvent(b, at4, { completed_at: iso(at4), final_fare: decimalBytes(BigInt(fare)) }, 'u');
            release(at4);
            const fee = Math.floor(fare / 5);
            const paymentId = nextPayment++;
            emit(
              'payments',
              paymentId,
              {
                id: like((templates.get('payments')!.envelope.after as Rec).id, paymentId),
                booking_id: BigInt(b.id),
                amount: decimalBytes(BigInt(fare)),
                platform_fee: decimalBytes(BigInt(fee)),
                driver_earnings: decimalBytes(BigInt(fare - fee)),
                method: METHODS[b.id % 3]!,
                status: 'paid',
                paid_at: iso(at4),
              },
              'c',
              at4,
            );
            if (random() < 0.94)
              later(stepDelay(), (at5) => {
                const ratingId = nextRating++;
                emit(
                  'ratings',
                  ratingId,
                  {
                    id: like((templates.get('ratings')!.envelope.after as Rec).id, ratingId),
                    booking_id: BigInt(b.id),
                    rater_type: 'passenger',
                    rater_id: BigInt(b.passenger),
                    ratee_id: BigInt(d.id),
                    score: 3 + Math.floor(random() * 3),
                    comment: null,
                    rated_at: iso(at5),
                  },
                  'c',
                  at5,
                );
              });
          });
        });
      });
    });
  };

  const locationTemplate = templates.get('driver_locations')!.envelope.after as Rec;
  const passengerTemplate = templates.get('passengers')!.envelope.after as Rec;
  while (messages.length < events) {
    const ms = START_MS + messages.length * MS_PER_EVENT;
    const due = popDue();
    if (due) {
      due.run(ms);
      continue;
    }
    const roll = random();
    if (roll < 0.0135) startBooking(ms);
    else if (roll < 0.0145) {
      const d = pick(drivers);
      if (d.status === 'busy') continue;
      d.status = d.status === 'offline' ? 'available' : 'offline';
      if (d.status === 'available') available.add(d.id);
      else available.delete(d.id);
      driverEvent(d, ms);
    } else if (roll < 0.015) {
      const id = nextPassenger++;
      emit(
        'passengers',
        id,
        {
          id: like(passengerTemplate.id, id),
          home_zone_id: 1 + (id % ZONES),
          full_name: `Passenger ${id}`,
          created_at: iso(ms),
        },
        'c',
        ms,
      );
    } else {
      const d = pick(drivers);
      d.lat += (random() - 0.5) * 0.001;
      d.lon += (random() - 0.5) * 0.001;
      emit(
        'driver_locations',
        d.id,
        {
          driver_id: like(locationTemplate.driver_id, d.id),
          lat: d.lat,
          lon: d.lon,
          heading: Math.floor(random() * 360),
          speed_kmh: 10 + Math.floor(random() * 300) / 10,
          zone_id: d.zone,
          updated_at: iso(ms),
        },
        'u',
        ms,
      );
    }
  }
  messages.length = events;
  const perTable: Record<string, number> = {};
  for (const m of messages) {
    const table = m.topic.slice(PREFIX.length);
    perTable[table] = (perTable[table] ?? 0) + 1;
  }
  return { messages, perTable };
}
