import { describe, expect, it } from 'vitest';
import { chunkOps, classifyItem, opBytes, runBulk, serializeOp } from '../../src/sink/elasticsearch/bulk.js';
import { classifyEsError } from '../../src/sink/elasticsearch/es-errors.js';
import { SystemicError, TransientError } from '../../src/shared/errors.js';

describe('bulk item classification', () => {
  it('separates expected conflicts, retriable and permanent failures', () => {
    expect(classifyItem(201)).toBe('ok');
    expect(classifyItem(409)).toBe('conflict');
    expect(classifyItem(429)).toBe('retriable');
    expect(classifyItem(503)).toBe('retriable');
    expect(classifyItem(400)).toBe('rejected');
    expect(classifyItem(404)).toBe('not_found');
  });
});

describe('chunkOps', () => {
  const op = (n: number) => ({
    action: { index: { _index: 'i', _id: String(n) } },
    body: { pad: 'x'.repeat(100) },
    tag: n,
  });
  it('bounds requests by count', () => {
    const chunks = chunkOps(
      Array.from({ length: 25 }, (_, i) => op(i)),
      10,
      1e9,
    );
    expect(chunks.map((c) => c.length)).toEqual([10, 10, 5]);
  });
  it('bounds requests by bytes, never producing an empty chunk', () => {
    const chunks = chunkOps(
      Array.from({ length: 6 }, (_, i) => op(i)),
      100,
      300,
    );
    expect(chunks.every((c) => c.length >= 1)).toBe(true);
    expect(chunks.flat().map((o) => o.tag)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(chunks.length).toBeGreaterThan(1);
  });
});

describe('bulk failures that are not the document’s fault', () => {
  it('401/403 and a missing index are systemic, a delete of a missing document is not', () => {
    expect(classifyItem(401, 'security_exception')).toBe('systemic');
    expect(classifyItem(403, 'cluster_block_exception')).toBe('systemic');
    expect(classifyItem(404, 'index_not_found_exception')).toBe('systemic');
    expect(classifyItem(404)).toBe('not_found');
    expect(classifyItem(400, 'mapper_parsing_exception')).toBe('rejected');
  });

  it('request-level 401/403/404 are SystemicError, 5xx and connection errors transient', () => {
    const http = (statusCode: number) =>
      Object.assign(new Error(`HTTP ${statusCode}`), { meta: { statusCode } });
    expect(classifyEsError(http(401), 'bulk')).toBeInstanceOf(SystemicError);
    expect((classifyEsError(http(401), 'bulk') as SystemicError).reason).toBe('elasticsearch-auth');
    expect((classifyEsError(http(403), 'bulk') as SystemicError).reason).toBe('elasticsearch-forbidden');
    expect((classifyEsError(http(404), 'mget') as SystemicError).reason).toBe('elasticsearch-index-missing');
    expect(classifyEsError(http(503), 'bulk')).toBeInstanceOf(TransientError);
    expect(classifyEsError(new Error('ECONNREFUSED'), 'bulk')).toBeInstanceOf(TransientError);
  });

  it('the byte limit counts UTF-8 bytes, not UTF-16 code units', () => {
    const vi = { action: { index: { _index: 'i', _id: '1' } }, body: { name: 'Nguyễn Thị Hương' }, tag: 1 };
    const json = JSON.stringify(vi.action).length + JSON.stringify(vi.body).length + 2;
    expect(opBytes(vi)).toBeGreaterThan(json);
    expect(opBytes(vi)).toBe(Buffer.byteLength(JSON.stringify(vi.action) + JSON.stringify(vi.body)) + 2);
    expect(serializeOp(vi).lines).toEqual([JSON.stringify(vi.action), JSON.stringify(vi.body)]);
    expect(serializeOp({ action: { delete: { _index: 'i', _id: '1' } }, tag: 1 }).lines).toHaveLength(1);
    // Two such ops fit in the UTF-16 count but not in the byte count: they go in two requests.
    expect(chunkOps([vi, { ...vi, tag: 2 }], 100, json * 2).length).toBe(2);
  });

  it('a 413 or 400 request is split until only the offending op is rejected; a 401 is systemic', async () => {
    const calls: number[] = [];
    const client = {
      bulk: async ({ operations }: { operations: string[] }) => {
        // Sent as serialized ndjson lines: exactly what goes on the wire.
        const lines = operations.map((l) => JSON.parse(l) as Record<string, unknown>);
        const ids = lines.filter((o) => 'index' in o).map((o) => (o.index as { _id: string })._id);
        calls.push(ids.length);
        if (ids.includes('bad') && ids.length > 1)
          throw Object.assign(new Error('Request Entity Too Large'), { meta: { statusCode: 413 } });
        if (ids.includes('bad')) throw Object.assign(new Error('too large'), { meta: { statusCode: 413 } });
        return { items: ids.map(() => ({ index: { status: 201 } })) };
      },
    };
    const op = (id: string) => ({ action: { index: { _index: 'i', _id: id } }, body: { x: 1 }, tag: id });
    const runner = { client: client as never, maxDocs: 100, maxBytes: 1e9 };
    const results = await runBulk(runner, ['a', 'b', 'bad', 'c'].map(op));
    expect(results.map((r) => [r.tag, r.outcome])).toEqual([
      ['a', 'ok'],
      ['b', 'ok'],
      ['bad', 'rejected'],
      ['c', 'ok'],
    ]);
    expect(calls[0]).toBe(4);
    const denied = {
      bulk: async () => {
        throw Object.assign(new Error('unauthorized'), { meta: { statusCode: 401 } });
      },
    };
    await expect(runBulk({ ...runner, client: denied as never }, [op('a')])).rejects.toBeInstanceOf(
      SystemicError,
    );
  });
});
