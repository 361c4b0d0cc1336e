import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Health } from './health.js';
import type { Metrics } from './metrics.js';
import { STATUS_PAGE_HTML } from './status-page/page.js';
import type { StatusSource } from './status-page/status-data.js';

/**
 * /metrics (Prometheus text), /healthz (process alive), /readyz (connected and no failing stage),
 * and, once the worker has its mart, the live status page at / with the JSON it polls at /status.json.
 */
export class ObservabilityServer {
  private server?: Server;
  private status?: StatusSource;

  serveStatus(source: StatusSource): void {
    this.status = source;
  }

  constructor(
    private readonly metrics: Metrics,
    private readonly health: Health,
    private readonly port: number,
  ) {}

  async start(): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/metrics') {
        this.metrics.registry.metrics().then(
          (body) => {
            res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
            res.end(body);
          },
          (err: Error) => {
            res.writeHead(500);
            res.end(err.message);
          },
        );
      } else if ((path === '/' || path === '/status.json') && this.status) {
        if (path === '/') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
          res.end(STATUS_PAGE_HTML);
          return;
        }
        this.status.read().then(
          (d) => {
            res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
            res.end(JSON.stringify(d));
          },
          (err: Error) => {
            res.writeHead(503, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: err.message }));
          },
        );
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"ok"}');
      } else if (path === '/readyz') {
        const s = this.health.status();
        res.writeHead(s.ready ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify(s));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, resolve);
    });
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeAllConnections();
  }
}
