import { existsSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A component failed to start or become healthy; the message names it and its log file. */
export class StackError extends Error {
  constructor(
    readonly component: string,
    message: string,
    readonly logFile?: string,
  ) {
    super(`[${component}] ${message}${logFile ? `\n  log: ${logFile}\n${tail(logFile, 15)}` : ''}`);
  }
}

export function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '  (no log yet)';
  const all = readFileSync(file, 'utf8').trimEnd().split('\n');
  return all
    .slice(-lines)
    .map((l) => `  | ${l.slice(0, 300)}`)
    .join('\n');
}

/** One health probe: resolves with a short description when healthy, throws otherwise. */
export type Probe = () => Promise<string>;

/**
 * Polls `probe` until it passes, `timeoutMs` elapses, or `alive()` says the process died (then
 * there is no point waiting: fail at once with the log's tail).
 */
export async function waitHealthy(
  component: string,
  probe: Probe,
  opts: { timeoutMs: number; logFile: string; alive?: () => boolean; intervalMs?: number },
): Promise<string> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await probe();
    } catch (err) {
      last = err;
    }
    if (opts.alive && !opts.alive()) {
      throw new StackError(
        component,
        `process exited during start-up (last probe: ${msg(last)})`,
        opts.logFile,
      );
    }
    await sleep(opts.intervalMs ?? 500);
  }
  throw new StackError(
    component,
    `not healthy after ${opts.timeoutMs} ms (last probe: ${msg(last)})`,
    opts.logFile,
  );
}

export function msg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** HTTP GET with a hard timeout; throws on non-2xx. */
export async function httpGet(
  url: string,
  timeoutMs = 3000,
  headers: Record<string, string> = {},
): Promise<string> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  const body = await res.text();
  if (!res.ok) throw new Error(`GET ${url} → ${res.status} ${body.slice(0, 200)}`);
  return body;
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portInUse(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((res) => {
    const sock = createConnection({ port, host });
    const done = (v: boolean) => {
      sock.destroy();
      res(v);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}
