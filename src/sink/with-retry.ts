import { retry } from '../shared/retry.js';
import type { Sink, WriteContext } from './sink.js';

export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
  /** Give up after this many attempts (default: until the write context's signal aborts). */
  maxAttempts?: number;
}

/**
 * Retries a sink's writes: retriable errors (TransientError, SystemicError) back off with capped
 * exponential delay until they succeed, attempts run out or the context's signal aborts; anything
 * else is rethrown at once. The context hears about every retry (so the batch's partition can be
 * paused and /readyz fail) and about the end of the stall.
 */
export function withRetry<In, Out>(sink: Sink<In, Out>, policy: RetryPolicy): Sink<In, Out> {
  return {
    stage: sink.stage,
    start: () => sink.start(),
    close: () => sink.close(),
    write: (batch, ctx) => retryStage(sink.stage, (c) => sink.write(batch, c), ctx, policy),
  };
}

/** One retried call of a stage (a sink write, or a decode): the shared loop behind withRetry. */
export async function retryStage<T>(
  stage: string,
  fn: (ctx: WriteContext) => Promise<T>,
  ctx: WriteContext,
  policy: RetryPolicy,
  retriable?: (err: unknown) => boolean,
): Promise<T> {
  let retried = false;
  try {
    return await retry(() => fn(ctx), {
      initialDelayMs: policy.initialMs,
      maxDelayMs: policy.maxMs,
      maxAttempts: policy.maxAttempts,
      signal: ctx.signal,
      retriable,
      onRetry: (err, attempt) => {
        retried = true;
        ctx.onRetry?.(stage, err, attempt);
      },
    });
  } finally {
    if (retried) ctx.onSettled?.(stage);
  }
}
