import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RegistryHttpError,
  RegistrySchemaSource,
  SchemaNotYetKnownError,
  UnknownSchemaError,
  UnknownSchemaWait,
  classifyRegistryError,
} from '../../src/decode/schema-source.js';
import { PoisonMessageError, SystemicError, TransientError } from '../../src/shared/errors.js';

const http = (status: number, body = '') => new RegistryHttpError(status, '/schemas/ids/7', body);
const errorOf = (err: unknown) => {
  const v = classifyRegistryError(7, err);
  if (v.kind !== 'error') throw new Error(`expected an error verdict, got ${v.kind}`);
  return v.error;
};

describe('registry answers: classification', () => {
  it('401 and 403 are systemic (pause), never a dead letter', () => {
    for (const status of [401, 403]) {
      const e = errorOf(http(status, '{"error_code":40101,"message":"Unauthorized"}'));
      expect(e).toBeInstanceOf(SystemicError);
      expect(e).not.toBeInstanceOf(PoisonMessageError);
      expect((e as SystemicError).reason).toBe('registry-auth');
    }
  });

  it('other 4xx are configuration trouble: systemic', () => {
    for (const status of [400, 405, 406, 415, 422]) {
      const e = errorOf(http(status, 'nope'));
      expect(e, String(status)).toBeInstanceOf(SystemicError);
      expect((e as SystemicError).reason).toBe('registry-rejected');
    }
  });

  it('a 404 with the registry error code means the id is unknown; one without means a wrong URL', () => {
    expect(
      classifyRegistryError(7, http(404, '{"error_code":40403,"message":"Schema 7 not found"}')),
    ).toEqual({
      kind: 'unknown-id',
    });
    const wrongUrl = errorOf(http(404, '<html>Resource not found</html>'));
    expect(wrongUrl).toBeInstanceOf(SystemicError);
    expect((wrongUrl as SystemicError).reason).toBe('registry-misconfigured');
  });

  it('408, 429, 5xx and network failures are transient', () => {
    for (const status of [408, 429, 500, 502, 503])
      expect(errorOf(http(status)), String(status)).toBeInstanceOf(TransientError);
    expect(errorOf(new TypeError('fetch failed'))).toBeInstanceOf(TransientError);
    expect(errorOf(new SystemicError('x', 'kept as is'))).toBeInstanceOf(SystemicError);
  });
});

describe('unknown schema id: bounded wait on definitive answers', () => {
  it('waits for both the number of answers and the time before dead-lettering', () => {
    const w = new UnknownSchemaWait(3, 60_000);
    expect(w.unknown(7, 0)).toBeInstanceOf(SchemaNotYetKnownError);
    expect(w.unknown(7, 1000)).toBeInstanceOf(SchemaNotYetKnownError);
    expect(w.unknown(7, 2000)).toBeInstanceOf(SchemaNotYetKnownError);
    // Enough answers, not enough time.
    expect(w.unknown(7, 30_000)).toBeInstanceOf(SchemaNotYetKnownError);
    const final = w.unknown(7, 60_000);
    expect(final).toBeInstanceOf(UnknownSchemaError);
    expect(final).toBeInstanceOf(PoisonMessageError);
    expect((final as UnknownSchemaError).reason).toBe('unknown-schema');
    // Enough time, not enough answers (e.g. the registry was down in between): keep waiting.
    const w2 = new UnknownSchemaWait(3, 1000);
    expect(w2.unknown(8, 0)).toBeInstanceOf(SchemaNotYetKnownError);
    expect(w2.unknown(8, 120_000)).toBeInstanceOf(SchemaNotYetKnownError);
  });

  it('an id that resolves in the meantime starts from scratch next time', () => {
    const w = new UnknownSchemaWait(0, 0);
    w.known(9);
    expect(w.unknown(9, 0)).toBeInstanceOf(UnknownSchemaError);
    w.known(9);
    const w2 = new UnknownSchemaWait(1, 0);
    w2.unknown(9, 0);
    w2.known(9);
    expect(w2.unknown(9, 10)).toBeInstanceOf(SchemaNotYetKnownError);
  });
});

/** A loopback HTTP server standing in for the registry: answers are scripted per test. */
describe('RegistrySchemaSource against scripted registry answers', () => {
  let server: Server;
  let url = '';
  let answer: (path: string, auth: string | undefined) => { status: number; body: string } = () => ({
    status: 500,
    body: '',
  });
  beforeAll(async () => {
    server = createServer((req, res) => {
      const a = answer(req.url ?? '', req.headers.authorization);
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/apis/ccompat/v7`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('a wrong password pauses (SystemicError registry-auth) instead of dead-lettering', async () => {
    answer = (_p, auth) =>
      auth === `Basic ${Buffer.from('ride:right').toString('base64')}`
        ? { status: 200, body: JSON.stringify({ schema: '"string"' }) }
        : { status: 401, body: '{"error_code":40101,"message":"Unauthorized"}' };
    const wrong = new RegistrySchemaSource({ url, username: 'ride', password: 'wrong' });
    const err = await wrong.resolve(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SystemicError);
    expect((err as SystemicError).reason).toBe('registry-auth');
    const right = new RegistrySchemaSource({ url, username: 'ride', password: 'right' });
    expect((await right.resolve(1)).raw).toBe('string');
  });

  it('an unknown id is retried (transient) until the wait is over, then dead-lettered', async () => {
    answer = () => ({ status: 404, body: '{"error_code":40403,"message":"Schema not found"}' });
    let now = 0;
    const src = new RegistrySchemaSource(
      { url, unknownSchemaRetries: 2, unknownSchemaWaitMs: 10_000 },
      () => now,
    );
    const seen: string[] = [];
    for (const t of [0, 1000, 5000, 10_000]) {
      now = t;
      const e = await src.resolve(42).catch((x: unknown) => x);
      seen.push((e as Error).constructor.name);
    }
    expect(seen).toEqual([
      'SchemaNotYetKnownError',
      'SchemaNotYetKnownError',
      'SchemaNotYetKnownError',
      'UnknownSchemaError',
    ]);
  });

  it('falls back to the versions endpoints when /schemas/ids/{id} answers 400', async () => {
    answer = (p) =>
      p.endsWith('/schemas/ids/5')
        ? { status: 400, body: '{"error_code":400,"message":"Failed to discover artifact type"}' }
        : p.endsWith('/schemas/ids/5/versions')
          ? { status: 200, body: '[{"subject":"s-value","version":1}]' }
          : { status: 200, body: '"long"' };
    expect((await new RegistrySchemaSource({ url }).resolve(5)).raw).toBe('long');
  });
});
