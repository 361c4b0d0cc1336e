/**
 * Pure decisions of the capture watcher (capture-watch.ts): which connector/task states to
 * report, when to restart a FAILED task, and how fresh capture is per table. No I/O, unit-tested.
 */

/** The states Kafka Connect reports, plus what the watcher sees when it cannot ask. */
export const TASK_STATES = [
  'RUNNING',
  'FAILED',
  'PAUSED',
  'UNASSIGNED',
  'RESTARTING',
  'STOPPED',
  /** The connector is not registered in Connect (404). */
  'MISSING',
  /** Connect did not answer. */
  'UNREACHABLE',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

export interface ConnectorStatusBody {
  name: string;
  connector: { state: string; trace?: string };
  tasks: { id: number; state: string; trace?: string }[];
}

/** One row per (task, state) the gauge carries: `task` is "connector" for the connector itself. */
export function stateRows(
  status: ConnectorStatusBody | 'MISSING' | 'UNREACHABLE',
): { task: string; state: TaskState }[] {
  if (status === 'MISSING' || status === 'UNREACHABLE') return [{ task: 'connector', state: status }];
  const norm = (s: string): TaskState =>
    (TASK_STATES as readonly string[]).includes(s) ? (s as TaskState) : 'UNASSIGNED';
  return [
    { task: 'connector', state: norm(status.connector.state) },
    ...status.tasks.map((t) => ({ task: String(t.id), state: norm(t.state) })),
  ];
}

export function failedTasks(status: ConnectorStatusBody): { id: number; trace: string }[] {
  const out = status.tasks
    .filter((t) => t.state === 'FAILED')
    .map((t) => ({ id: t.id, trace: firstLine(t.trace) }));
  if (status.connector.state === 'FAILED') out.unshift({ id: -1, trace: firstLine(status.connector.trace) });
  return out;
}

function firstLine(trace: string | undefined): string {
  return (trace ?? '').split('\n')[0]?.slice(0, 500) ?? '';
}

/**
 * Capped exponential backoff between restarts of a FAILED connector or task: the first restart is
 * immediate, each one that fails again doubles the wait, and a connector that stayed healthy for
 * `healthyResetMs` starts from the beginning again. Restarting is safe: Debezium resumes from its
 * last committed offset, so nothing between the failure and the restart is lost.
 */
export class RestartPolicy {
  private attempts = 0;
  private nextAt = 0;
  private healthySince: number | null = null;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly healthyResetMs: number,
  ) {}

  /** Called on every poll; returns true when a restart should be requested now. */
  observe(failed: boolean, now: number): boolean {
    if (!failed) {
      this.healthySince ??= now;
      if (this.attempts > 0 && now - this.healthySince >= this.healthyResetMs) this.attempts = 0;
      return false;
    }
    this.healthySince = null;
    if (now < this.nextAt) return false;
    const delay = Math.min(this.maxMs, this.initialMs * 2 ** this.attempts);
    this.attempts++;
    this.nextAt = now + delay;
    return true;
  }

  /** Restarts requested since the connector was last healthy for long enough. */
  get consecutive(): number {
    return this.attempts;
  }

  /** When the next restart may be requested (ms epoch). */
  get nextRestartAt(): number {
    return this.nextAt;
  }
}

/**
 * Freshness of capture per table: the age of the newest evidence that Debezium has read the WAL
 * past a change of that table — the newest heartbeat (Debezium emits one every
 * heartbeat.interval.ms, through the same task and WAL stream as every captured table, so a quiet
 * table is exactly as fresh as the last heartbeat) or the newest event seen on the table's topic.
 * Before any evidence the clock runs from when the watcher started, so a capture that never works
 * still ages and alerts.
 */
export class Freshness {
  private heartbeatMs: number | null = null;
  private readonly events = new Map<string, number>();

  constructor(
    private readonly tables: readonly string[],
    private readonly startedMs: number,
  ) {}

  heartbeat(tsMs: number): void {
    if (this.heartbeatMs === null || tsMs > this.heartbeatMs) this.heartbeatMs = tsMs;
  }

  event(table: string, tsMs: number): void {
    const prev = this.events.get(table);
    if (prev === undefined || tsMs > prev) this.events.set(table, tsMs);
  }

  /** Seconds since the newest evidence, per table (never negative: clocks of hosts differ a little). */
  ages(nowMs: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const t of this.tables) {
      const newest = Math.max(this.heartbeatMs ?? this.startedMs, this.events.get(t) ?? this.startedMs);
      out.set(t, Math.max(0, (nowMs - newest) / 1000));
    }
    return out;
  }
}
