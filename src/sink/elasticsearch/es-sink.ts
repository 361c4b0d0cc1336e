import type { Client } from '@elastic/elasticsearch';
import {
  FAMILY,
  type DeleteByField,
  type DriverDelete,
  type DriverPatch,
  type EsIntent,
  type Origin,
  type Rejection,
  type TimeSeriesDoc,
} from '../../project/intents.js';
import { dayOf } from '../../project/row.js';
import { mergeDriverDoc, type DriverDoc } from '../../project/drivers/merge-latest.js';
import { mergeGuarded } from '../../project/merge-guarded.js';
import { SystemicError, TransientError } from '../../shared/errors.js';
import { classifyEsError } from './es-errors.js';
import type { Metrics } from '../../observe/metrics.js';
import type { Sink } from '../sink.js';
import { runBulk, type BulkOp, type BulkRunner, type ItemResult } from './bulk.js';
import { setupIndices } from './setup.js';
import { WrittenDocs } from './written-docs.js';

export interface EsWriteResult {
  /** Documents Elasticsearch will never accept (mapping errors): their source events are dead-lettered. */
  rejected: Rejection[];
}

const MAX_OCC_ROUNDS = 20;
/** Driver documents remembered from this sink's own writes (a fleet of this size hits every time). */
const DRIVER_CACHE_MAX = 100_000;
/**
 * Booking step documents remembered: a booking's documents are rewritten on each of its changes,
 * so the bookings in flight are what matters (the large generator preset keeps ~600, × 6 steps).
 */
const SERIES_CACHE_MAX = 20_000;

/** A time-series document as stored (read, or as this sink last wrote it), with its OCC guard. */
interface SeriesBase {
  doc: Record<string, unknown>;
  seqNo: number;
  primaryTerm: number;
}

/** A driver document as this sink last wrote it, and the tombstone it was merged with. */
interface CachedDriver {
  doc: DriverDoc;
  seqNo: number;
  primaryTerm: number;
  tombstone: number | null;
}

/**
 * Writes a batch of intents. Idempotent: re-running the same intents after a failure or a crash
 * converges to the same documents (deterministic ids, per-part LSN guards), which is what lets the
 * pipeline commit offsets only after this returns. Throws TransientError when Elasticsearch is
 * unavailable or answers 429/5xx; the caller backs off and re-runs the whole batch.
 */
export class ElasticsearchSink implements Sink<readonly EsIntent[], EsWriteResult> {
  readonly stage = 'elasticsearch';
  private readonly runner: BulkRunner;
  /**
   * Round 1 of a driver write starts from the document this sink wrote last instead of a realtime
   * mget (which also makes Elasticsearch refresh the shard to find a document written moments ago,
   * on nearly every batch: drivers move all the time). Safe because every write is conditional on
   * the cached seq_no and primary term: a document someone else wrote or deleted since fails with
   * a conflict, is forgotten and re-read in round 2; the tombstone re-check after writing stays.
   * Forgotten whole on any failed write.
   */
  private readonly drivers = new WrittenDocs<CachedDriver>(DRIVER_CACHE_MAX);
  /**
   * The same for LSN-guarded time-series documents (booking steps), keyed index/id. A document
   * neither remembered nor known to exist is first written as a `create` without reading it: a
   * booking's first event makes its documents, and a create that meets an existing document
   * conflicts, so it is read and merged in the next round (a replay pays one extra round).
   */
  private readonly series = new WrittenDocs<SeriesBase>(SERIES_CACHE_MAX);

  constructor(
    private readonly client: Client,
    private readonly prefix: string,
    bulk: { maxDocs: number; maxBytes: number },
    private readonly metrics: Metrics,
  ) {
    this.runner = {
      client,
      ...bulk,
      observe: (s) => metrics.sinkSeconds.observe({ sink: 'elasticsearch', operation: 'bulk' }, s),
    };
  }

