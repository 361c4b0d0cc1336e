import { compileSchema } from './compile-schema.js';
import type { AvroSchema } from './logical-types.js';
import type { Value } from './change-event.js';
import {
  PoisonMessageError,
  RideCdcError,
  SystemicError,
  TransientError,
  errorMessage,
} from '../shared/errors.js';

/** Resolves a schema id to its avsc reader and raw JSON. Implementations cache by id forever (ids are immutable). */
export interface SchemaSource {
  /**
   * Blocks on a registry request for an unseen id. Throws UnknownSchemaError (dead-letter it),
   * TransientError (incl. SchemaNotYetKnownError: back off) or SystemicError (auth/config: pause).
   */
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

/**
 * The registry answered definitively, for longer than the configured wait, that it has no schema
 * with this id: the message cannot ever be decoded here, so it is dead-lettered (reason
 * "unknown-schema"; `ride-cdc dlq replay` re-drives it once the schema exists).
 */
export class UnknownSchemaError extends PoisonMessageError {
  constructor(
    readonly schemaId: number,
    cause?: unknown,
  ) {
    super('unknown-schema', `schema id ${schemaId} is not known to the registry`, cause);
  }
}

/**
 * The registry says it does not know this id, but the wait is not over: a registry may lag the
 * producer (kafkasql storage replays its journal; a restored registry catches up). Retried with
 * backoff like an outage: the partition pauses and /readyz fails meanwhile.
 */
export class SchemaNotYetKnownError extends TransientError {
  constructor(
    readonly schemaId: number,
    waitedMs: number,
    answers: number,
  ) {
    super(
      `schema id ${schemaId} is not known to the registry yet (${answers} answer(s) in ${Math.round(waitedMs / 1000)} s); waiting before dead-lettering`,
    );
  }
}

/** An HTTP answer from the registry that is not a success, with the Confluent error code if any. */
export class RegistryHttpError extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
    readonly body: string,
  ) {
    super(`GET ${path}: ${status} ${body.slice(0, 300)}`);
  }

  /** Confluent's error_code (40403 = schema not found); absent when the answer is not the registry's. */
  get errorCode(): number | undefined {
    try {
      const code = (JSON.parse(this.body) as { error_code?: unknown }).error_code;
      return typeof code === 'number' ? code : undefined;
    } catch {
      return undefined;
    }
  }
}

/** What one failed registry lookup means. */
export type RegistryVerdict = { kind: 'unknown-id' } | { kind: 'error'; error: Error };

/**
 * Classifies a failed lookup of schema id `id`:
 *  - 404 carrying the registry's own error code → the id is unknown (bounded wait, then dead letter);
 *  - 404 without one → the URL is not a registry API (wrong SCHEMA_REGISTRY_URL path): systemic;
 *  - 401/403 and every other 4xx → auth or configuration: SystemicError (pause, never dead-letter:
 *    a wrong password must not empty the mart into the dead-letter topic);
 *  - 408, 429, 5xx, network → TransientError.
 */
export function classifyRegistryError(id: number, err: unknown): RegistryVerdict {
  const error = (e: Error): RegistryVerdict => ({ kind: 'error', error: e });
  if (err instanceof RideCdcError) return error(err);
  if (!(err instanceof RegistryHttpError))
    return error(
      new TransientError(`schema registry unavailable while resolving id ${id}: ${errorMessage(err)}`, err),
    );
  const { status } = err;
  if (status === 404) {
    const code = err.errorCode;
    if (code !== undefined && code >= 40400 && code < 40500) return { kind: 'unknown-id' };
    return error(
      new SystemicError(
        'registry-misconfigured',
        `registry URL answered 404 without a registry error for ${err.path}: is SCHEMA_REGISTRY_URL the Confluent-compatible API (…/apis/ccompat/v7)?`,
        err,
      ),
    );
  }
  if (status === 401 || status === 403)
    return error(
      new SystemicError(
        'registry-auth',
        `registry refused the credentials (${status}) while resolving schema id ${id}: check SCHEMA_REGISTRY_USERNAME/PASSWORD`,
        err,
      ),
    );
  if (status >= 400 && status < 500 && status !== 408 && status !== 429)
    return error(
      new SystemicError(
        'registry-rejected',
        `registry answered ${status} for schema id ${id}: ${err.message}`,
        err,
      ),
    );
  return error(new TransientError(`schema registry unavailable (${status}) while resolving id ${id}`, err));
}

