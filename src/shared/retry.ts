import { setTimeout as sleep } from 'node:timers/promises';
import { isRetriable } from './errors.js';

export interface RetryOptions {
  /** First delay; doubles each attempt up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Give up after this many attempts (Infinity = until aborted). */
  maxAttempts?: number;
  signal?: AbortSignal;
  /** Decide whether an error is worth another attempt; default: RideCdcError.retriable. */
  retriable?: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Capped exponential backoff with full jitter, so many workers don't hammer a recovering sink in step. */
export function backoffDelay(
  attempt: number,
  initialDelayMs: number,
  maxDelayMs: number,
  random = Math.random,
): number {
  const cap = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(cap / 2 + random() * (cap / 2));
}

/**
 * Runs `fn` until it succeeds, the error is not retriable, attempts run out or the signal aborts.
 * Blocks the caller for the whole time; the last error is rethrown.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const initial = opts.initialDelayMs ?? 200;
  const max = opts.maxDelayMs ?? 30_000;
  const maxAttempts = opts.maxAttempts ?? Number.POSITIVE_INFINITY;
  const retriable = opts.retriable ?? isRetriable;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= maxAttempts || !retriable(err) || opts.signal?.aborted) throw err;
      const delay = backoffDelay(attempt, initial, max);
      opts.onRetry?.(err, attempt, delay);
      try {
        await sleep(delay, undefined, { signal: opts.signal });
      } catch {
        throw err;
      }
    }
  }
}
