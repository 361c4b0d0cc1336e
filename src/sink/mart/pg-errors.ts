import { LOCK_NOT_AVAILABLE } from '../../db/pg.js';
import { RideCdcError, SystemicError, TransientError, errorMessage } from '../../shared/errors.js';

/**
 * reporting_db refused a value the batch carries (SQLSTATE class 22 data exception, 23 integrity
 * violation): the same statement fails on every retry, so the offending event is isolated
 * (sink-stages.ts) and dead-lettered instead of the batch looping forever.
 */
export class MartDataError extends RideCdcError {
  constructor(
    readonly code: string,
    message: string,
    cause?: unknown,
  ) {
    super(message, { retriable: false, cause });
  }
}

/**
 * Connection loss, serialization failures, deadlocks, lock and statement timeouts are worth a
 * retry; bad values are the event's fault (MartDataError); everything else (auth, a missing
 * table or column, an unknown error) is systemic: paused and loud, retried with capped backoff.
 */
export function classifyPgError(err: unknown): Error {
  if (err instanceof RideCdcError) return err;
  const code = (err as { code?: string }).code ?? '';
  const msg = `reporting_db: ${errorMessage(err)}${code ? ` (SQLSTATE ${code})` : ''}`;
  const transient =
    code === '40001' ||
    code === '40P01' ||
    code === LOCK_NOT_AVAILABLE ||
    code === '57014' || // statement_timeout
    code.startsWith('08') ||
    code.startsWith('57P') ||
    code === '53300' ||
    (!code && /ECONNREFUSED|ECONNRESET|timeout|terminat|Connection/i.test(errorMessage(err)));
  if (transient) return new TransientError(msg, err);
  if (code.startsWith('22') || code.startsWith('23')) return new MartDataError(code, msg, err);
  if (code.startsWith('28')) return new SystemicError('reporting-db-auth', msg, err);
  if (code.startsWith('42') || code === '3D000') return new SystemicError('reporting-db-schema', msg, err);
  return new SystemicError('reporting-db-error', msg, err);
}