/**
 * The bounded wait for an unknown id: it is dead-lettered only once the registry has answered
 * "unknown" at least `answers` times AND for at least `waitMs` since the first such answer. Only
 * definitive answers count; an outage in between neither counts nor resets the clock. Pure (clock
 * passed in).
 */
export class UnknownSchemaWait {
  private readonly seen = new Map<number, { firstMs: number; answers: number }>();

  constructor(
    private readonly answers: number,
    private readonly waitMs: number,
  ) {}

  /** Records one definitive "unknown" answer; returns the error to throw. */
  unknown(id: number, nowMs: number): SchemaNotYetKnownError | UnknownSchemaError {
    const s = this.seen.get(id) ?? { firstMs: nowMs, answers: 0 };
    s.answers++;
    this.seen.set(id, s);
    const waited = nowMs - s.firstMs;
    if (s.answers > this.answers && waited >= this.waitMs) return new UnknownSchemaError(id);
    return new SchemaNotYetKnownError(id, waited, s.answers);
  }

  /** The id resolved after all: forget its history. */
  known(id: number): void {
    this.seen.delete(id);
  }
}

/**
 * Schemas from a Confluent-compatible registry (GET /schemas/ids/{id}, basic auth), cached by id.
 *
 * The avsc type is compiled here from the raw JSON: the raw JSON is needed anyway for Debezium's
 * connect.name annotations (avsc drops them). Apicurio 3.0.9 answers 400 ("Failed to discover
 * artifact type from content") to GET /schemas/ids/{id} for some schemas (seen on the bookings
 * envelope) while the same schema is served by the standard /schemas/ids/{id}/versions +
 * /subjects/{s}/versions/{v}/schema endpoints, which we fall back to. Requests are made with
 * fetch rather than @kafkajs/confluent-schema-registry because classification needs the
 * registry's error_code, which that client's errors drop.
 */
export class RegistrySchemaSource implements SchemaSource {
  private readonly cache = new Map<number, Promise<ResolvedSchema>>();
  private readonly url: string;
  private readonly auth?: string;
  private readonly wait: UnknownSchemaWait;

  constructor(
    opts: {
      url: string;
      username?: string;
      password?: string;
      /** Definitive "unknown id" answers before dead-lettering (SCHEMA_UNKNOWN_RETRIES). */
      unknownSchemaRetries?: number;
      /** And at least this long since the first one (SCHEMA_UNKNOWN_WAIT_MS). */
      unknownSchemaWaitMs?: number;
    },
    private readonly now: () => number = Date.now,
  ) {
    this.url = opts.url.replace(/\/+$/, '');
    if (opts.username)
      this.auth = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
    this.wait = new UnknownSchemaWait(opts.unknownSchemaRetries ?? 5, opts.unknownSchemaWaitMs ?? 60_000);
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
    const body = await this.lookup(id);
    this.wait.known(id);
    if (body.schemaType && body.schemaType !== 'AVRO') {
      throw new PoisonMessageError(
        'unsupported-schema-type',
        `schema id ${id} is ${body.schemaType}, expected AVRO`,
      );
    }
    try {
      return compileSchema(id, JSON.parse(body.schema) as AvroSchema);
    } catch (err) {
      throw new PoisonMessageError(
        'schema-unusable',
        `schema id ${id} cannot be compiled: ${(err as Error).message}`,
        err,
      );
    }
  }

  private async lookup(id: number): Promise<{ schema: string; schemaType?: string }> {
    let verdict: RegistryVerdict;
    try {
      return (await this.get(`/schemas/ids/${id}`)) as { schema: string; schemaType?: string };
    } catch (err) {
      const fallback = err instanceof RegistryHttpError && (err.status === 400 || err.status === 422);
      verdict = classifyRegistryError(id, err);
      if (fallback) {
        try {
          return await this.byVersions(id);
        } catch (err2) {
          verdict = classifyRegistryError(id, err2);
        }
      }
    }
    if (verdict.kind === 'unknown-id') throw this.wait.unknown(id, this.now());
    throw verdict.error;
  }

  private async byVersions(id: number): Promise<{ schema: string; schemaType?: string }> {
    const versions = (await this.get(`/schemas/ids/${id}/versions`)) as {
      subject: string;
      version: number;
    }[];
    const first = versions[0];
    if (!first) throw new RegistryHttpError(404, `/schemas/ids/${id}/versions`, '{"error_code":40403}');
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
    if (!res.ok) throw new RegistryHttpError(res.status, path, await res.text().catch(() => ''));
    return text ? res.text() : res.json();
  }
}
