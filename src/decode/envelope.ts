import type { ChangeEvent, Op, Row, Value } from './change-event.js';
import { PoisonMessageError } from '../shared/errors.js';

const OPS = new Set<Op>(['c', 'u', 'd', 'r', 't']);

export interface MessageMeta {
  topic: string;
  partition: number;
  offset: string;
}

export type DecodedMessage =
  | { kind: 'change'; event: ChangeEvent }
  /** Kafka tombstone after a delete: compaction marker, carries no new information. */
  | { kind: 'tombstone'; key: Row | null }
  | { kind: 'heartbeat'; tsMs: number | null }
  /** Op 'm' (logical decoding message) and other envelopes the worker deliberately skips. */
  | { kind: 'ignored'; reason: string };

function asRow(v: Value | undefined, what: string): Row | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object' || Array.isArray(v))
    throw new PoisonMessageError('invalid-envelope', `${what} is not a record`);
  return v as Row;
}

/** LSNs and tx ids are longs; avsc decodes them to numbers (safe below 2^53, which real LSNs are). */
function asNumber(v: Value | undefined): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'string' || typeof v === 'bigint' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

/**
 * The fields of a Debezium envelope and of its source block that fromEnvelope reads. The decoder
 * reads envelopes with a reader schema of just these (compile-schema.ts): avsc skips the rest of
 * each message (connector name, version, database, ts_us, ts_ns, transaction ...) unread.
 */
export const ENVELOPE_FIELDS: ReadonlySet<string> = new Set(['before', 'after', 'source', 'op']);
export const SOURCE_FIELDS: ReadonlySet<string> = new Set(['lsn', 'ts_ms', 'txId', 'snapshot']);

/**
 * Debezium envelope (already normalised) → ChangeEvent. Pure; throws PoisonMessageError when the
 * record is not a Debezium change envelope.
 */
export function fromEnvelope(value: Row, key: Row | null, table: string, meta: MessageMeta): DecodedMessage {
  const op = value.op;
  if (op === 'm') return { kind: 'ignored', reason: 'message' };
  if (typeof op !== 'string' || !OPS.has(op as Op)) {
    throw new PoisonMessageError('invalid-envelope', `unknown or missing op ${JSON.stringify(op)}`);
  }
  const source = asRow(value.source, 'source');
  if (!source) throw new PoisonMessageError('invalid-envelope', 'envelope has no source block');
  const lsn = asNumber(source.lsn);
  const sourceTsMs = asNumber(source.ts_ms);
  if (lsn === null || sourceTsMs === null) {
    throw new PoisonMessageError('invalid-envelope', 'source.lsn and source.ts_ms are required');
  }
  const before = asRow(value.before, 'before');
  const after = asRow(value.after, 'after');
  if ((op === 'c' || op === 'r' || op === 'u') && !after) {
    throw new PoisonMessageError('invalid-envelope', `op ${op} without an after image`);
  }
  const snap = source.snapshot;
  return {
    kind: 'change',
    event: {
      table,
      op: op as Op,
      key,
      before,
      after,
      sourceTsMs,
      lsn,
      txId: asNumber(source.txId),
      snapshot: snap !== null && snap !== undefined && snap !== 'false' && snap !== false,
      topic: meta.topic,
      partition: meta.partition,
      offset: meta.offset,
    },
  };
}

export function fromHeartbeat(value: Row | null): DecodedMessage {
  return { kind: 'heartbeat', tsMs: asNumber(value?.ts_ms) };
}
