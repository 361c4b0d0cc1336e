import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avsc from 'avsc';
import { avroOptions } from './avro-long.js';
import { compileNormaliser, type AvroSchema } from './logical-types.js';
import type { Value } from './change-event.js';
import { PoisonMessageError, RideCdcError, SystemicError, TransientError } from '../shared/errors.js';

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
  /** Normalises a decoded value against this schema (named types resolved). */
  normalise(value: unknown): Value;
}

/** The registry has no schema with this id (yet: it may lag the producer). Retried a few times, then dead-lettered. */
export class UnknownSchemaError extends RideCdcError {
  constructor(
    readonly schemaId: number,
    cause?: unknown,
  ) {
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
  // Not the event's fault: every message would fail alike. Never dead-letter on a refused login.
  if (status === 401 || status === 403)
    return new SystemicError(
      'auth',
      `registry answered ${status} for schema id ${id}: check SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD`,
      err,
    );
  if (status === undefined) {
    const code = (err as { code?: string }).code ?? '';
    const network =
      /^E(CONN|TIMEDOUT|NOTFOUND|AI_AGAIN|PIPE|HOSTUNREACH|NETUNREACH)/.test(code) ||
      /ECONN|socket|timed? ?out|network|fetch failed/i.test(msg);
    // Anything else without an HTTP status failed while compiling the schema: retrying cannot help.
    if (!network)
      return new PoisonMessageError('schema-unusable', `schema id ${id} cannot be used: ${msg}`, err);
  } else if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new PoisonMessageError(
      'registry-rejected',
      `registry answered ${status} for schema id ${id}: ${msg}`,
      err,
    );
  }
  return new TransientError(`schema registry unavailable while resolving id ${id}: ${msg}`, err);
}

type Api = {
  Schema: { find(a: { id: number }): Promise<{ data(): unknown }> };
};

/**
 * Schemas from a Confluent-compatible registry, through the HTTP client of
 * @kafkajs/confluent-schema-registry (auth, agent and retry settings apply), cached by id.
 *
 * The avsc type is compiled here from the raw JSON rather than by the client's decode(): the raw
 * JSON is needed anyway for Debezium's connect.name annotations (avsc drops them), and Apicurio
 * 3.0.9 answers 400 ("Failed to discover artifact type from content") to GET /schemas/ids/{id} for
 * some schemas (seen on the bookings envelope) while the same schema is served by the standard
 * /schemas/ids/{id}/versions + /subjects/{s}/versions/{v}/schema endpoints, which we fall back to.
 */
export class RegistrySchemaSource implements SchemaSource {
  private readonly registry: SchemaRegistry;
  private readonly cache = new Map<number, Promise<ResolvedSchema>>();
  private readonly url: string;
  private readonly auth?: string;

  constructor(opts: { url: string; username?: string; password?: string }) {
    this.url = opts.url.replace(/\/+$/, '');
    if (opts.username)
      this.auth = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
    this.registry = new SchemaRegistry({
      host: opts.url,
      auth: opts.username ? { username: opts.username, password: opts.password ?? '' } : undefined,
      // Our own retry (with pause/backoff) owns transient failures; keep the client's short.
      retry: { retries: 1, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 1 },
    });
  }

  /** One authenticated request: fails with the HTTP status when the registry refuses us. */
  async check(): Promise<void> {
    await this.get('/subjects');
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
    let body: { schema: string; schemaType?: string };
    try {
      body = await this.byId(id);
    } catch (err) {
      const status = statusOf(err);
      if (status !== 400 && status !== 422) throw classifyRegistryError(id, err);
      try {
        body = await this.byVersions(id);
      } catch (err2) {
        throw err2 instanceof RideCdcError ? err2 : classifyRegistryError(id, err2);
      }
    }
    if (body.schemaType && body.schemaType !== 'AVRO') {
      throw new PoisonMessageError(
        'unsupported-schema-type',
        `schema id ${id} is ${body.schemaType}, expected AVRO`,
      );
    }
    try {
      const raw = JSON.parse(body.schema) as AvroSchema;
      const type = avsc.Type.forSchema(raw as avsc.Schema, avroOptions() as Partial<avsc.ForSchemaOptions>);
      return { id, raw, decode: (payload) => type.fromBuffer(payload), normalise: compileNormaliser(raw) };
    } catch (err) {
      throw new PoisonMessageError(
        'schema-unusable',
        `schema id ${id} cannot be compiled: ${(err as Error).message}`,
        err,
      );
    }
  }

  private async byId(id: number): Promise<{ schema: string; schemaType?: string }> {
    // `api` is the client's own HTTP layer (private in its typings).
    const api = (this.registry as unknown as { api: Api }).api;
    const res = await api.Schema.find({ id });
    return res.data() as { schema: string; schemaType?: string };
  }

  private async byVersions(id: number): Promise<{ schema: string; schemaType?: string }> {
    const versions = (await this.get(`/schemas/ids/${id}/versions`)) as {
      subject: string;
      version: number;
    }[];
    const first = versions[0];
    if (!first) throw new UnknownSchemaError(id);
    const schema = (await this.get(
      `/subjects/${encodeURIComponent(first.subject)}/versions/${first.version}/schema`,
      true,
    )) as string;
    return { schema };
  }

  private async get(path: string, text = false): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        headers: this.auth ? { authorization: this.auth } : {},
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new TransientError(`schema registry unavailable: ${(err as Error).message}`, err);
    }
    if (!res.ok)
      throw Object.assign(new Error(`GET ${path}: ${res.status} ${await res.text()}`), {
        status: res.status,
      });
    return text ? res.text() : res.json();
  }
}