  /** Index templates and the latest-state index (idempotent). */
  async start(): Promise<void> {
    await setupIndices(this.client, this.prefix);
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  async write(intents: readonly EsIntent[]): Promise<EsWriteResult> {
    const rejected: Rejection[] = [];
    const series = intents.filter((i): i is TimeSeriesDoc => i.kind === 'timeseries-doc');
    const drivers = intents.filter(
      (i): i is DriverPatch | DriverDelete => i.kind === 'driver-patch' || i.kind === 'driver-delete',
    );
    const deletes = intents.filter((i): i is DeleteByField => i.kind === 'delete-by-field');
    // Deletes last: a replayed batch that created and then deleted a booking's events ends deleted.
    try {
      await this.writeSeries(series, rejected);
    } catch (err) {
      this.series.clear();
      throw err;
    }
    try {
      await this.writeDrivers(drivers, rejected);
    } catch (err) {
      this.drivers.clear();
      throw err;
    }
    // Deleted documents are gone from memory too (a write from memory would only conflict).
    if (deletes.length > 0) this.series.clear();
    await this.deleteByField(deletes);
    return { rejected };
  }

  private index(family: string, timestamp?: string): string {
    return timestamp ? `${this.prefix}${family}-${dayOf(timestamp)}` : `${this.prefix}${family}`;
  }

  private async writeSeries(all: readonly TimeSeriesDoc[], rejected: Rejection[]): Promise<void> {
    await this.writeGuarded(
      all.filter((d) => d.mode === 'upsert' && d.lsn !== undefined),
      rejected,
    );
    const docs = all.filter((d) => d.mode === 'create' || d.lsn === undefined);
    if (docs.length === 0) return;
    const ops = docs.map((d): BulkOp<TimeSeriesDoc> => {
      const meta = { _index: this.index(d.family, d.timestamp), _id: d.id };
      return d.mode === 'create'
        ? { action: { create: meta }, body: d.doc, tag: d }
        : { action: { update: meta }, body: { doc: d.doc, doc_as_upsert: true }, tag: d };
    });
    const results = await runBulk(this.runner, ops);
    this.account(results, rejected, (r) => {
      // A create that hits an existing id is a replay of an event already written.
      if (r.outcome === 'conflict' && r.tag.mode === 'create') {
        this.metrics.versionConflicts.inc({ index_family: r.tag.family });
        return true;
      }
      return false;
    });
  }

  /**
   * LSN-guarded partial upserts (merge-guarded.ts) as read–merge–write under optimistic
   * concurrency: no script runs (the native stack's Elasticsearch has no scripting module). Round 1
   * merges onto the remembered document, or writes a conditional create (see `series`); a conflict
   * re-reads the document by a realtime mget in the next round.
   */
  private async writeGuarded(docs: readonly TimeSeriesDoc[], rejected: Rejection[]): Promise<void> {
    if (docs.length === 0) return;
    const byDoc = new Map<string, { index: string; id: string; family: string; updates: TimeSeriesDoc[] }>();
    for (const d of docs) {
      const index = this.index(d.family, d.timestamp);
      const k = `${index}/${d.id}`;
      const e = byDoc.get(k) ?? { index, id: d.id, family: d.family, updates: [] };
      e.updates.push(d);
      byDoc.set(k, e);
    }
    let pending = [...byDoc.keys()];
    for (let round = 1; pending.length > 0; round++) {
      if (round > MAX_OCC_ROUNDS)
        throw new TransientError(
          `documents still contended after ${MAX_OCC_ROUNDS} rounds: ${pending.slice(0, 5).join(', ')}`,
        );
      const current = round === 1 ? this.rememberedSeries(pending) : await this.readSeries(byDoc, pending);
      const bulk: BulkOp<string>[] = [];
      const merges = new Map<string, { doc: Record<string, unknown>; stale: number }>();
      for (const k of pending) {
        const cur = current.get(k) ?? null;
        const e = byDoc.get(k)!;
        const merged = mergeGuarded(
          cur?.doc ?? null,
          e.updates.map((u) => ({ doc: u.doc, lsn: u.lsn! })),
        );
        if (!merged.changed || merged.doc === null) {
          if (merged.stale > 0) this.metrics.versionConflicts.inc({ index_family: e.family }, merged.stale);
          continue;
        }
        merges.set(k, { doc: merged.doc, stale: merged.stale });
        const meta = cur
          ? { _index: e.index, _id: e.id, if_seq_no: cur.seqNo, if_primary_term: cur.primaryTerm }
          : { _index: e.index, _id: e.id };
        bulk.push({ action: { [cur ? 'index' : 'create']: meta }, body: merged.doc, tag: k });
      }
      const results = await runBulk(this.runner, bulk);
      pending = [];
      throwIfSystemic(results);
      let retriable: (typeof results)[number] | undefined;
      for (const r of results) {
        const e = byDoc.get(r.tag)!;
        this.series.forget(r.tag);
        if (r.outcome === 'ok') {
          const m = merges.get(r.tag)!;
          // Stale updates are counted for the merge that was written, not for a guess that conflicted.
          if (m.stale > 0) this.metrics.versionConflicts.inc({ index_family: e.family }, m.stale);
          this.metrics.docsWritten.inc({ index_family: e.family, action: 'write' });
          if (r.seqNo !== undefined && r.primaryTerm !== undefined)
            this.series.remember(r.tag, { doc: m.doc, seqNo: r.seqNo, primaryTerm: r.primaryTerm });
        } else if (r.outcome === 'conflict')
          pending.push(r.tag); // written meanwhile, or a create met a stored document: read, merge again
        else if (r.outcome === 'rejected') {
          this.metrics.sinkFailures.inc({ sink: 'elasticsearch', kind: 'rejected' });
          for (const u of e.updates)
            rejected.push({ origin: u.origin, reason: r.error ?? `status ${r.status}` });
        } else retriable ??= r;
      }
      if (retriable) {
        this.metrics.sinkFailures.inc({ sink: 'elasticsearch', kind: 'retriable' });
        throw new TransientError(`elasticsearch answered ${retriable.status}: ${retriable.error}`);
      }
    }
  }

  private rememberedSeries(keys: readonly string[]): Map<string, SeriesBase> {
    const out = new Map<string, SeriesBase>();
    for (const k of keys) {
      const c = this.series.get(k);
      if (c) out.set(k, c);
    }
    return out;
  }

  private async readSeries(
    byDoc: ReadonlyMap<string, { index: string; id: string }>,
    keys: readonly string[],
  ): Promise<Map<string, SeriesBase>> {
    const res = await this.timedMget(
      keys.map((k) => ({ _index: byDoc.get(k)!.index, _id: byDoc.get(k)!.id })),
      true,
    );
    const out = new Map<string, SeriesBase>();
    keys.forEach((k, i) => {
      const d = res.docs[i]!;
      if ('found' in d && d.found && d._source)
        out.set(k, {
          doc: d._source as Record<string, unknown>,
          seqNo: d._seq_no!,
          primaryTerm: d._primary_term!,
        });
    });
    return out;
  }

  /**
   * Read–merge–write under optimistic concurrency, so instances on different partitions never lose
   * each other's parts. A delete stores its tombstone (external version = delete LSN, so only a
   * newer one replaces it) before it reads the document; a patch writes the document before it
   * re-reads the tombstone. Whichever of two concurrent writers comes second sees the other's
   * write, so a deleted driver's document never survives an older patch (merge-latest.ts).
   */
  private async writeDrivers(
    ops: readonly (DriverPatch | DriverDelete)[],
    rejected: Rejection[],
  ): Promise<void> {
    if (ops.length === 0) return;
    const byDriver = new Map<string, (DriverPatch | DriverDelete)[]>();
    for (const op of ops) {
      const list = byDriver.get(op.driverId) ?? [];
      list.push(op);
      byDriver.set(op.driverId, list);
    }
    const index = this.index(FAMILY.driverLatest);
    await this.writeTombstones(ops, rejected);
    let pending = [...byDriver.keys()];
    /** Documents written from a merge with this tombstone: re-checked once their round is done. */
    let written = new Map<string, number | null>();
    for (let round = 1; pending.length > 0; round++) {
      if (round > MAX_OCC_ROUNDS)
        throw new TransientError(
          `driver documents still contended after ${MAX_OCC_ROUNDS} rounds: ${pending.slice(0, 5).join(', ')}`,
        );
      const { docs: current, tombstones } = await this.currentDrivers(index, pending, round, ops);
      const bulk: BulkOp<string>[] = [];
      const mergedDocs = new Map<string, DriverDoc>();
      const usedTombstone = new Map<string, number | null>();
      for (const id of pending) {
        const cur = current.get(id);
        const merged = mergeDriverDoc(cur?.doc ?? null, byDriver.get(id)!, tombstones.get(id) ?? null);
        if (round === 1 && merged.stale > 0)
          this.metrics.versionConflicts.inc({ index_family: FAMILY.driverLatest }, merged.stale);
        if (!merged.changed) continue;
        const guard = cur ? { if_seq_no: cur.seqNo, if_primary_term: cur.primaryTerm } : {};
        if (merged.doc === null) {
          if (cur) bulk.push({ action: { delete: { _index: index, _id: id, ...guard } }, tag: id });
        } else {
          usedTombstone.set(id, tombstones.get(id) ?? null);
          mergedDocs.set(id, merged.doc);
          if (cur)
            bulk.push({ action: { index: { _index: index, _id: id, ...guard } }, body: merged.doc, tag: id });
          else bulk.push({ action: { create: { _index: index, _id: id } }, body: merged.doc, tag: id });
        }
      }
      const results = await runBulk(this.runner, bulk);
      pending = [];
      throwIfSystemic(results);
      for (const r of results) {
        this.drivers.forget(r.tag);
        if (r.outcome === 'conflict')
          pending.push(r.tag); // someone else wrote it: re-read and merge again
        else if (r.outcome === 'rejected') {
          for (const op of byDriver.get(r.tag)!)
            rejected.push({ origin: op.origin, reason: r.error ?? `status ${r.status}` });
          this.metrics.sinkFailures.inc({ sink: 'elasticsearch', kind: 'rejected' });
        } else if (r.outcome === 'retriable') {
          this.metrics.sinkFailures.inc({ sink: 'elasticsearch', kind: 'retriable' });
          throw new TransientError(`elasticsearch refused driver ${r.tag} with ${r.status}: ${r.error}`);
        } else {
          this.metrics.docsWritten.inc({ index_family: FAMILY.driverLatest, action: 'write' });
          const doc = mergedDocs.get(r.tag);
          if (doc && r.seqNo !== undefined && r.primaryTerm !== undefined)
            this.drivers.remember(r.tag, {
              doc,
              seqNo: r.seqNo,
              primaryTerm: r.primaryTerm,
              tombstone: usedTombstone.get(r.tag) ?? null,
            });
          if (usedTombstone.has(r.tag)) written.set(r.tag, usedTombstone.get(r.tag)!);
        }
      }
      if (pending.length === 0 && written.size > 0) {
        // A delete that stored its tombstone after our read may have missed the document we wrote.
        const now = await this.tombstones([...written.keys()]);
        pending = [...written].filter(([id, used]) => (now.get(id) ?? null) !== used).map(([id]) => id);
        for (const id of pending) this.drivers.forget(id);
        written = new Map();
      }
    }
  }

  /**
   * The current documents and tombstones of `ids`: in round 1 from what this sink wrote last where
   * it remembers it (not for a driver the batch deletes: its tombstone was just written), the rest
   * by a realtime mget.
   */
  private async currentDrivers(
    index: string,
    ids: string[],
    round: number,
    ops: readonly (DriverPatch | DriverDelete)[],
  ): Promise<{
    docs: Map<string, { doc: DriverDoc; seqNo: number; primaryTerm: number }>;
    tombstones: Map<string, number>;
  }> {
    if (round > 1 || this.drivers.size === 0) return this.mget(index, ids);
    const deleting = new Set(ops.filter((o) => o.kind === 'driver-delete').map((o) => o.driverId));
    const docs = new Map<string, { doc: DriverDoc; seqNo: number; primaryTerm: number }>();
    const tombstones = new Map<string, number>();
    const unknown: string[] = [];
    for (const id of ids) {
      const c = deleting.has(id) ? undefined : this.drivers.get(id);
      if (!c) {
        unknown.push(id);
        continue;
      }
      docs.set(id, c);
      if (c.tombstone !== null) tombstones.set(id, c.tombstone);
    }
    if (unknown.length > 0) {
      const read = await this.mget(index, unknown);
      for (const [id, d] of read.docs) docs.set(id, d);
      for (const [id, t] of read.tombstones) tombstones.set(id, t);
    }
    return { docs, tombstones };
  }

  /** The newest delete of each driver in the batch, stored before any document is read. */
  private async writeTombstones(
    ops: readonly (DriverPatch | DriverDelete)[],
    rejected: Rejection[],
  ): Promise<void> {
    const newest = new Map<string, DriverDelete>();
    for (const op of ops)
      if (op.kind === 'driver-delete' && (newest.get(op.driverId)?.lsn ?? -1) < op.lsn)
        newest.set(op.driverId, op);
    if (newest.size === 0) return;
    const index = this.index(FAMILY.driverTombstones);
    const bulk: BulkOp<DriverDelete>[] = [...newest.values()].map((d) => ({
      action: { index: { _index: index, _id: d.driverId, version: d.lsn, version_type: 'external' } },
      body: { driver_id: Number(d.driverId), deleted_lsn: d.lsn },
      tag: d,
    }));
    const results = await runBulk(this.runner, bulk);
    throwIfSystemic(results);
    for (const r of results) {
      // 409: the same or a newer tombstone is already stored (a replay).
      if (r.outcome === 'ok' || r.outcome === 'conflict') continue;
      if (r.outcome === 'retriable')
        throw new TransientError(`elasticsearch refused a driver tombstone with ${r.status}: ${r.error}`);
      rejected.push({ origin: r.tag.origin, reason: r.error ?? `status ${r.status}` });
    }
  }

  private async mget(
    index: string,
    ids: string[],
  ): Promise<{
    docs: Map<string, { doc: DriverDoc; seqNo: number; primaryTerm: number }>;
    tombstones: Map<string, number>;
  }> {
    const tombIndex = this.index(FAMILY.driverTombstones);
    const res = await this.timedMget([
      ...ids.map((id) => ({ _index: index, _id: id })),
      ...ids.map((id) => ({ _index: tombIndex, _id: id })),
    ]);
    const docs = new Map<string, { doc: DriverDoc; seqNo: number; primaryTerm: number }>();
    const tombstones = new Map<string, number>();
    for (const d of res.docs) {
      if (!('found' in d) || !d.found || !d._source) continue;
      if (d._index === tombIndex)
        tombstones.set(d._id, (d._source as unknown as { deleted_lsn: number }).deleted_lsn);
      else docs.set(d._id, { doc: d._source, seqNo: d._seq_no!, primaryTerm: d._primary_term! });
    }
    return { docs, tombstones };
  }

  private async tombstones(ids: string[]): Promise<Map<string, number>> {
    const tombIndex = this.index(FAMILY.driverTombstones);
    const res = await this.timedMget(ids.map((id) => ({ _index: tombIndex, _id: id })));
    const out = new Map<string, number>();
    for (const d of res.docs)
      if ('found' in d && d.found && d._source)
        out.set(d._id, (d._source as unknown as { deleted_lsn: number }).deleted_lsn);
    return out;
  }

  /** `dailyIndices`: a missing index (a day not written yet) holds no document; otherwise it is systemic. */
  private async timedMget(docs: { _index: string; _id: string }[], dailyIndices = false) {
    const started = performance.now();
    try {
      const res = await this.client.mget<DriverDoc>({ docs, realtime: true });
      // A missing index answers per document, not per request: an unreadable tombstone is no "none".
      for (const d of res.docs)
        if ('error' in d && d.error && !(dailyIndices && d.error.type === 'index_not_found_exception'))
          throw new SystemicError(
            d.error.type === 'index_not_found_exception' ? 'elasticsearch-index-missing' : 'elasticsearch',
            `mget of ${d._index}/${d._id}: ${d.error.type}: ${d.error.reason ?? ''}`,
          );
      return res;
    } catch (err) {
      throw classifyEsError(err, 'mget');
    } finally {
      this.metrics.sinkSeconds.observe(
        { sink: 'elasticsearch', operation: 'mget' },
        (performance.now() - started) / 1000,
      );
    }
  }

  private async deleteByField(deletes: readonly DeleteByField[]): Promise<void> {
    if (deletes.length === 0) return;
    const families = [...new Set(deletes.map((d) => d.family))];
    try {
      // Documents written moments ago are not searchable before a refresh; deletes are rare, so pay for one.
      await this.client.indices.refresh({
        index: families.map((f) => `${this.prefix}${f}-*`),
        allow_no_indices: true,
        ignore_unavailable: true,
      });
      const ops: BulkOp<string>[] = [];
      for (const d of deletes) {
        const res = await this.client.search({
          index: `${this.prefix}${d.family}-*`,
          allow_no_indices: true,
          ignore_unavailable: true,
          size: 1000,
          _source: false,
          query: { term: { [d.field]: d.value } },
        });
        for (const hit of res.hits.hits)
          ops.push({ action: { delete: { _index: hit._index, _id: hit._id! } }, tag: d.family });
      }
      const results = await runBulk(this.runner, ops);
      this.account(results, [], (r) => r.outcome === 'not_found');
    } catch (err) {
      throw classifyEsError(err, 'delete-by-field');
    }
  }

  private account<T extends { family: string; origin: Origin } | string>(
    results: ItemResult<T>[],
    rejected: Rejection[],
    expected: (r: ItemResult<T>) => boolean,
  ): void {
    throwIfSystemic(results);
    let retriable: ItemResult<T> | undefined;
    // Counted per family once per call, not once per document (a label lookup each).
    const written = new Map<string, number>();
    for (const r of results) {
      const family = typeof r.tag === 'string' ? r.tag : r.tag.family;
      if (r.outcome === 'ok') written.set(family, (written.get(family) ?? 0) + 1);
      else if (expected(r)) continue;
      else if (r.outcome === 'retriable' || r.outcome === 'conflict') {
        this.metrics.sinkFailures.inc({ sink: 'elasticsearch', kind: 'retriable' });
        retriable ??= r;
      } else if (typeof r.tag !== 'string') {
        this.metrics.sinkFailures.inc({ sink: 'elasticsearch', kind: 'rejected' });
        rejected.push({ origin: r.tag.origin, reason: r.error ?? `status ${r.status}` });
      }
    }
    for (const [family, n] of written)
      this.metrics.docsWritten.inc({ index_family: family, action: 'write' }, n);
    if (retriable) throw new TransientError(`elasticsearch answered ${retriable.status}: ${retriable.error}`);
  }
}

/** One item refused because of the cluster (auth, write block, missing index) stops the whole write: nothing is dead-lettered. */
function throwIfSystemic<T>(results: readonly ItemResult<T>[]): void {
  const r = results.find((x) => x.outcome === 'systemic');
  if (r)
    throw new SystemicError(
      r.reason ?? 'elasticsearch',
      `elasticsearch refused a write with ${r.status}: ${r.error}`,
    );
}
