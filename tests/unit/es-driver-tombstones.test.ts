import type { Client } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observe/metrics.js';
import type { DriverDelete, DriverPatch, TimeSeriesDoc } from '../../src/project/intents.js';
import { ElasticsearchSink } from '../../src/sink/elasticsearch/es-sink.js';
import { mergeGuarded } from '../../src/project/merge-guarded.js';

/**
 * The driver document's delete protocol against an in-memory Elasticsearch that keeps sequence
 * numbers and external versions like the real one: a delete stores its tombstone before it reads,
 * a patch writes before it re-reads the tombstone, so even two instances interleaved at the worst
 * moment end with the delete winning over the older patch.
 */
type Stored = { source: Record<string, unknown>; seqNo: number; version?: number };

class FakeEs {
  readonly indices = new Map<string, Map<string, Stored>>();
  seq = 0;
  /** Runs once, after an mget has read and before it answers (another writer gets in between). */
  onMget?: () => Promise<unknown>;
  readonly bodies: Record<string, unknown>[] = [];
  /** Documents asked for by mget, per index. */
  readonly reads = new Map<string, number>();

  private idx(name: string): Map<string, Stored> {
    let m = this.indices.get(name);
    if (!m) this.indices.set(name, (m = new Map()));
    return m;
  }

  async mget({ docs }: { docs: { _index: string; _id: string }[] }) {
    const out = docs.map((d) => {
      this.reads.set(d._index, (this.reads.get(d._index) ?? 0) + 1);
      const s = this.idx(d._index).get(d._id);
      return s
        ? { _index: d._index, _id: d._id, found: true, _source: s.source, _seq_no: s.seqNo, _primary_term: 1 }
        : { _index: d._index, _id: d._id, found: false };
    });
    const hook = this.onMget;
    this.onMget = undefined;
    await hook?.();
    return { docs: out };
  }

  async bulk({ operations: lines }: { operations: string[] }) {
    // The sink sends serialized ndjson lines (bulk.ts); read them as Elasticsearch would.
    const operations = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const items: Record<
      string,
      { status: number; error?: { type: string }; _seq_no?: number; _primary_term?: number }
    >[] = [];
    for (let i = 0; i < operations.length; i++) {
      const [kind, meta] = Object.entries(operations[i]!)[0] as [string, Record<string, unknown>];
      const index = this.idx(meta._index as string);
      const id = meta._id as string;
      const cur = index.get(id);
      const body = kind === 'delete' ? undefined : operations[++i]!;
      if (body) this.bodies.push(body);
      const conflict = () =>
        items.push({ [kind]: { status: 409, error: { type: 'version_conflict_engine_exception' } } });
      if (meta.if_seq_no !== undefined && cur?.seqNo !== meta.if_seq_no) {
        conflict();
        continue;
      }
      if (kind === 'create' && cur) {
        conflict();
        continue;
      }
      if (meta.version_type === 'external' && cur && (cur.version ?? -1) >= (meta.version as number)) {
        conflict();
        continue;
      }
      if (kind === 'delete') {
        if (!cur) items.push({ delete: { status: 404 } });
        else {
          index.delete(id);
          items.push({ delete: { status: 200 } });
        }
        continue;
      }
      index.set(id, { source: body!, seqNo: ++this.seq, version: meta.version as number | undefined });
      items.push({ [kind]: { status: 200, _seq_no: this.seq, _primary_term: 1 } });
    }
    return { items };
  }
}

const origin = { topic: 't', partition: 0, offset: '1' };
const locationPatch = (lsn: number): DriverPatch => ({
  kind: 'driver-patch',
  driverId: '7',
  part: 'location',
  lsn,
  fields: { location: { lat: 10.8, lon: 106.7 }, location_updated_at: '2026-11-21T04:00:00.000000Z' },
  origin,
});
const statusPatch = (lsn: number): DriverPatch => ({
  kind: 'driver-patch',
  driverId: '7',
  part: 'status',
  lsn,
  fields: { status: 'available' },
  origin,
});
const del = (lsn: number): DriverDelete => ({ kind: 'driver-delete', driverId: '7', lsn, origin });

function sinkOn(es: FakeEs): ElasticsearchSink {
  return new ElasticsearchSink(
    es as unknown as Client,
    'p-',
    { maxDocs: 100, maxBytes: 1 << 20 },
    createMetrics(),
  );
}

