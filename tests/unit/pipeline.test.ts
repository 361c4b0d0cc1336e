import { describe, expect, it } from 'vitest';
import { SystemicError, TransientError } from '../../src/shared/errors.js';
import { processBatch } from '../../src/worker/pipeline/process-batch.js';
import { MartDataError, classifyPgError } from '../../src/sink/mart/pg-errors.js';
import { batchOf, metricValue, pipeline } from './support/pipeline-fakes.js';

const run = (
  p: ReturnType<typeof pipeline>,
  batch: ReturnType<typeof batchOf>,
  signal = new AbortController().signal,
) => processBatch(p.deps, batch, signal, p.hooks);

describe('processBatch: the batch pipeline as stages', () => {
  it('decode → Elasticsearch → mart + position, in that order', async () => {
    const p = pipeline();
    const out = await run(p, batchOf([{ offset: 0 }, { offset: 1 }]));
    expect(out).toEqual({ next: '2', fenced: false });
    expect(p.journal.entries).toEqual(['decode 0', 'decode 1', 'es 0,1', 'mart commit 0,1 -> 2']);
    expect(p.mart.positions.get(0)).toBe('2');
  });

  it('messages before the stored position are replays: skipped, counted, nothing written', async () => {
    const p = pipeline();
    p.mart.positions.set(0, '5');
    const out = await run(p, batchOf([{ offset: 3 }, { offset: 4 }], '5'));
    expect(out).toEqual({ next: '5', fenced: false });
    expect(p.journal.entries).toEqual([]);
    expect(
      await metricValue(p.metrics, 'ride_cdc_messages_skipped_total', { kind: 'already-committed' }),
    ).toBe(2);
  });

  it('fencing after a rebalance: another instance moved the position, nothing is committed', async () => {
    const p = pipeline();
    p.mart.positions.set(0, '7'); // the new owner already committed up to 7
    const out = await run(p, batchOf([{ offset: 2 }, { offset: 3 }], '2'));
    expect(out).toEqual({ next: '2', fenced: true });
    expect(p.mart.committed).toEqual([]);
    expect(p.mart.positions.get(0)).toBe('7');
  });

  it('undecodable messages are dead-lettered and acknowledged before the commit', async () => {
    const p = pipeline();
    const out = await run(p, batchOf([{ offset: 0 }, { offset: 1, poison: true }, { offset: 2 }]));
    expect(out.next).toBe('3');
    expect(p.journal.entries).toEqual([
      'decode 0',
      'decode 2',
      'es 0,2',
      'dlq 1:avro-decode-failed',
      'mart commit 0,2 -> 3',
    ]);
  });

  it('mart rejections: rolled back, dead-lettered with no row lock held, then the rest commits', async () => {
    const p = pipeline();
    p.mart.unprojectable.add('1');
    const out = await run(p, batchOf([{ offset: 0 }, { offset: 1 }, { offset: 2 }]));
    expect(out).toEqual({ next: '3', fenced: false });
    expect(p.journal.entries.slice(-3)).toEqual([
      'mart rollback 1',
      'dlq 1:mart-rejected',
      'mart commit 0,2 -> 3',
    ]);
    expect(p.dlq.underLocks).toEqual([false]);
    expect(await metricValue(p.metrics, 'ride_cdc_dead_letter_total', { reason: 'mart-rejected' })).toBe(1);
  });

  it('an Elasticsearch rejection goes to the dead-letter topic and the mart still applies the event', async () => {
    const p = pipeline();
    p.es.refuse.add('1');
    await run(p, batchOf([{ offset: 0 }, { offset: 1 }]));
    expect(p.dlq.letters.map((l) => [l.offset, l.reason, l.error])).toEqual([
      ['1', 'elasticsearch-rejected', 'mapper_parsing_exception: bad'],
    ]);
    expect(p.journal.entries.indexOf('dlq 1:elasticsearch-rejected')).toBeLessThan(
      p.journal.entries.findIndex((e) => e.startsWith('mart commit')),
    );
    expect(p.dlq.underLocks).toEqual([false]);
    expect(p.mart.committed[0]!.events.map((e) => e.offset)).toEqual(['0', '1']);
  });

  it('a transient sink failure is retried: the partition is blocked once, then recovered', async () => {
    const p = pipeline();
    p.es.failures.push(
      () => new TransientError('es down'),
      () => new TransientError('es down'),
    );
    const out = await run(p, batchOf([{ offset: 0 }]));
    expect(out.next).toBe('1');
    expect(p.es.calls).toBe(3);
    expect(p.stalls).toEqual(['blocked elasticsearch', 'recovered elasticsearch']);
    expect(await metricValue(p.metrics, 'ride_cdc_retries_total', { stage: 'elasticsearch' })).toBe(2);
  });

  it('a registry outage during decode blocks and recovers the decode stage', async () => {
    const p = pipeline();
    p.decoder.registryDown = 2;
    await run(p, batchOf([{ offset: 0 }]));
    expect(p.stalls).toEqual(['blocked decode', 'recovered decode']);
  });

  it('gives up: an unknown schema id is retried a bounded number of times, then dead-lettered', async () => {
    const p = pipeline({ unknownSchemaRetries: 2 });
    const out = await run(p, batchOf([{ offset: 0, unknownSchema: true }, { offset: 1 }]));
    expect(out.next).toBe('2');
    expect(p.dlq.letters.map((l) => l.reason)).toEqual(['unknown-schema']);
    expect(await metricValue(p.metrics, 'ride_cdc_retries_total', { stage: 'decode' })).toBe(2);
    expect(p.stalls).toEqual([]); // the registry lagging the producer is not an outage
  });

  it('gives up: a non-retriable sink error fails the batch and commits nothing', async () => {
    const p = pipeline();
    p.mart.failures.push(() => new Error('bug'));
    await expect(run(p, batchOf([{ offset: 0 }]))).rejects.toThrow('bug');
    expect(p.mart.committed).toEqual([]);
  });

  it('gives up after maxAttempts of a retriable failure', async () => {
    const p = pipeline({ maxAttempts: 3 });
    for (let i = 0; i < 5; i++) p.dlq.failures.push(() => new TransientError('kafka down'));
    await expect(run(p, batchOf([{ offset: 0, poison: true }]))).rejects.toThrow('kafka down');
    expect(p.dlq.calls).toBe(3);
    expect(p.mart.committed).toEqual([]);
  });

  it('abort during a stage: the backoff ends, the batch throws, nothing is committed', async () => {
    const p = pipeline();
    for (let i = 0; i < 1000; i++) p.es.failures.push(() => new TransientError('es down'));
    const abort = new AbortController();
    p.hooks.onBlocked = (stage: string) => {
      p.stalls.push(`blocked ${stage}`);
      abort.abort();
    };
    await expect(run(p, batchOf([{ offset: 0 }]), abort.signal)).rejects.toThrow('es down');
    expect(p.mart.calls).toBe(0);
    expect(p.stalls).toEqual(['blocked elasticsearch', 'recovered elasticsearch']);
  });

  it('a SystemicError pauses the stage and raises ride_cdc_systemic_failures until it works again', async () => {
    const p = pipeline();
    const values: number[] = [];
    const gauge = p.metrics.systemicFailures;
    const set = gauge.set.bind(gauge) as (labels: Record<string, string>, v: number) => void;
    gauge.set = ((labels: Record<string, string>, v: number) => {
      values.push(v);
      set(labels, v);
    }) as typeof gauge.set;
    p.es.failures.push(
      () => new SystemicError('index-missing', 'no such index'),
      () => new SystemicError('index-missing', 'no such index'),
    );
    await run(p, batchOf([{ offset: 0 }]));
    expect(values).toEqual([1, 2, 0]); // consecutive failures while failing, 0 once it works
    expect(p.stalls).toEqual(['blocked elasticsearch', 'recovered elasticsearch']);
    expect(
      await metricValue(p.metrics, 'ride_cdc_sink_failures_total', {
        sink: 'elasticsearch',
        kind: 'index-missing',
      }),
    ).toBe(2);
    expect(p.dlq.letters).toEqual([]); // never dead-lettered
  });

  it('a value reporting_db refuses (SQLSTATE 22xxx) is isolated and dead-lettered, not retried forever', async () => {
    const p = pipeline();
    p.mart.sqlRefuses.add('2');
    const out = await run(p, batchOf([0, 1, 2, 3, 4].map((offset) => ({ offset }))));
    expect(out).toEqual({ next: '5', fenced: false });
    expect(p.dlq.letters.map((l) => [l.offset, l.reason])).toEqual([['2', 'mart-rejected']]);
    expect(p.mart.committed.map((b) => b.events.map((e) => e.offset))).toEqual([['0', '1', '3', '4']]);
    expect(p.dlq.underLocks).toEqual([false]);
  });
});

