import { describe, expect, it } from 'vitest';
import { foldMart, rowsTouched } from '../../src/project/mart-fold.js';
import { mergeDeltas } from '../../src/project/metrics/delta.js';
import { TransientError } from '../../src/shared/errors.js';
import { MartGroupCommit } from '../../src/sink/mart/group-commit.js';
import type { MartBatch, MartOutcome } from '../../src/sink/mart/mart-sink.js';
import { MartDataError } from '../../src/sink/mart/pg-errors.js';
import type { MetricKey } from '../../src/sink/elasticsearch/kpi-mirror-doc.js';
import { changeEvent } from './fixtures-events.js';
import { bookingState, T0 } from './fixtures-states.js';

const batch = (partition: number, events = 10, over: Partial<MartBatch> = {}): MartBatch => ({
  topic: 'ride.public.bookings',
  partition,
  expectedNext: '0',
  next: String(events),
  events: Array.from({ length: events }, (_, i) =>
    changeEvent('bookings', 'c', { id: partition * 1000 + i } as never, { offset: String(i) }),
  ),
  ...over,
});

const key = (p: number) => ({ metric: `m${p}` }) as unknown as MetricKey;
const committed = (touched: MetricKey[] = []): MartOutcome => ({ kind: 'committed', kpiRows: 1, touched });