describe('driver deletes against Elasticsearch (tombstones)', () => {
  it('a delete stores its tombstone (external version = LSN) and removes the document', async () => {
    const es = new FakeEs();
    const sink = sinkOn(es);
    await sink.write([statusPatch(100), locationPatch(110)]);
    expect(es.indices.get('p-driver_locations')?.has('7')).toBe(true);
    await sink.write([del(200)]);
    expect(es.indices.get('p-driver_locations')?.has('7')).toBe(false);
    expect(es.indices.get('p-driver_locations_tombstones')?.get('7')).toMatchObject({
      source: { driver_id: 7, deleted_lsn: 200 },
      version: 200,
    });
    // A replayed older delete does not lower it; an older patch stays out.
    await sink.write([del(150)]);
    await sink.write([locationPatch(150)]);
    expect(es.indices.get('p-driver_locations_tombstones')?.get('7')?.version).toBe(200);
    expect(es.indices.get('p-driver_locations')?.has('7')).toBe(false);
  });

  it('two instances at the worst moment: the patch writer read before the tombstone, wrote after the delete read', async () => {
    const es = new FakeEs();
    await sinkOn(es).write([statusPatch(100)]);
    await sinkOn(es).write([del(200)]); // the driver is gone; its document too
    es.indices.get('p-driver_locations_tombstones')!.clear(); // ... as if the delete had not stored it yet
    const deleter = sinkOn(es);
    const patcher = sinkOn(es);
    // The patcher reads (no document, no tombstone); before it writes, the deleter runs entirely:
    // tombstone stored, document read (absent), nothing to delete.
    es.onMget = () => deleter.write([del(200)]);
    await patcher.write([locationPatch(150)]);
    // The patcher created the document, re-read the tombstone, and took its own document back.
    expect(es.indices.get('p-driver_locations')?.has('7')).toBe(false);
  });

  it('a newer row of the same id after the delete is written', async () => {
    const es = new FakeEs();
    const sink = sinkOn(es);
    await sink.write([statusPatch(100), del(200), statusPatch(300)]);
    expect(es.indices.get('p-driver_locations')?.get('7')?.source).toMatchObject({ status_lsn: 300 });
  });
});

describe("driver documents remembered from the sink's own writes", () => {
  const reads = (es: FakeEs) => es.reads.get('p-driver_locations') ?? 0;

  it('the next batch of the same driver writes without reading the document again', async () => {
    const es = new FakeEs();
    const sink = sinkOn(es);
    await sink.write([statusPatch(100)]);
    const before = reads(es);
    await sink.write([locationPatch(110)]);
    await sink.write([statusPatch(120)]);
    expect(reads(es)).toBe(before);
    expect(es.indices.get('p-driver_locations')?.get('7')?.source).toMatchObject({
      status_lsn: 120,
      location_lsn: 110,
      status: 'available',
    });
  });

  it('a document another instance wrote since is re-read and merged, not overwritten', async () => {
    const es = new FakeEs();
    const mine = sinkOn(es);
    await mine.write([statusPatch(100)]);
    await sinkOn(es).write([locationPatch(150)]); // another instance (a rebalance)
    await mine.write([statusPatch(200)]); // its remembered seq_no is stale: conflict, re-read
    expect(es.indices.get('p-driver_locations')?.get('7')?.source).toMatchObject({
      status_lsn: 200,
      location_lsn: 150,
    });
  });

  it('a driver another instance deleted since stays deleted against an older patch', async () => {
    const es = new FakeEs();
    const mine = sinkOn(es);
    await mine.write([statusPatch(100)]);
    await sinkOn(es).write([del(200)]);
    await mine.write([locationPatch(150)]); // remembered: live, no tombstone; really: deleted at 200
    expect(es.indices.get('p-driver_locations')?.has('7')).toBe(false);
    await mine.write([statusPatch(300)]); // a newer row of the same id is written
    expect(es.indices.get('p-driver_locations')?.get('7')?.source).toMatchObject({ status_lsn: 300 });
  });
});

