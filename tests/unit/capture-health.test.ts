import { describe, expect, it } from 'vitest';
import { Freshness, RestartPolicy, failedTasks, stateRows } from '../../src/source/capture-health.js';

const status = (connector: string, ...tasks: string[]) => ({
  name: 'c',
  connector: { state: connector },
  tasks: tasks.map((state, id) => ({
    id,
    state,
    trace:
      state === 'FAILED'
        ? 'org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded\n\tat x'
        : undefined,
  })),
});

describe('capture health: connector and task states', () => {
  it('reports the connector and every task, and what the watcher saw when Connect did not answer', () => {
    expect(stateRows(status('RUNNING', 'FAILED'))).toEqual([
      { task: 'connector', state: 'RUNNING' },
      { task: '0', state: 'FAILED' },
    ]);
    expect(stateRows('MISSING')).toEqual([{ task: 'connector', state: 'MISSING' }]);
    expect(stateRows('UNREACHABLE')).toEqual([{ task: 'connector', state: 'UNREACHABLE' }]);
  });

  it('lists FAILED tasks (and a FAILED connector) with the first line of their trace', () => {
    expect(failedTasks(status('RUNNING', 'RUNNING'))).toEqual([]);
    expect(failedTasks(status('RUNNING', 'FAILED'))).toEqual([
      { id: 0, trace: 'org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded' },
    ]);
    expect(failedTasks(status('FAILED')).map((t) => t.id)).toEqual([-1]);
  });
});

describe('capture health: restart policy', () => {
  it('restarts at once, then with doubling capped delays while the task keeps failing', () => {
    const p = new RestartPolicy(10_000, 40_000, 60_000);
    const restartsAt: number[] = [];
    for (let t = 0; t <= 200_000; t += 1000) if (p.observe(true, t)) restartsAt.push(t);
    expect(restartsAt.slice(0, 5)).toEqual([0, 10_000, 30_000, 70_000, 110_000]);
    expect(p.consecutive).toBe(restartsAt.length);
  });

  it('never restarts a healthy task and starts from scratch after a healthy period', () => {
    const p = new RestartPolicy(10_000, 40_000, 60_000);
    expect(p.observe(false, 0)).toBe(false);
    expect(p.observe(true, 1000)).toBe(true);
    expect(p.observe(true, 5000)).toBe(false); // within the 10 s backoff
    expect(p.observe(true, 11_000)).toBe(true);
    expect(p.observe(false, 12_000)).toBe(false);
    expect(p.observe(false, 72_000)).toBe(false);
    expect(p.consecutive).toBe(0);
    expect(p.observe(true, 73_000)).toBe(true); // immediate again
  });
});

describe('capture health: freshness per table', () => {
  it('ages from the start until evidence arrives, then from the newest heartbeat or event', () => {
    const f = new Freshness(['bookings', 'zones'], 1_000_000);
    expect(Object.fromEntries(f.ages(1_030_000))).toEqual({ bookings: 30, zones: 30 });
    f.heartbeat(1_020_000);
    f.event('bookings', 1_028_000);
    expect(Object.fromEntries(f.ages(1_030_000))).toEqual({ bookings: 2, zones: 10 });
    // A quiet table is as fresh as the newest heartbeat; an older heartbeat changes nothing.
    f.heartbeat(1_010_000);
    f.heartbeat(1_029_500);
    expect(Object.fromEntries(f.ages(1_030_000))).toEqual({ bookings: 0.5, zones: 0.5 });
    // Capture stalls: no heartbeat, no event → every table ages.
    expect(Object.fromEntries(f.ages(1_200_000))).toEqual({ bookings: 170.5, zones: 170.5 });
  });
});
