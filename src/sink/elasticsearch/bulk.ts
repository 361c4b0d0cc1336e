import type { Client } from '@elastic/elasticsearch';
import { TransientError } from '../../shared/errors.js';

/** One bulk operation: the action line and, except for deletes, its source line. */
export interface BulkOp<T> {
  action: Record<string, Record<string, unknown>>;
  body?: Record<string, unknown>;
  /** Carried through so the caller can map an item result back to what produced it. */
  tag: T;
}

export type ItemOutcome = 'ok' | 'conflict' | 'not_found' | 'retriable' | 'rejected';

export interface ItemResult<T> {
  tag: T;
  outcome: ItemOutcome;
  status: number;
  error?: string;
  seqNo?: number;
  primaryTerm?: number;
}

/**
 * Classifies a bulk item: 409 = a version/OCC conflict or an existing create target (expected with
 * replays); 429 and 5xx = try again later; other 4xx (mapping, parsing) = this document will never
 * be accepted, so its source event is dead-lettered.
 */
export function classifyItem(status: number): ItemOutcome {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 409) return 'conflict';
  if (status === 404) return 'not_found';
  if (status === 429 || status >= 500) return 'retriable';
  return 'rejected';
}

/** Splits operations into requests bounded by count and (approximate JSON) bytes. */
export function chunkOps<T>(ops: readonly BulkOp<T>[], maxDocs: number, maxBytes: number): BulkOp<T>[][] {
  const chunks: BulkOp<T>[][] = [];
  let cur: BulkOp<T>[] = [];
  let bytes = 0;
  for (const op of ops) {
    const size = JSON.stringify(op.action).length + (op.body ? JSON.stringify(op.body).length : 0) + 2;
    if (cur.length > 0 && (cur.length >= maxDocs || bytes + size > maxBytes)) {
      chunks.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(op);
    bytes += size;
  }
  if (cur.length > 0) chunks.push(cur);
  return chunks;
}

export interface BulkRunner {
  client: Client;
  maxDocs: number;
  maxBytes: number;
  /** Called with each request's duration in seconds. */
  observe?: (seconds: number) => void;
}

/** Sends ops in chunks; a failed request (connection, 5xx on the whole call) is a TransientError. */
export async function runBulk<T>(runner: BulkRunner, ops: readonly BulkOp<T>[]): Promise<ItemResult<T>[]> {
  const results: ItemResult<T>[] = [];
  for (const chunk of chunkOps(ops, runner.maxDocs, runner.maxBytes)) {
    const operations: Record<string, unknown>[] = [];
    for (const op of chunk) {
      operations.push(op.action);
      if (op.body) operations.push(op.body);
    }
    const started = performance.now();
    let res;
    try {
      res = await runner.client.bulk({ operations, refresh: false });
    } catch (err) {
      throw new TransientError(`elasticsearch bulk request failed: ${(err as Error).message}`, err);
    } finally {
      runner.observe?.((performance.now() - started) / 1000);
    }
    res.items.forEach((item, i) => {
      const r = Object.values(item)[0]!;
      const status = r.status;
      results.push({
        tag: chunk[i]!.tag,
        outcome: classifyItem(status),
        status,
        error: r.error ? `${r.error.type}: ${r.error.reason ?? ''}` : undefined,
        seqNo: r._seq_no,
        primaryTerm: r._primary_term,
      });
    });
  }
  return results;
}
