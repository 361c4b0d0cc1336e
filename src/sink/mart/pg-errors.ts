import { TransientError, errorMessage } from '../../shared/errors.js';

/** Connection loss, serialization failures and deadlocks are worth a retry; anything else is a bug. */
export function classifyPgError(err: unknown): Error {
  const code = (err as { code?: string }).code ?? '';
  const transient =
    code === '40001' ||
    code === '40P01' ||
    code.startsWith('08') ||
    code.startsWith('57P') ||
    code === '53300' ||
    /ECONNREFUSED|ECONNRESET|timeout|terminat|Connection/i.test(errorMessage(err));
  return transient ? new TransientError(`reporting_db: ${errorMessage(err)}`, err) : (err as Error);
}