describe('a stored position ahead of the log (topic re-created)', () => {
  it('is systemic and loud, not "already committed"; it resumes once the position is reset', async () => {
    const p = pipeline();
    p.mart.positions.set(0, '10'); // committed against the old topic
    const values: number[] = [];
    const gauge = p.metrics.systemicFailures;
    const set = gauge.set.bind(gauge) as (labels: Record<string, string>, v: number) => void;
    gauge.set = ((labels: Record<string, string>, v: number) => {
      values.push(v);
      set(labels, v);
    }) as typeof gauge.set;
    p.hooks.onBlocked = (stage) => {
      p.stalls.push(`blocked ${stage}`);
      p.mart.positions.set(0, '0'); // the operator: ride-cdc offsets reset --to earliest
    };
    const out = await run(p, batchOf([{ offset: 0 }, { offset: 1 }, { offset: 2 }], '10'));
    expect(out).toEqual({ next: '3', fenced: false });
    expect(p.stalls).toEqual(['blocked kafka', 'recovered kafka']);
    expect(values).toEqual([1, 0]);
    expect(p.mart.committed[0]!.events.map((e) => e.offset)).toEqual(['0', '1', '2']);
    expect(
      await metricValue(p.metrics, 'ride_cdc_messages_skipped_total', { kind: 'already-committed' }),
    ).toBe(0);
  });
});

