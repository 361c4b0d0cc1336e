import type { Client } from '@elastic/elasticsearch';
import { classifyEsError, statusOf, systemicItemReason } from './es-errors.js';

/** One bulk operation: the action line and, except for deletes, its source line. */
export interface BulkOp<T> {
  action: Record<string, Record<string, unknown>>;
  body?: Record<string, unknown>;
  /** Carried through so the caller can map an item result back to what produced it. */
  tag: T;
}

export type ItemOutcome = 'ok' | 'conflict' | 'not_found' | 'retriable' | 'rejected' | 'systemic';

export interface ItemResult<T> {
  tag: T;
  outcome: ItemOutcome;
  status: number;
  error?: string;
  /** For outcome 'systemic': the ride_cdc_systemic_failures reason. */
  reason?: string;
  seqNo?: number;
  primaryTerm?: number;
}

/**
 * Classifies a bulk item: 409 = a version/OCC conflict or an existing create target (expected with
 * replays); 429 and 5xx = try again later; 401/403 (auth, write block) and 404 with an error
 * (missing index) = the cluster is at fault (systemic: pause, never dead-letter); a 404 without an
 * error is a delete of a document already gone; other 4xx (mapping, parsing) = this document will
 * never be accepted, so its source event is dead-lettered.
 */
export function classifyItem(status: number, errorType?: string): ItemOutcome {
  if (status >= 200 && status < 300) return 'ok';
  if (systemicItemReason(status, errorType)) return 'systemic';
  if (status === 409) return 'conflict';
  if (status === 404) return 'not_found';
  if (status === 429 || status >= 500) return 'retriable';
  return 'rejected';
}

/** An operation as sent: its lines serialized once, for the byte limit and for the request body. */
export interface SerializedOp<T> {
  tag: T;
  /** The action line and, except for deletes, the source line (JSON, no newline). */
  lines: string[];
  /** UTF-8 bytes as sent, newlines included. */
  bytes: number;
}

export function serializeOp<T>(op: BulkOp<T>): SerializedOp<T> {
  const lines = op.body ? [JSON.stringify(op.action), JSON.stringify(op.body)] : [JSON.stringify(op.action)];
  let bytes = 0;
  for (const l of lines) bytes += Buffer.byteLength(l) + 1;
  return { tag: op.tag, lines, bytes };
}

/** UTF-8 bytes of one operation as sent (action line, source line, newlines). */
export function opBytes(op: BulkOp<unknown>): number {
  return serializeOp(op).bytes;
}

/** Serializes operations and splits them into requests bounded by count and UTF-8 bytes. */
export function chunkOps<T>(
  ops: readonly BulkOp<T>[],
  maxDocs: number,
  maxBytes: number,
): SerializedOp<T>[][] {
  const chunks: SerializedOp<T>[][] = [];
  let cur: SerializedOp<T>[] = [];
  let bytes = 0;
  for (const op of ops) {
    const s = serializeOp(op);
    if (cur.length > 0 && (cur.length >= maxDocs || bytes + s.bytes > maxBytes)) {
      chunks.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(s);
    bytes += s.bytes;
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

/**
 * The parts of a bulk response the sink reads. Elasticsearch leaves the rest (index, id, version,
 * result, shard counts) out, which saves it the writing and the worker the parsing, per item.
 */
export const BULK_FILTER_PATH =
  'errors,items.*.status,items.*.error,items.*._id,items.*._seq_no,items.*._primary_term';

/**
 * Sends ops in chunks, one request after the other. A request Elasticsearch refuses as a whole with 413 (too large) or 400 (one
 * op it cannot parse) is split in halves and resent, so only the offending op ends up rejected (its
 * event dead-lettered) and the request is never retried forever. Other request failures are
 * classified (es-errors.ts): systemic or transient.
 */
export async function runBulk<T>(runner: BulkRunner, ops: readonly BulkOp<T>[]): Promise<ItemResult<T>[]> {
  const results: ItemResult<T>[] = [];
  for (const chunk of chunkOps(ops, runner.maxDocs, runner.maxBytes))
    results.push(...(await sendChunk(runner, chunk)));
  return results;
}

async function sendChunk<T>(runner: BulkRunner, chunk: readonly SerializedOp<T>[]): Promise<ItemResult<T>[]> {
  // Lines already serialized go into the ndjson body as they are (the client's ndserialize passes
  // strings through): each document is serialized once, not once for sizing and again to send.
  const operations: string[] = [];
  for (const op of chunk) operations.push(...op.lines);
  const started = performance.now();
  let res;
  try {
    res = await runner.client.bulk({
      operations: operations as unknown as Record<string, unknown>[],
      refresh: false,
      filter_path: BULK_FILTER_PATH,
    });
  } catch (err) {
    const status = statusOf(err);
    if (status === 413 || status === 400) {
      if (chunk.length === 1) {
        const reason = status === 413 ? 'request too large for Elasticsearch (413)' : 'bad request (400)';
        return [
          { tag: chunk[0]!.tag, outcome: 'rejected', status, error: `${reason}: ${(err as Error).message}` },
        ];
      }
      const half = Math.ceil(chunk.length / 2);
      return [
        ...(await sendChunk(runner, chunk.slice(0, half))),
        ...(await sendChunk(runner, chunk.slice(half))),
      ];
    }
    throw classifyEsError(err, 'bulk request');
  } finally {
    runner.observe?.((performance.now() - started) / 1000);
  }
  return res.items.map((item, i) => {
    const r = Object.values(item)[0]!;
    const outcome = classifyItem(r.status, r.error?.type);
    return {
      tag: chunk[i]!.tag,
      outcome,
      status: r.status,
      error: r.error ? `${r.error.type}: ${r.error.reason ?? ''}` : undefined,
      reason: outcome === 'systemic' ? (systemicItemReason(r.status, r.error?.type) ?? undefined) : undefined,
      seqNo: r._seq_no,
      primaryTerm: r._primary_term,
    };
  });
}
