import type { Row } from './change-event.js';
import { fromEnvelope, fromHeartbeat, type DecodedMessage, type MessageMeta } from './envelope.js';
import type { ResolvedSchema, SchemaSource } from './schema-source.js';
import { unframe } from './wire-format.js';
import { PoisonMessageError, RideCdcError } from '../shared/errors.js';
import { tableOfTopic } from '../config/worker-config.js';

/** Topic → captured table name, or null when the topic is not a table's change topic. */
export type TableOfTopic = (topic: string) => string | null;

/**
 * Any Debezium table topic, whatever its prefix or schema: `<prefix>.<schema>.<table>` → table.
 * For tools (`ride-cdc tail`) that read topics the worker does not consume.
 */
export const anyDebeziumTable: TableOfTopic = (topic) => {
  if (topic.startsWith('__debezium-heartbeat')) return null;
  const parts = topic.split('.');
  return parts.length >= 3 ? (parts.at(-1) as string) : null;
};

export interface RawMessage extends MessageMeta {
  key: Buffer | null;
  value: Buffer | null;
}

/**
 * Kafka message → DecodedMessage. Only I/O is the schema lookup (cached by id). Errors:
 * PoisonMessageError (dead-letter it; UnknownSchemaError is one, after the bounded wait),
 * TransientError (registry down or id not known yet: back off and pause), SystemicError (registry
 * refuses our credentials or is misconfigured: pause, never dead-letter).
 */
export class Decoder {
  private readonly tableOf: TableOfTopic;
  /** Schemas already resolved: ids are immutable, and a hit then costs no await per message. */
  private readonly resolved = new Map<number, ResolvedSchema>();

  /** `tables`: the worker's topic prefix (only `<prefix>.public.<table>`), or any resolver. */
  constructor(
    private readonly schemas: SchemaSource,
    tables: string | TableOfTopic,
  ) {
    this.tableOf = typeof tables === 'string' ? (t) => tableOfTopic(tables, t) : tables;
  }

  async decode(msg: RawMessage): Promise<DecodedMessage> {
    const now = this.decodeNow(msg);
    if (now !== undefined) return now;
    if (this.tableOf(msg.topic) === null) return this.decodeUncaptured(msg);
    // A schema the message names is not resolved yet. Resolve them in the order decodeNow reads
    // (a bad key fails before the value's schema is looked up), then read it as decodeNow does.
    if (msg.key && this.decodeCached(msg.key, 'key') === undefined) await this.decodeRecord(msg.key, 'key');
    if (msg.value) await this.resolveSchema(msg.value);
    return this.decodeNow(msg)!;
  }

  /**
   * decode() without waiting: undefined while a schema the message names is not resolved yet (then
   * decode() resolves it). Once every schema is known, this is the whole path: no promise per
   * message. Throws what decode() rejects with.
   */
  decodeNow(msg: RawMessage): DecodedMessage | undefined {
    const table = this.tableOf(msg.topic);
    if (table === null) return undefined;
    const key = msg.key ? this.decodeCached(msg.key, 'key') : null;
    if (key === undefined) return undefined;
    if (msg.value === null) return { kind: 'tombstone', key };
    const value = this.decodeCached(msg.value, 'value');
    return value === undefined ? undefined : fromEnvelope(value, key, table, msg);
  }

  /** A topic that is not a captured table's: a Debezium heartbeat, or poison. */
  private async decodeUncaptured(msg: RawMessage): Promise<DecodedMessage> {
    if (msg.key) await this.decodeRecord(msg.key, 'key');
    if (msg.topic.startsWith('__debezium-heartbeat'))
      return fromHeartbeat(msg.value ? await this.decodeRecord(msg.value, 'value') : null);
    throw new PoisonMessageError('unexpected-topic', `topic ${msg.topic} is not a captured table topic`);
  }

  /** The record, or undefined while its schema is not resolved yet (decodeRecord then waits for it). */
  private decodeCached(buf: Buffer, part: 'key' | 'value'): Row | undefined {
    const { schemaId, payload } = unframe(buf);
    const schema = this.resolved.get(schemaId);
    return schema ? readRecord(schema, schemaId, payload, part) : undefined;
  }

  private async decodeRecord(buf: Buffer, part: 'key' | 'value'): Promise<Row> {
    const { schemaId, payload } = unframe(buf);
    return readRecord(await this.resolveSchema(buf), schemaId, payload, part);
  }

  /** The schema the framed message names, resolved once (ids are immutable). */
  private async resolveSchema(buf: Buffer): Promise<ResolvedSchema> {
    const { schemaId } = unframe(buf);
    const known = this.resolved.get(schemaId);
    if (known) return known;
    const schema = await this.schemas.resolve(schemaId);
    this.resolved.set(schemaId, schema);
    return schema;
  }
}

function readRecord(schema: ResolvedSchema, schemaId: number, payload: Buffer, part: 'key' | 'value'): Row {
  let decoded: unknown;
  try {
    decoded = schema.decode(payload);
  } catch (err) {
    throw new PoisonMessageError(
      'avro-decode-failed',
      `${part} does not decode with schema id ${schemaId}: ${(err as Error).message}`,
      err,
    );
  }
  try {
    const row = schema.normalise(decoded);
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new Error('not a record');
    return row as Row;
  } catch (err) {
    if (err instanceof RideCdcError) throw err;
    throw new PoisonMessageError(
      'logical-type',
      `${part} with schema id ${schemaId}: ${(err as Error).message}`,
      err,
    );
  }
}
