import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { prometheusUrl } from '../../../src/stack/components/prometheus.js';
import { type StackConfig, loadStackConfig } from '../../../src/stack/config.js';
import { down, up } from '../../../src/stack/index.js';

export interface ActiveAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
}

/**
 * A Prometheus of its own for one test (`stack up prometheus` in a throwaway stack dir, on a free
 * port), scraping the test's worker every 2 s and evaluating every 2 s. The rules are
 * compose/prometheus/alerts.yml with `for:` capped at `forMaxS` (PROMETHEUS_RULE_FOR_MAX_S); the
 * expressions are the real ones.
 */
export class TestPrometheus {
  private constructor(
    readonly cfg: StackConfig,
    readonly url: string,
  ) {}

  static async start(workerTarget: string, forMaxS = 10): Promise<TestPrometheus> {
    const cfg = loadStackConfig({
      ...process.env,
      STACK_DIR: mkdtempSync(join(tmpdir(), 'ride-cdc-prom-')),
      PROMETHEUS_PORT: String(await freePort()),
      PROMETHEUS_WORKER_TARGETS: workerTarget,
      PROMETHEUS_SCRAPE_INTERVAL_S: '2',
      PROMETHEUS_EVALUATION_INTERVAL_S: '2',
      PROMETHEUS_RULE_FOR_MAX_S: String(forMaxS),
    });
    await up({ cfg, only: ['prometheus'] });
    return new TestPrometheus(cfg, prometheusUrl(cfg));
  }

  async stop(): Promise<void> {
    await down({ cfg: this.cfg, only: ['prometheus'] });
  }

  async api<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { status: string; data: T };
    if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body)}`);
    return body.data;
  }

  async alerts(): Promise<ActiveAlert[]> {
    return (await this.api<{ alerts: ActiveAlert[] }>('/api/v1/alerts')).alerts;
  }

  async ruleNames(): Promise<string[]> {
    const d = await this.api<{ groups: { rules: { name: string }[] }[] }>('/api/v1/rules');
    return d.groups.flatMap((g) => g.rules.map((r) => r.name));
  }

  /** Waits until the worker target has been scraped successfully. */
  async waitTargetUp(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const d = await this.api<{ activeTargets: { labels: { job: string }; health: string }[] }>(
        '/api/v1/targets',
      );
      if (d.activeTargets.some((t) => t.labels.job === 'ride-cdc-worker' && t.health === 'up')) return;
      await sleep(500);
    }
    throw new Error(`worker target not up in Prometheus after ${timeoutMs} ms`);
  }

  /**
   * Polls /api/v1/alerts until an alert named `name` (and matching `labels`) is firing; returns
   * it and the wall-clock time it was first seen firing. `during` runs between polls (keeps
   * traffic flowing during an outage).
   */
  async waitFiring(
    name: string,
    timeoutMs: number,
    opts: { labels?: Record<string, string>; during?: () => Promise<void> } = {},
  ): Promise<{ alert: ActiveAlert; seenAt: Date }> {
    const deadline = Date.now() + timeoutMs;
    let last: ActiveAlert[] = [];
    while (Date.now() < deadline) {
      last = await this.alerts();
      const hit = last.find(
        (a) => a.labels.alertname === name && a.state === 'firing' && matches(a, opts.labels),
      );
      if (hit) return { alert: hit, seenAt: new Date() };
      await opts.during?.();
      await sleep(1000);
    }
    throw new Error(`${name} not firing after ${timeoutMs} ms; active: ${summary(last)}`);
  }

  /** Polls until no alert named `name` is pending or firing; returns when it was seen resolved. */
  async waitResolved(
    name: string,
    timeoutMs: number,
    opts: { labels?: Record<string, string>; during?: () => Promise<void> } = {},
  ): Promise<Date> {
    const deadline = Date.now() + timeoutMs;
    let last: ActiveAlert[] = [];
    while (Date.now() < deadline) {
      last = await this.alerts();
      if (!last.some((a) => a.labels.alertname === name && matches(a, opts.labels))) return new Date();
      await opts.during?.();
      await sleep(1000);
    }
    throw new Error(`${name} still active after ${timeoutMs} ms; active: ${summary(last)}`);
  }
}

function matches(a: ActiveAlert, labels: Record<string, string> = {}): boolean {
  return Object.entries(labels).every(([k, v]) => a.labels[k] === v);
}

function summary(alerts: ActiveAlert[]): string {
  return alerts.map((a) => `${a.labels.alertname}(${a.state})`).join(', ') || 'none';
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