/** A MartSink whose transactions the test finishes by hand, recording what each one was given. */
class FakeMart {
  readonly stage = 'reporting_db';
  readonly calls: { kind: 'write' | 'group'; partitions: number[]; finish(o: MartOutcome | Error): void }[] =
    [];
  start = async () => undefined;
  close = async () => undefined;
  write = (b: MartBatch) => this.call('write', [b]);
  writeGroup = (bs: readonly MartBatch[]) => this.call('group', bs);
  private call(kind: 'write' | 'group', bs: readonly MartBatch[]): Promise<MartOutcome> {
    return new Promise((resolve, reject) =>
      this.calls.push({
        kind,
        partitions: bs.map((b) => b.partition),
        finish: (o) => (o instanceof Error ? reject(o) : resolve(o)),
      }),
    );
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('MartGroupCommit: batches that wait for the running transaction commit together', () => {
  it('a lone batch goes at once; the ones arriving meanwhile form one group, each resolved', async () => {
    const mart = new FakeMart();
    const gc = new MartGroupCommit(mart, 1000);
    const first = gc.write(batch(0));
    await tick();
    expect(mart.calls.map((c) => [c.kind, c.partitions])).toEqual([['write', [0]]]);
    const rest = [gc.write(batch(1)), gc.write(batch(2)), gc.write(batch(3))];
    await tick();
    expect(mart.calls).toHaveLength(1); // one transaction at a time
    mart.calls[0]!.finish(committed([key(0)]));
    await expect(first).resolves.toEqual(committed([key(0)]));
    await tick();
    expect(mart.calls[1]!.kind).toBe('group');
    expect(mart.calls[1]!.partitions).toEqual([1, 2, 3]);
    mart.calls[1]!.finish(committed([key(1), key(2)]));
    // The group's changed KPI rows go to the mirror once, with the first batch.
    expect(await Promise.all(rest)).toEqual([committed([key(1), key(2)]), committed(), committed()]);
  });

  it('a group stays within maxEvents; a batch bigger than that goes alone', async () => {
    const mart = new FakeMart();
    const gc = new MartGroupCommit(mart, 25);
    const all = [
      gc.write(batch(0)),
      gc.write(batch(1)),
      gc.write(batch(2)),
      gc.write(batch(3, 40)),
      gc.write(batch(4)),
    ];
    for (let i = 0; i < 4; i++) {
      await tick();
      mart.calls[i]!.finish(committed());
    }
    await Promise.all(all);
    expect(mart.calls.map((c) => c.partitions)).toEqual([[0], [1, 2], [3], [4]]);
  });

  it('a fenced or rejected group, or a refused value, runs again batch by batch', async () => {
    for (const failure of [
      { kind: 'fenced' } as MartOutcome,
      { kind: 'rejected', rejected: [] } as MartOutcome,
      new MartDataError('22003', 'numeric field overflow'),
    ]) {
      const mart = new FakeMart();
      const gc = new MartGroupCommit(mart, 1000);
      const first = gc.write(batch(0));
      const a = gc.write(batch(1));
      const b = gc.write(batch(2));
      await tick();
      mart.calls[0]!.finish(committed());
      await first;
      await tick();
      expect(mart.calls[1]!.kind).toBe('group');
      mart.calls[1]!.finish(failure);
      await tick();
      expect(mart.calls[2]).toMatchObject({ kind: 'write', partitions: [1] });
      mart.calls[2]!.finish({ kind: 'fenced' });
      await tick();
      expect(mart.calls[3]).toMatchObject({ kind: 'write', partitions: [2] });
      mart.calls[3]!.finish(committed([key(2)]));
      await expect(a).resolves.toEqual({ kind: 'fenced' });
      await expect(b).resolves.toEqual(committed([key(2)]));
    }
  });

  it('any other error fails every batch of the group (each retries on its own), and the next group runs', async () => {
    const mart = new FakeMart();
    const gc = new MartGroupCommit(mart, 1000);
    const first = gc.write(batch(0));
    const group = [gc.write(batch(1)), gc.write(batch(2))];
    await tick();
    mart.calls[0]!.finish(committed());
    await first;
    await tick();
    mart.calls[1]!.finish(new TransientError('reporting_db unavailable'));
    for (const p of group) await expect(p).rejects.toThrow('reporting_db unavailable');
    const later = gc.write(batch(3));
    await tick();
    mart.calls[2]!.finish(committed());
    await expect(later).resolves.toEqual(committed());
  });

  it('a dry run (the probe for a refused value) never joins a group', async () => {
    const mart = new FakeMart();
    const gc = new MartGroupCommit(mart, 1000);
    const running = gc.write(batch(0));
    const probe = gc.write(batch(1, 10, { dryRun: true }));
    await tick();
    expect(mart.calls.map((c) => [c.kind, c.partitions])).toEqual([
      ['write', [0]],
      ['write', [1]],
    ]);
    mart.calls[0]!.finish(committed());
    mart.calls[1]!.finish(committed());
    await Promise.all([running, probe]);
  });

  it('folding the events of several topics at once equals folding each batch alone', () => {
    const booking = bookingState({ id: '70' });
    const done = {
      ...booking,
      status: 'completed',
      driver_id: 3,
      completed_at: '2026-11-21T04:50:00.000000Z',
      final_fare: '52000.00',
    };
    const bookings = [
      changeEvent('bookings', 'c', booking as never, { offset: '1' }),
      changeEvent('bookings', 'u', done as never, { offset: '2', before: booking as never }),
    ];
    const payments = [
      changeEvent(
        'payments',
        'c',
        {
          id: 7,
          booking_id: 70,
          amount: '52000.00',
          platform_fee: '10400.00',
          driver_earnings: '41600.00',
          method: 'card',
          status: 'completed',
          paid_at: '2026-11-21T04:51:00.000000Z',
        } as never,
        { offset: '5' },
      ),
    ];
    const drivers = [
      changeEvent(
        'drivers',
        'c',
        {
          id: 3,
          vehicle_type: 'car',
          status: 'online',
          home_zone_id: 1,
          created_at: T0,
          updated_at: T0,
        } as never,
        { offset: '9' },
      ),
    ];
    const alone = [bookings, payments, drivers].map((evs) => foldMart(rowsTouched(evs), {}));
    const together = foldMart(rowsTouched([...payments, ...drivers, ...bookings]), {});
    expect(together.rejected).toEqual([]);
    expect(together.deltas.length).toBeGreaterThan(0);
    expect(together.states.map((s) => s.table)).toEqual(['payments', 'bookings', 'drivers']);
    expect(mergeDeltas(together.deltas)).toEqual(mergeDeltas(alone.flatMap((f) => f.deltas)));
    const byTable = (fs: typeof alone) =>
      Object.fromEntries(fs.flatMap((f) => f.states).map((s) => [s.table, s]));
    expect(byTable([together])).toEqual(byTable(alone));
    expect(together.payments).toEqual(alone.flatMap((f) => f.payments));
    expect(together.statusHistory.rows).toEqual(alone.flatMap((f) => f.statusHistory.rows));
  });
});
