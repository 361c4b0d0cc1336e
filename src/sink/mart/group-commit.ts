import type { Histogram } from 'prom-client';
import type { Sink } from '../sink.js';
import { MartDataError } from './pg-errors.js';
import type { MartBatch, MartOutcome, MartSink } from './mart-sink.js';

interface Waiting {
  batch: MartBatch;
  resolve(outcome: MartOutcome): void;
  reject(err: unknown): void;
}

/**
 * Group commit for the mart. Partition batches used to run a transaction each, several at once, and
 * those transactions queued behind each other on the same hot rows (the current minute's KPI
 * buckets). Here one transaction runs at a time, and the batches that arrive meanwhile commit
 * together in the next: one fold, each hot row written once, one COMMIT, one fenced position move
 * per partition (MartSink.writeGroup). A batch never waits for company: alone, it goes at once.
 *
 * A group that is fenced, rejects events or has a value refused rolled back whole; it then runs
 * again batch by batch, so each batch gets its exact single-batch outcome and writeMartStage's
 * dead-lettering sees only its own events. Any other error fails every batch of the group, and
 * each retries on its own (withRetry sits outside this class).
 */
export class MartGroupCommit implements Sink<MartBatch, MartOutcome> {
  readonly stage: string;
  private readonly waiting: Waiting[] = [];
  private running = false;

  constructor(
    private readonly mart: Pick<MartSink, 'stage' | 'start' | 'close' | 'write' | 'writeGroup'>,
    /** A group takes batches until it would exceed this many events (a bigger batch goes alone). */
    private readonly maxEvents: number,
    private readonly groupBatches?: Pick<Histogram, 'observe'>,
  ) {
    this.stage = mart.stage;
  }

  start(): Promise<void> {
    return this.mart.start();
  }

  close(): Promise<void> {
    return this.mart.close();
  }

  write(batch: MartBatch): Promise<MartOutcome> {
    // A dry run probes one batch's events for a refused value: never mixed with others.
    if (batch.dryRun) return this.mart.write(batch);
    return new Promise<MartOutcome>((resolve, reject) => {
      this.waiting.push({ batch, resolve, reject });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.waiting.length > 0) await this.commit(this.take());
    } finally {
      this.running = false;
    }
  }

  /** The oldest waiting batch, and the ones after it while the group stays within maxEvents. */
  private take(): Waiting[] {
    let events = this.waiting[0]!.batch.events.length;
    let n = 1;
    while (n < this.waiting.length && events + this.waiting[n]!.batch.events.length <= this.maxEvents)
      events += this.waiting[n++]!.batch.events.length;
    return this.waiting.splice(0, n);
  }

  private async commit(group: Waiting[]): Promise<void> {
    this.groupBatches?.observe(group.length);
    if (group.length === 1) return settle(group[0]!, () => this.mart.write(group[0]!.batch));
    let outcome: MartOutcome | undefined;
    try {
      outcome = await this.mart.writeGroup(group.map((w) => w.batch));
    } catch (err) {
      if (!(err instanceof MartDataError)) {
        for (const w of group) w.reject(err);
        return;
      }
    }
    if (outcome?.kind === 'committed') {
      // Every batch committed; the KPI rows changed are the group's, mirrored once (by the first).
      const { touched } = outcome;
      group.forEach((w, i) => w.resolve({ ...outcome, touched: i === 0 ? touched : [] }));
      return;
    }
    for (const w of group) await settle(w, () => this.mart.write(w.batch));
  }
}

async function settle(w: Waiting, write: () => Promise<MartOutcome>): Promise<void> {
  try {
    w.resolve(await write());
  } catch (err) {
    w.reject(err);
  }
}
