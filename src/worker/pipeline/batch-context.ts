import { UnknownSchemaError } from '../../decode/schema-source.js';
import type { Logger } from '../../observe/logger.js';
import type { Metrics } from '../../observe/metrics.js';
import { SystemicError, errorMessage } from '../../shared/errors.js';
import type { WriteContext } from '../../sink/sink.js';

export interface StallHooks {
  /** A stage of this partition is failing and being retried: pause it, report not ready. */
  onBlocked(stage: string, err: unknown): void;
  onRecovered(stage: string): void;
}

/**
 * The write context of one batch: every retry is counted and logged; the first one of a stage
 * blocks the partition (pause, /readyz false) and the end of the stall unblocks it. A
 * SystemicError also sets `ride_cdc_systemic_failures{stage,reason}` to the number of consecutive
 * failures, back to 0 when the stage works again, for the alert rules. An unknown schema id is
 * not an outage (the registry may lag the producer): it is retried without blocking.
 */
export function batchContext(
  signal: AbortSignal,
  hooks: StallHooks,
  metrics: Metrics,
  log: Logger,
): WriteContext {
  const blocked = new Set<string>();
  const systemic = new Map<string, string>();
  return {
    signal,
    onRetry(stage, err, attempt) {
      metrics.retries.inc({ stage });
      log.warn({ stage, attempt, err: errorMessage(err) }, 'stage failing; backing off');
      if (err instanceof UnknownSchemaError) return;
      if (err instanceof SystemicError) {
        systemic.set(stage, err.reason);
        metrics.systemicFailures.set({ stage, reason: err.reason }, attempt);
        log.error(
          { stage, reason: err.reason, attempt, err: err.message },
          'systemic failure; partition paused until the cause is fixed',
        );
      }
      metrics.sinkFailures.inc({
        sink: stage,
        kind: err instanceof SystemicError ? err.reason : 'unavailable',
      });
      if (!blocked.has(stage)) {
        blocked.add(stage);
        hooks.onBlocked(stage, err);
      }
    },
    onSettled(stage) {
      const reason = systemic.get(stage);
      if (reason !== undefined) {
        systemic.delete(stage);
        metrics.systemicFailures.set({ stage, reason }, 0);
      }
      if (blocked.delete(stage)) hooks.onRecovered(stage);
    },
  };
}
