import type { DecodedMessage } from '../../../src/decode/envelope.js';
import type { RawMessage } from '../../../src/decode/decoder.js';
import { UnknownSchemaError } from '../../../src/decode/schema-source.js';
import { createLogger } from '../../../src/observe/logger.js';
import { createMetrics } from '../../../src/observe/metrics.js';
import type { EsIntent, Rejection } from '../../../src/project/intents.js';
import type { EsWriteResult } from '../../../src/sink/elasticsearch/es-sink.js';
import type { MartBatch, MartOutcome } from '../../../src/sink/mart/mart-sink.js';
import { MartDataError } from '../../../src/sink/mart/pg-errors.js';
import type { Sink, WriteContext } from '../../../src/sink/sink.js';
import { withRetry } from '../../../src/sink/with-retry.js';
import type { DeadLetter } from '../../../src/source/dead-letter.js';
import { PoisonMessageError, TransientError } from '../../../src/shared/errors.js';
import type { Batch } from '../../../src/worker/pipeline/batch.js';
import type { StallHooks } from '../../../src/worker/pipeline/batch-context.js';
import type { PipelineDeps } from '../../../src/worker/pipeline/process-batch.js';
import { changeEvent } from '../fixtures-events.js';

/**
 * Small fakes for the batch pipeline: every sink appends to one shared journal, so a test can
 * assert the order of side effects (and whether row locks were held at the time).
 */

/** A scripted failure: thrown by the next write(s) of a fake sink. */
export type Script = (() => Error | undefined)[];

export class Journal {
  readonly entries: string[] = [];
  /** True while the fake mart "holds row locks" (inside its transaction). */
  locksHeld = false;
  add(e: string): void {
    this.entries.push(e);
  }
}

/** Message value → what the fake decoder does: a driver row, or a scripted failure. */
export function messageValue(spec: {
  id: number;
  poison?: boolean;
  unknownSchema?: boolean;
  truncate?: boolean;
}): Buffer {
  return Buffer.from(JSON.stringify(spec));
}

export class FakeDecoder {
  /** Transient registry failures left before decoding works. */
  registryDown = 0;
  constructor(private readonly journal: Journal) {}
  async decode(msg: RawMessage): Promise<DecodedMessage> {
    if (this.registryDown > 0) {
      this.registryDown--;
      throw new TransientError('registry unavailable');
    }
    const spec = JSON.parse(msg.value!.toString()) as {
      id: number;
      poison?: boolean;
      unknownSchema?: boolean;
      truncate?: boolean;
    };
    if (spec.poison) throw new PoisonMessageError('avro-decode-failed', `offset ${msg.offset} is garbage`);
    if (spec.unknownSchema) throw new UnknownSchemaError(99);
    this.journal.add(`decode ${msg.offset}`);
    if (spec.truncate)
      return {
        kind: 'change',
        event: changeEvent('drivers', 't', null, {
          topic: msg.topic,
          partition: msg.partition,
          offset: msg.offset,
          lsn: 5000,
        }),
      };
    return {
      kind: 'change',
      event: changeEvent(
        'drivers',
        'u',
        {
          id: spec.id,
          vehicle_type: 'car',
          status: 'online',
          home_zone_id: 1,
          created_at: '2026-11-21T04:00:00.000000Z',
          updated_at: '2026-11-21T04:00:00.000000Z',
        },
        { topic: msg.topic, partition: msg.partition, offset: msg.offset, snapshot: false },
      ),
    };
  }
}

abstract class FakeSink<In, Out> implements Sink<In, Out> {
  abstract readonly stage: string;
  readonly failures: Script = [];
  calls = 0;
  constructor(protected readonly journal: Journal) {}
  async start(): Promise<void> {}
  async close(): Promise<void> {}
  async write(batch: In, _ctx: WriteContext): Promise<Out> {
    this.calls++;
    const fail = this.failures.shift()?.();
    if (fail) throw fail;
    return this.apply(batch);
  }
  protected abstract apply(batch: In): Out;
}

export class FakeEs extends FakeSink<readonly EsIntent[], EsWriteResult> {
  readonly stage = 'elasticsearch';
  /** Offsets whose documents Elasticsearch refuses (mapping errors). */
  readonly refuse = new Set<string>();
  protected apply(intents: readonly EsIntent[]): EsWriteResult {
    this.journal.add(`es ${intents.map((i) => i.origin.offset).join(',')}`);
    const rejected: Rejection[] = intents
      .filter((i) => this.refuse.has(i.origin.offset))
      .map((i) => ({ origin: i.origin, reason: 'mapper_parsing_exception: bad' }));
    return { rejected };
  }
}

