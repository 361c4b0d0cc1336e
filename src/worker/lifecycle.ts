import type { Logger } from '../observe/logger.js';
import { orLate } from '../shared/deadline.js';
import { errorMessage } from '../shared/errors.js';

export type WorkerState = 'INITIALIZED' | 'STARTING' | 'RUNNING' | 'DRAINING' | 'STOPPED' | 'FAILED';

/**
 * Every legal move of a worker. Anything else is a bug and throws: a stop during start goes
 * STARTING → DRAINING and can never come back to RUNNING; a failed start is FAILED, a stop of a
 * failed worker only releases what was acquired (no state change).
 */
export const TRANSITIONS: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  INITIALIZED: ['STARTING', 'STOPPED'],
  STARTING: ['RUNNING', 'DRAINING', 'FAILED'],
  RUNNING: ['DRAINING'],
  DRAINING: ['STOPPED', 'FAILED'],
  STOPPED: [],
  FAILED: [],
};

export class IllegalTransitionError extends Error {
  constructor(from: WorkerState, to: WorkerState) {
    super(`illegal worker transition ${from} → ${to}`);
  }
}

/** How long one resource's hard stop may take before it is left behind (logged by name). */
export const HARD_STOP_TIMEOUT_MS = 15_000;

/** One thing a worker brings up in order and takes down in reverse. */
export interface Resource {
  readonly name: string;
  /** Brings it up; may wait for a dependency, but must give up when `signal` aborts. */
  start(signal: AbortSignal): Promise<void>;
  /** soft (hard = false): finish in-flight work, then release. hard: abandon in-flight work now. */
  stop(hard: boolean): Promise<void>;
}

/**
 * The worker's lifecycle: resources started in order, stopped in reverse, under the transition
 * table above. stop() is idempotent; a second stop() while draining (the operator's second signal)
 * abandons in-flight work at once; a drain that misses the shutdown deadline is abandoned too and
 * ends FAILED (stop rejects). Abandoned batches commit nothing and are replayed by the next owner.
 */
export class Lifecycle {
  private current: WorkerState = 'INITIALIZED';
  private readonly started: Resource[] = [];
  private readonly abort = new AbortController();
  private starting?: Promise<void>;
  private stopping?: Promise<void>;
  private hardRequested?: () => void;
  private readonly hard = new Promise<void>((resolve) => (this.hardRequested = resolve));

  constructor(
    private readonly resources: readonly Resource[],
    private readonly opts: { shutdownTimeoutMs: number; logger: Logger; hardStopTimeoutMs?: number },
  ) {}

  get state(): WorkerState {
    return this.current;
  }

  private to(next: WorkerState): void {
    if (!TRANSITIONS[this.current].includes(next)) throw new IllegalTransitionError(this.current, next);
    this.current = next;
  }

  /**
   * Starts every resource in order. Resolves when RUNNING, or when a stop() interrupted the start
   * (state DRAINING/STOPPED: not a failure); rejects (state FAILED) when a resource failed.
   */
  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.to('STARTING');
    try {
      for (const r of this.resources) {
        if (this.abort.signal.aborted) return;
        this.started.push(r);
        await r.start(this.abort.signal);
      }
    } catch (err) {
      if (this.abort.signal.aborted) return; // stop() interrupted a step: draining, not failing
      this.to('FAILED');
      throw err;
    }
    if (this.abort.signal.aborted) return;
    this.to('RUNNING');
  }

  stop(): Promise<void> {
    if (this.stopping) {
      if (this.current === 'DRAINING') {
        this.opts.logger.warn('second stop: abandoning in-flight work');
        this.hardRequested?.();
      }
      return this.stopping;
    }
    this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.current === 'INITIALIZED') {
      this.to('STOPPED');
      return;
    }
    const failedBefore = this.current === 'FAILED';
    if (!failedBefore) this.to('DRAINING');
    this.abort.abort();
    const released = new Set<Resource>();
    let abandoned = false;
    const soft = (async () => {
      await this.starting?.catch(() => undefined);
      for (const r of [...this.started].reverse()) {
        if (abandoned) return;
        await r.stop(false);
        released.add(r);
      }
    })();
    const raced = await orLate(
      Promise.race([
        soft.then(
          () => 'drained' as const,
          (err: unknown) => {
            this.opts.logger.error({ err: errorMessage(err) }, 'drain failed; abandoning the rest');
            return 'error' as const;
          },
        ),
        this.hard.then(() => 'hard' as const),
      ]),
      this.opts.shutdownTimeoutMs,
    );
    const outcome = raced === 'late' ? 'deadline' : raced;
    if (outcome !== 'drained') {
      abandoned = true;
      if (outcome === 'deadline')
        this.opts.logger.error(
          { deadlineMs: this.opts.shutdownTimeoutMs },
          'drain did not finish in time; abandoning in-flight batches (they will be replayed)',
        );
      for (const r of [...this.started].reverse()) {
        if (released.has(r)) continue;
        await this.hardStop(r);
      }
    }
    if (failedBefore) return;
    const failed = outcome === 'deadline' || outcome === 'error';
    this.to(failed ? 'FAILED' : 'STOPPED');
    this.opts.logger.info({ state: this.current }, 'worker stopped');
    if (outcome === 'deadline')
      throw new Error(
        `worker did not drain within the shutdown deadline (${this.opts.shutdownTimeoutMs} ms)`,
      );
    if (outcome === 'error') throw new Error('worker drain failed');
  }

  /**
   * Abandons one resource, bounded: a hard stop that hangs (a pool waiting for a client that is
   * never released, say) is named in the log and left behind, so the process still exits.
   */
  private async hardStop(r: Resource): Promise<void> {
    const boundMs = this.opts.hardStopTimeoutMs ?? HARD_STOP_TIMEOUT_MS;
    const outcome = await orLate(
      r
        .stop(true)
        .catch((err: unknown) =>
          this.opts.logger.warn({ resource: r.name, err: errorMessage(err) }, 'hard stop failed'),
        ),
      boundMs,
    );
    if (outcome === 'late')
      this.opts.logger.error(
        { resource: r.name, boundMs },
        `hard stop of ${r.name} did not finish within ${boundMs} ms; left behind`,
      );
  }
}
