import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@elastic/elasticsearch';
import type { WorkerConfig } from '../../config/worker-config.js';

export function createEsClient(cfg: WorkerConfig['elasticsearch']): Client {
  const opts: ClientOptions = {
    node: cfg.node,
    requestTimeout: cfg.requestTimeoutMs,
    // Retries are ours (pause + backoff); the client's own would hide an outage from /readyz.
    maxRetries: 0,
  };
  if (cfg.apiKey) opts.auth = { apiKey: cfg.apiKey };
  else if (cfg.username) opts.auth = { username: cfg.username, password: cfg.password ?? '' };
  if (cfg.caFile) opts.tls = { ca: readFileSync(cfg.caFile) };
  return new Client(opts);
}
