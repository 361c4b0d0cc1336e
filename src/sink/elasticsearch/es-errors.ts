import { SystemicError, TransientError, errorMessage } from '../../shared/errors.js';

/** HTTP status of an Elasticsearch client error (ResponseError), undefined for connection errors. */
export function statusOf(err: unknown): number | undefined {
  const meta = (err as { meta?: { statusCode?: number } } | undefined)?.meta;
  return typeof meta?.statusCode === 'number' ? meta.statusCode : undefined;
}

/**
 * A failed Elasticsearch request: refused credentials or permissions (401/403, including a
 * cluster write block) and a missing index (404) are systemic — no retry soon will help and the
 * data is not at fault, so the partition pauses loudly until it is fixed; 429, 5xx and connection
 * trouble are transient. (400 and 413 of a bulk request are handled by splitting it, bulk.ts.)
 */
export function classifyEsError(err: unknown, what: string): Error {
  if (err instanceof SystemicError || err instanceof TransientError) return err;
  const status = statusOf(err);
  const msg = `elasticsearch ${what} failed${status ? ` (HTTP ${status})` : ''}: ${errorMessage(err)}`;
  if (status === 401) return new SystemicError('elasticsearch-auth', msg, err);
  if (status === 403) return new SystemicError('elasticsearch-forbidden', msg, err);
  if (status === 404) return new SystemicError('elasticsearch-index-missing', msg, err);
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429)
    return new SystemicError('elasticsearch-bad-request', msg, err);
  return new TransientError(msg, err);
}

/** A bulk item error that says the cluster, not the document, is at fault. */
export function systemicItemReason(status: number, errorType: string | undefined): string | null {
  if (status === 401) return 'elasticsearch-auth';
  if (status === 403) return 'elasticsearch-forbidden'; // cluster_block_exception: read-only / disk watermark
  if (status === 404 && errorType !== undefined) return 'elasticsearch-index-missing'; // index_not_found_exception
  return null;
}
