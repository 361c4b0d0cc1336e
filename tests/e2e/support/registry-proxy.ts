import { createServer, type Server } from 'node:http';

/**
 * A loopback HTTP proxy in front of the real registry (the native Apicurio runs without auth), so
 * e2e tests can give the worker a registry that refuses its credentials (401) or does not know
 * some schema ids yet (404 with the registry's own error code), and then heal it.
 */
export class RegistryProxy {
  mode: 'pass' | 'unauthorized' = 'pass';
  /**
   * While frozen, only schema ids already served stay visible: a new schema (after a DDL change)
   * is answered as unknown, as a registry that lags its producer would.
   */
  frozen = false;
  readonly served = new Set<number>();
  requests = 0;
  private server?: Server;
  url = '';

  constructor(private readonly target: string) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.requests++;
      const path = req.url ?? '/';
      if (this.mode === 'unauthorized') {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end('{"error_code":40101,"message":"Unauthorized"}');
        return;
      }
      const id = /\/schemas\/ids\/(\d+)/.exec(path)?.[1];
      if (id && this.frozen && !this.served.has(Number(id))) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(`{"error_code":40403,"message":"Schema ${id} not found."}`);
        return;
      }
      fetch(`${this.target}${path}`, { headers: { accept: req.headers.accept ?? '*/*' } })
        .then(async (r) => {
          if (id && r.ok) this.served.add(Number(id));
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await r.arrayBuffer()));
        })
        .catch(() => {
          res.writeHead(502).end();
        });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const port = (this.server.address() as { port: number }).port;
    // Same path layout as the real one: SCHEMA_REGISTRY_URL = <proxy>/apis/ccompat/v7.
    this.url = `http://127.0.0.1:${port}/apis/ccompat/v7`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
