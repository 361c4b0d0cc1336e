/**
 * The one contract every sink of the worker follows: start once (create indices, sync the catalog,
 * connect), write one batch at a time, close once. Retrying is not a sink's business: a sink throws
 * TransientError / SystemicError and `withRetry(sink, policy)` (with-retry.ts) decides.
 */
export interface Sink<In, Out> {
  /** Stage name in logs, metrics and /readyz ("elasticsearch", "reporting_db", "dead-letter"). */
  readonly stage: string;
  start(): Promise<void>;
  write(batch: In, ctx: WriteContext): Promise<Out>;
  close(): Promise<void>;
}

/** What the caller of one write supplies: when to give up, and whom to tell about a stall. */
export interface WriteContext {
  /** Aborts backoff (a hard stop); the write then throws and nothing of the batch is committed. */
  readonly signal: AbortSignal;
  /** Called before each backoff of a retried write. */
  onRetry?(stage: string, err: unknown, attempt: number): void;
  /** Called once when a write that needed retries finally succeeds or gives up. */
  onSettled?(stage: string): void;
}
