import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { AVRO_OPTIONS } from './avro-long.js';
import type { AvroSchema } from './logical-types.js';
import { PoisonMessageError, RideCdcError, TransientError } from '../shared/errors.js';

/** Resolves a schema id to its avsc reader and raw JSON. Implementations cache by id forever (ids are immutable). */
export interface SchemaSource {
  /** Blocks on a registry request for an unseen id. Throws UnknownSchemaError or TransientError. */
  resolve(id: number): Promise<ResolvedSchema>;
}

export interface ResolvedSchema {
  id: number;
  raw: AvroSchema;
  /** Decodes the Avro payload (without the 5-byte frame). */
  decode(payload: Buffer): unknown;
}

/** The registry has no schema with this id (yet: it may lag the producer). Retried a few times, then dead-lettered. */
export class UnknownSchemaError extends RideCdcError {
  constructor(readonly schemaId: number, cause?: unknown) {
    super(`schema id ${schemaId} is not known to the registry`, { retriable: true, cause });
  }
}

function statusOf(err: unknown): number | undefined {
  const e = err as { status?: number; response?: { status?: () => number } } | undefined;
  if (typeof e?.status === 'number') return e.status;
  const s = e?.response?.status;
  return typeof s === 'function' ? s.call(e?.response) : undefined;
}

export function classifyRegistryError(id: number, err: unknown): Error {
  const status = statusOf(err);
  const msg = err instanceof Error ? err.message : String(err);
  if (status === 404 || /40403/.test(msg)) return new UnknownSchemaError(id, err);
  if (status === undefined) {
    const code = (err as { code?: string }).code ?? '';
    const network = /^E(CONN|TIMEDOUT|NOTFOUND|AI_AGAIN|PIPE|HOSTUNREACH|NETUNREACH)/.test(code) || /ECONN|socket|timed? ?out|network|fetch failed/i.test(msg);
    // Anything else without an HTTP status failed while compiling the schema: retrying cannot help.
    if (!network) return new PoisonMessageError('schema-unusable', `schema id ${id} cannot be used: ${msg}`, err);
  } else if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new PoisonMessageError('registry-rejected', `registry answered ${status} for schema id ${id}: ${msg}`, err);
  }
  return new TransientError(`schema registry unavailable while resolving id ${id}: ${msg}`, err);
}

/**
 * Schemas from a Confluent-compatible registry through @kafkajs/confluent-schema-registry, whose
 * own cache holds the avsc types; the raw JSON (needed for Debezium's connect.name annotations,
 * which avsc drops) is cached here.
 */
export class RegistrySchemaSource implements SchemaSource {
  private readonly registry: SchemaRegistry;
  private readonly cache = new Map<number, Promise<ResolvedSchema>>();

  constructor(opts: { url: string; username?: string; password?: string }) {
    this.registry = new SchemaRegistry({
      host: opts.url,
      auth: opts.username ? { username: opts.username, password: opts.password ?? '' } : undefined,
      // Our own retry (with pause/backoff) owns transient failures; keep the client's short.
      retry: { retries: 1, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 1 },
    }, { [SchemaType.AVRO]: AVRO_OPTIONS } as never);
  }

  resolve(id: number): Promise<ResolvedSchema> {
    let p = this.cache.get(id);
    if (!p) {
      p = this.fetch(id);
      this.cache.set(id, p);
      // Failures are not cached: the next message retries the lookup.
      p.catch(() => this.cache.delete(id));
    }
    return p;
  }

  private async fetch(id: number): Promise<ResolvedSchema> {
    try {
      // `api` is the client's own HTTP layer (private in its typings); reuse it so auth and agent settings apply.
      const api = (this.registry as unknown as { api: { Schema: { find(a: { id: number }): Promise<{ data(): unknown }> } } }).api;
      const res = await api.Schema.find({ id });
      const body = res.data() as { schema: string; schemaType?: string };
      if (body.schemaType && body.schemaType !== 'AVRO') {
        throw new PoisonMessageError('unsupported-schema-type', `schema id ${id} is ${body.schemaType}, expected AVRO`);
      }
      const type = await this.registry.getSchema(id);
      const avro = type as unknown as { fromBuffer(b: Buffer): unknown };
      return { id, raw: JSON.parse(body.schema) as AvroSchema, decode: (payload) => avro.fromBuffer(payload) };
    } catch (err) {
      if (err instanceof RideCdcError) throw err;
      throw classifyRegistryError(id, err);
    }
  }
}