describe('booking step upserts carry an LSN guard', () => {
  const step = (status: string, lsn: number, extra: Record<string, unknown> = {}): TimeSeriesDoc => ({
    kind: 'timeseries-doc',
    family: 'booking_events',
    timestamp: '2026-11-21T04:00:00.000000Z',
    id: 'booking:9:requested',
    doc: { '@timestamp': '2026-11-21T04:00:00.000000Z', status, source_lsn: lsn, ...extra },
    mode: 'upsert',
    lsn,
    origin,
  });
  const stored = (es: FakeEs) =>
    es.indices.get('p-booking_events-2026.11.21')?.get('booking:9:requested')?.source;

  it('an older write after a newer one changes nothing; a newer one applies, keeping unsent fields', async () => {
    const es = new FakeEs();
    await sinkOn(es).write([step('completed', 500, { cancel_reason: 'kept' })]);
    await sinkOn(es).write([step('requested', 400)]); // the stale instance
    expect(stored(es)).toMatchObject({ status: 'completed', source_lsn: 500, cancel_reason: 'kept' });
    await sinkOn(es).write([step('cancelled', 600)]); // cancel_reason TOAST-unchanged: not sent
    expect(stored(es)).toMatchObject({ status: 'cancelled', source_lsn: 600, cancel_reason: 'kept' });
  });

  it('a concurrent write between read and write is merged again, never overwritten', async () => {
    const es = new FakeEs();
    await sinkOn(es).write([step('accepted', 300)]);
    es.onMget = () => sinkOn(es).write([step('completed', 500)]);
    await sinkOn(es).write([step('arrived', 400)]);
    expect(stored(es)).toMatchObject({ status: 'completed', source_lsn: 500 });
  });

  const reads = (es: FakeEs) => es.reads.get('p-booking_events-2026.11.21') ?? 0;

  it("a new booking's document is created without a read; its next change merges onto the remembered one", async () => {
    const es = new FakeEs();
    const sink = sinkOn(es);
    await sink.write([step('requested', 300, { cancel_reason: 'kept' })]);
    await sink.write([step('accepted', 400)]);
    expect(reads(es)).toBe(0);
    expect(stored(es)).toMatchObject({ status: 'accepted', source_lsn: 400, cancel_reason: 'kept' });
  });

  it('a replay on a fresh instance meets the stored document: read, merged, the stale update counted once', async () => {
    const es = new FakeEs();
    await sinkOn(es).write([step('completed', 500)]);
    const metrics = createMetrics();
    const fresh = new ElasticsearchSink(
      es as unknown as Client,
      'p-',
      { maxDocs: 100, maxBytes: 1 << 20 },
      metrics,
    );
    await fresh.write([step('requested', 400)]); // create conflicts, then the document is read
    expect(reads(es)).toBe(1);
    expect(stored(es)).toMatchObject({ status: 'completed', source_lsn: 500 });
    const conflicts = (
      await metrics.registry.getSingleMetricAsString('ride_cdc_version_conflicts_ignored_total')
    )
      .split('\n')
      .find((l) => l.includes('booking_events'));
    expect(conflicts).toMatch(/ 1$/);
  });

  it('a document another instance wrote since the remembered write is re-read and merged', async () => {
    const es = new FakeEs();
    const mine = sinkOn(es);
    await mine.write([step('accepted', 300, { cancel_reason: 'mine' })]);
    await sinkOn(es).write([step('completed', 500)]); // another instance (a rebalance)
    await mine.write([step('arrived', 400)]); // stale against 500: conflict, re-read, changes nothing
    expect(stored(es)).toMatchObject({ status: 'completed', source_lsn: 500, cancel_reason: 'mine' });
    await mine.write([step('cancelled', 600)]);
    expect(stored(es)).toMatchObject({ status: 'cancelled', source_lsn: 600 });
  });

  it('mergeGuarded: order of the writes does not matter, equal LSNs are replays', () => {
    const a = { doc: { status: 'a' }, lsn: 1 };
    const b = { doc: { status: 'b' }, lsn: 2 };
    expect(mergeGuarded(null, [a, b]).doc).toEqual(mergeGuarded(mergeGuarded(null, [b]).doc, [a]).doc);
    expect(mergeGuarded({ status: 'b', source_lsn: 2 }, [b])).toMatchObject({ changed: false, stale: 0 });
    expect(mergeGuarded({ status: 'b', source_lsn: 2 }, [a])).toMatchObject({ changed: false, stale: 1 });
  });
});
