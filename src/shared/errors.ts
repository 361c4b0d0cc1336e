/**
 * One error hierarchy for the data path. Every error says whether a retry can help: transient
 * infrastructure trouble is retried with backoff, bad data is dead-lettered, bugs are never retried.
 */
export class RideCdcError extends Error {
  readonly retriable: boolean;
  constructor(message: string, opts: { retriable: boolean; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.retriable = opts.retriable;
  }
}

/** A sink or dependency is unavailable (connection refused, 429, 5xx, timeout). */
export class TransientError extends RideCdcError {
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: true, cause });
  }
}

/** The message itself is bad: it will fail the same way every time, so it goes to the DLQ. */
export class PoisonMessageError extends RideCdcError {
  readonly reason: string;
  constructor(reason: string, message: string, cause?: unknown) {
    super(message, { retriable: false, cause });
    this.reason = reason;
  }
}

/**
 * Not the event's fault and not a blip: authentication refused, a missing index, a stored position
 * ahead of the log, a source truncate. Never dead-lettered: the affected partitions pause, `/readyz`
 * fails, `ride_cdc_systemic_failures` (by stage and reason) rises for the alert rules, and the stage
 * is retried with capped backoff until the cause is gone.
 */
export class SystemicError extends RideCdcError {
  readonly reason: string;
  constructor(reason: string, message: string, cause?: unknown) {
    super(message, { retriable: true, cause });
    this.reason = reason;
  }
}

/** Configuration is invalid; reported once at start, never retried. */
export class ConfigError extends RideCdcError {
  constructor(message: string) {
    super(message, { retriable: false });
  }
}

export function isRetriable(err: unknown): boolean {
  return err instanceof RideCdcError ? err.retriable : false;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