export class FakeDlq extends FakeSink<readonly DeadLetter[], void> {
  readonly stage = 'dead-letter';
  readonly letters: DeadLetter[] = [];
  /** locksHeld at the time of each produce: must always be false. */
  readonly underLocks: boolean[] = [];
  protected apply(letters: readonly DeadLetter[]): void {
    this.underLocks.push(this.journal.locksHeld);
    this.journal.add(`dlq ${letters.map((l) => `${l.offset}:${l.reason}`).join(',')}`);
    this.letters.push(...letters);
  }
}

export class FakeMart extends FakeSink<MartBatch, MartOutcome> {
  readonly stage = 'reporting_db';
  /** Offsets the mart cannot project. */
  readonly unprojectable = new Set<string>();
  /** Stored position per partition (the fencing check of the real offsets upsert). */
  readonly positions = new Map<number, string>();
  readonly committed: MartBatch[] = [];
  async loadPositions(_topic: string, partitions: readonly number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    for (const p of partitions) {
      const v = this.positions.get(p);
      if (v !== undefined) out.set(p, v);
    }
    return out;
  }
  /** Offsets whose values reporting_db refuses (SQLSTATE 22P02): the statement fails for the whole batch. */
  readonly sqlRefuses = new Set<string>();
  protected apply(b: MartBatch): MartOutcome {
    this.journal.locksHeld = true;
    try {
      const refused = b.events.find((e) => this.sqlRefuses.has(e.offset));
      if (refused) {
        this.journal.add(`mart ${b.dryRun ? 'probe' : 'tx'} failed`);
        throw new MartDataError('22P02', `invalid input syntax at offset ${refused.offset}`);
      }
      if (b.dryRun) return { kind: 'committed', kpiRows: 0, touched: [] };
      const rejected = b.events
        .filter((e) => this.unprojectable.has(e.offset))
        .map((e) => ({
          origin: { topic: e.topic, partition: e.partition, offset: e.offset },
          reason: 'mart: bad value',
        }));
      if (rejected.length > 0) {
        this.journal.add(`mart rollback ${rejected.map((r) => r.origin.offset).join(',')}`);
        return { kind: 'rejected', rejected };
      }
      if ((this.positions.get(b.partition) ?? null) !== b.expectedNext) {
        this.journal.add('mart fenced');
        return { kind: 'fenced' };
      }
      this.positions.set(b.partition, b.next);
      this.committed.push(b);
      this.journal.add(`mart commit ${b.events.map((e) => e.offset).join(',')} -> ${b.next}`);
      return { kind: 'committed', kpiRows: 0, touched: [] };
    } finally {
      this.journal.locksHeld = false;
    }
  }
}

export function pipeline(opts: { unknownSchemaRetries?: number; maxAttempts?: number } = {}) {
  const journal = new Journal();
  const decoder = new FakeDecoder(journal);
  const es = new FakeEs(journal);
  const dlq = new FakeDlq(journal);
  const mart = new FakeMart(journal);
  const metrics = createMetrics();
  const policy = { initialMs: 1, maxMs: 2, maxAttempts: opts.maxAttempts };
  const deps: PipelineDeps = {
    decoder,
    es: withRetry(es, policy),
    dlq: withRetry(dlq, policy),
    mart: withRetry(mart, policy),
    metrics,
    logger: createLogger('silent'),
    decodeRetry: { ...policy, unknownSchemaRetries: opts.unknownSchemaRetries ?? 2 },
    positions: mart,
    groupId: 'g',
  };
  const stalls: string[] = [];
  const hooks: StallHooks = {
    onBlocked: (stage) => void stalls.push(`blocked ${stage}`),
    onRecovered: (stage) => void stalls.push(`recovered ${stage}`),
  };
  return { journal, decoder, es, dlq, mart, metrics, deps, stalls, hooks };
}

export function batchOf(
  offsets: { offset: number; id?: number; poison?: boolean; unknownSchema?: boolean; truncate?: boolean }[],
  expectedNext: string | null = null,
): Batch {
  return {
    topic: 'ride.public.drivers',
    partition: 0,
    highWatermark: String((offsets.at(-1)?.offset ?? 0) + 1),
    expectedNext,
    messages: offsets.map((o) => ({
      offset: String(o.offset),
      key: null,
      value: messageValue({
        id: o.id ?? o.offset + 1,
        poison: o.poison,
        unknownSchema: o.unknownSchema,
        truncate: o.truncate,
      }),
    })),
  };
}

export async function metricValue(
  metrics: ReturnType<typeof createMetrics>,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}
