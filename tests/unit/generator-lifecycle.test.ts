import { describe, expect, it } from 'vitest';
import {
  BOOKING_STATUSES,
  DEFAULT_FATE_WEIGHTS,
  IllegalTransitionError,
  TIMESTAMP_COLUMN,
  assertTransition,
  canCancel,
  canTransition,
  drawFate,
  isTerminal,
  nextOnHappyPath,
  type BookingStatus,
} from '../../src/generator/lifecycle.js';
import { Rng } from '../../src/generator/rng.js';

describe('booking state machine', () => {
  it('follows the happy path requested → accepted → arrived → in_progress → completed', () => {
    const path: BookingStatus[] = ['requested'];
    for (let s = nextOnHappyPath('requested'); s; s = nextOnHappyPath(s)) path.push(s);
    expect(path).toEqual(['requested', 'accepted', 'arrived', 'in_progress', 'completed']);
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1]!, path[i]!)).toBe(true);
  });

  it('never skips a step or goes backwards', () => {
    expect(canTransition('requested', 'arrived')).toBe(false);
    expect(canTransition('accepted', 'in_progress')).toBe(false);
    expect(canTransition('in_progress', 'arrived')).toBe(false);
    expect(canTransition('completed', 'cancelled')).toBe(false);
    expect(() => assertTransition('requested', 'completed')).toThrow(IllegalTransitionError);
  });

  it('lets only the right party cancel at each stage', () => {
    expect(canCancel('requested', 'passenger')).toBe(true);
    expect(canCancel('requested', 'system')).toBe(true);
    expect(canCancel('requested', 'driver')).toBe(false);
    expect(canCancel('accepted', 'driver')).toBe(true);
    expect(canCancel('arrived', 'driver')).toBe(true);
    expect(canCancel('in_progress', 'passenger')).toBe(false);
    expect(() => assertTransition('in_progress', 'cancelled', 'passenger')).toThrow(IllegalTransitionError);
    expect(() => assertTransition('requested', 'cancelled', 'driver')).toThrow(/driver cannot cancel/);
    expect(() => assertTransition('accepted', 'cancelled', 'driver')).not.toThrow();
  });

  it('has terminal states and a timestamp column for every status', () => {
    expect(BOOKING_STATUSES.filter(isTerminal)).toEqual(['completed', 'cancelled']);
    expect(new Set(Object.values(TIMESTAMP_COLUMN)).size).toBe(BOOKING_STATUSES.length);
  });
});

describe('drawFate', () => {
  it('draws every outcome with about the configured weights, each a legal cancellation', () => {
    const rng = new Rng('fates');
    const n = 50_000;
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const f = drawFate(rng.next(), (r) => rng.pick(r));
      const key = f.kind === 'complete' ? 'complete' : `${f.by}@${f.at}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (f.kind === 'cancel') expect(canCancel(f.at, f.by)).toBe(true);
    }
    expect((counts.get('complete') ?? 0) / n).toBeCloseTo(DEFAULT_FATE_WEIGHTS.complete, 1);
    expect([...counts.keys()].sort()).toEqual(
      [
        'complete',
        'driver@accepted',
        'driver@arrived',
        'passenger@accepted',
        'passenger@requested',
        'system@requested',
      ].sort(),
    );
  });

  it('respects zero weights', () => {
    const rng = new Rng('zero');
    const w = {
      ...DEFAULT_FATE_WEIGHTS,
      complete: 0,
      passengerBeforeAccept: 0,
      passengerAfterAccept: 0,
      driverAfterAccept: 0,
      driverNoShow: 0,
    };
    for (let i = 0; i < 100; i++) {
      const f = drawFate(rng.next(), (r) => rng.pick(r), w);
      expect(f).toEqual({ kind: 'cancel', by: 'system', at: 'requested', reason: 'no_driver_available' });
    }
  });
});
