import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observe/logger.js';
import { IllegalTransitionError, Lifecycle, TRANSITIONS, type Resource } from '../../src/worker/lifecycle.js';

/** A resource whose start and soft stop can be held open by the test. */
function resource(
  name: string,
  log: string[],
  opts: { startGate?: Promise<void>; drainGate?: Promise<void>; failStart?: boolean } = {},
): Resource {
  return {
    name,
    async start(signal) {
      log.push(`start ${name}`);
      if (opts.failStart) throw new Error(`${name} refused`);
      if (opts.startGate) {
        await Promise.race([
          opts.startGate,
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
        ]);
      }
    },
    async stop(hard) {
      log.push(`stop ${name}${hard ? ' hard' : ''}`);
      if (!hard && opts.drainGate) await opts.drainGate;
    },
  };
}

const logger = createLogger('silent');
const never = new Promise<void>(() => undefined);

describe('worker lifecycle', () => {
  it('starts in order, stops in reverse', async () => {
    const log: string[] = [];
    const lc = new Lifecycle([resource('a', log), resource('b', log)], { shutdownTimeoutMs: 1000, logger });
    await lc.start();
    expect(lc.state).toBe('RUNNING');
    await lc.stop();
    expect(lc.state).toBe('STOPPED');
    expect(log).toEqual(['start a', 'start b', 'stop b', 'stop a']);
  });

  it('the transition table refuses illegal moves: no start after stop', async () => {
    const lc = new Lifecycle([], { shutdownTimeoutMs: 1000, logger });
    await lc.stop();
    expect(lc.state).toBe('STOPPED');
    await expect(lc.start()).rejects.toThrow(IllegalTransitionError);
    expect(TRANSITIONS.STOPPED).toEqual([]);
    expect(TRANSITIONS.DRAINING).not.toContain('RUNNING');
  });

  it('stop during start: the start is interrupted, never reaches RUNNING, and is not a failure', async () => {
    const log: string[] = [];
    const lc = new Lifecycle(
      [resource('a', log), resource('b', log, { startGate: never }), resource('c', log)],
      { shutdownTimeoutMs: 1000, logger },
    );
    const starting = lc.start();
    await new Promise((r) => setImmediate(r));
    expect(lc.state).toBe('STARTING');
    await lc.stop();
    await expect(starting).resolves.toBeUndefined();
    expect(lc.state).toBe('STOPPED');
    expect(log).toEqual(['start a', 'start b', 'stop b', 'stop a']);
  });

  it('a second signal abandons the drain at once', async () => {
    const log: string[] = [];
    const lc = new Lifecycle([resource('db', log), resource('consumer', log, { drainGate: never })], {
      shutdownTimeoutMs: 60_000,
      logger,
    });
    await lc.start();
    const first = lc.stop();
    await new Promise((r) => setImmediate(r));
    expect(lc.state).toBe('DRAINING');
    const second = lc.stop();
    await Promise.all([first, second]);
    expect(lc.state).toBe('STOPPED');
    expect(log).toEqual([
      'start db',
      'start consumer',
      'stop consumer',
      'stop consumer hard',
      'stop db hard',
    ]);
  });

  it('a missed shutdown deadline abandons in-flight work, ends FAILED and rejects', async () => {
    const log: string[] = [];
    const lc = new Lifecycle([resource('db', log), resource('consumer', log, { drainGate: never })], {
      shutdownTimeoutMs: 20,
      logger,
    });
    await lc.start();
    await expect(lc.stop()).rejects.toThrow(/shutdown deadline/);
    expect(lc.state).toBe('FAILED');
    expect(log.slice(2)).toEqual(['stop consumer', 'stop consumer hard', 'stop db hard']);
  });

  it('a hard stop that hangs is named in the log and left behind: the rest still stop and stop() settles', async () => {
    const log: string[] = [];
    const lines: string[] = [];
    const captured = createLogger('info', { write: (l: string) => void lines.push(l) });
    const stuck: Resource = {
      name: 'reporting_db',
      start: async () => undefined,
      stop: (hard) => {
        log.push(`stop reporting_db${hard ? ' hard' : ''}`);
        return never; // a pool waiting for a client nobody releases
      },
    };
    const lc = new Lifecycle([resource('db', log), stuck, resource('consumer', log, { drainGate: never })], {
      shutdownTimeoutMs: 20,
      hardStopTimeoutMs: 30,
      logger: captured,
    });
    await lc.start();
    await expect(lc.stop()).rejects.toThrow(/shutdown deadline/);
    expect(lc.state).toBe('FAILED');
    expect(log.slice(2)).toEqual([
      'stop consumer',
      'stop consumer hard',
      'stop reporting_db hard',
      'stop db hard',
    ]);
    const named = lines
      .map((l) => JSON.parse(l) as { msg: string; resource?: string })
      .filter((l) => l.resource);
    expect(named.map((l) => [l.resource, l.msg])).toEqual([
      ['reporting_db', 'hard stop of reporting_db did not finish within 30 ms; left behind'],
    ]);
  });

  it('a failed start is FAILED; stop then releases what was acquired and stays FAILED', async () => {
    const log: string[] = [];
    const lc = new Lifecycle(
      [resource('a', log), resource('b', log, { failStart: true }), resource('c', log)],
      {
        shutdownTimeoutMs: 1000,
        logger,
      },
    );
    await expect(lc.start()).rejects.toThrow('b refused');
    expect(lc.state).toBe('FAILED');
    await lc.stop();
    expect(lc.state).toBe('FAILED');
    expect(log).toEqual(['start a', 'start b', 'stop b', 'stop a']);
  });
});
