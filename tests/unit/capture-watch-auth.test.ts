import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../../src/config/worker-config.js';
import type { Decoder } from '../../src/decode/decoder.js';
import { Health } from '../../src/observe/health.js';
import { createLogger } from '../../src/observe/logger.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { authFailureMessage } from '../../src/shared/auth-failure.js';
import { CaptureWatch } from '../../src/source/capture-watch.js';
import type { Kafka } from 'kafkajs';

/**
 * The capture watcher against a local HTTP server that answers like Connect behind
 * BasicAuthSecurityRestExtension: only the access check is exercised, which needs neither Kafka
 * nor the registry (the secured e2e covers the whole watcher against the real Connect).
 */
describe('capture watcher: Connect REST basic auth', () => {
  let server: Server;
  let url = '';
  const seen: (string | undefined)[] = [];
  const right = `Basic ${Buffer.from('connect-admin:right-password-1').toString('base64')}`;
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      if (req.headers.authorization !== right) res.writeHead(401).end();
      else
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ name: 'c', connector: { state: 'RUNNING' }, tasks: [] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const lines: string[] = [];
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk, _e, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
  );
  const watch = (env: Record<string, string>) => {
    const cfg = loadWorkerConfig({ CONNECT_URL: url, CONNECTOR_NAME: 'c', ...env });
    // Kafka and the decoder are not touched by checkAccess.
    return new CaptureWatch(
      cfg.capture!,
      undefined as unknown as Kafka,
      'ride',
      [],
      undefined as unknown as Decoder,
      createMetrics(),
      new Health(createMetrics()),
      logger,
    );
  };

  it('sends the configured login and passes with the right one', async () => {
    await watch({ CONNECT_USERNAME: 'connect-admin', CONNECT_PASSWORD: 'right-password-1' }).checkAccess();
    expect(seen.at(-1)).toBe(right);
  });

  it('fails fast on a refused login, as an auth failure naming the variables, without the password', async () => {
    const err = await watch({ CONNECT_USERNAME: 'connect-admin', CONNECT_PASSWORD: 'wrong-password-1' })
      .checkAccess()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = authFailureMessage('connect', err)!;
    expect(msg).toMatch(
      /connect refused the worker's credentials .*HTTP 401.*check CONNECT_USERNAME \/ CONNECT_PASSWORD/,
    );
    expect(msg).not.toContain('wrong-password-1');
    const none = await watch({})
      .checkAccess()
      .catch((e: unknown) => e);
    expect(authFailureMessage('connect', none)).toBeDefined();
    expect(seen.at(-1)).toBeUndefined();
  });

  it('does not fail the start when Connect is simply not there (the poll loop reports UNREACHABLE)', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const cfg = loadWorkerConfig({ CONNECT_URL: `http://127.0.0.1:${port}` });
    const w = new CaptureWatch(
      cfg.capture!,
      undefined as unknown as Kafka,
      'ride',
      [],
      undefined as unknown as Decoder,
      createMetrics(),
      new Health(createMetrics()),
      logger,
    );
    await expect(w.checkAccess()).resolves.toBeUndefined();
    expect(lines.join('')).not.toMatch(/right-password-1|wrong-password-1/);
  });
});