describe('classifyPgError', () => {
  const pgErr = (code: string) => Object.assign(new Error(`pg ${code}`), { code });
  it('transient, the event’s fault, or systemic — never a bare rethrow that loops', () => {
    expect(classifyPgError(pgErr('40P01'))).toBeInstanceOf(TransientError);
    expect(classifyPgError(pgErr('55P03'))).toBeInstanceOf(TransientError); // lock_timeout
    expect(classifyPgError(pgErr('57014'))).toBeInstanceOf(TransientError); // statement_timeout
    expect(classifyPgError(pgErr('22P02'))).toBeInstanceOf(MartDataError);
    expect(classifyPgError(pgErr('23505'))).toBeInstanceOf(MartDataError);
    expect((classifyPgError(pgErr('28P01')) as SystemicError).reason).toBe('reporting-db-auth');
    expect((classifyPgError(pgErr('42P01')) as SystemicError).reason).toBe('reporting-db-schema');
    expect((classifyPgError(pgErr('XX000')) as SystemicError).reason).toBe('reporting-db-error');
  });
});

describe('a source truncate', () => {
  it('is systemic at the project stage: nothing written or dead-lettered, paused and loud until stopped', async () => {
    const p = pipeline();
    const values: number[] = [];
    const gauge = p.metrics.systemicFailures;
    const set = gauge.set.bind(gauge) as (labels: Record<string, string>, v: number) => void;
    gauge.set = ((labels: Record<string, string>, v: number) => {
      expect(labels).toEqual({ stage: 'project', reason: 'source-truncate' });
      values.push(v);
      set(labels, v);
    }) as typeof gauge.set;
    const stop = new AbortController();
    let blockedWith: unknown;
    p.hooks.onBlocked = (stage, err) => {
      p.stalls.push(`blocked ${stage}`);
      blockedWith = err;
    };
    p.hooks.onRecovered = (stage) => void p.stalls.push(`recovered ${stage}`);
    const running = run(
      p,
      batchOf([{ offset: 0 }, { offset: 1, truncate: true }, { offset: 2 }]),
      stop.signal,
    );
    // It keeps failing (it cannot heal by itself) until the worker is stopped for the rebuild.
    await new Promise((r) => setTimeout(r, 50));
    expect(values.length).toBeGreaterThanOrEqual(2);
    expect(values).toEqual(values.map((_, i) => i + 1));
    stop.abort();
    await expect(running).rejects.toThrow();
    expect(p.stalls[0]).toBe('blocked project');
    expect(blockedWith).toBeInstanceOf(SystemicError);
    expect((blockedWith as SystemicError).reason).toBe('source-truncate');
    expect((blockedWith as Error).message).toContain('table drivers was truncated');
    expect((blockedWith as Error).message).toContain('ride.public.drivers/0 offset 1');
    expect((blockedWith as Error).message).toContain('`ride-cdc mart rebuild --table drivers`');
    expect((blockedWith as Error).message).toContain('group g');
    // Nothing of the batch reached a sink: no document, no dead letter, no position move.
    expect(p.journal.entries).toEqual(['decode 0', 'decode 1', 'decode 2']);
    expect(p.dlq.letters).toEqual([]);
    expect(p.mart.committed).toEqual([]);
    expect(await metricValue(p.metrics, 'ride_cdc_dead_letter_total')).toBe(0);
  });
});
