import { describe, expect, it } from 'vitest';
import { DLQ_HEADER } from '../../src/source/dead-letter.js';
import {
  parseLetter,
  parseSince,
  planReplay,
  selectLetters,
  type Letter,
} from '../../src/source/dlq-plan.js';

const T = 'ride.public.drivers';
function letter(
  offset: number,
  key: string | null,
  reason = 'unknown-schema',
  failedAt = '2026-12-01T10:00:00Z',
): Letter {
  const l = parseLetter(
    { partition: 0, offset: String(offset + 1000) },
    {
      key: key === null ? null : Buffer.from(key),
      value: Buffer.from(`v${offset}`),
      headers: {
        origin: 'debezium',
        [DLQ_HEADER.reason]: reason,
        [DLQ_HEADER.message]: 'boom',
        [DLQ_HEADER.topic]: T,
        [DLQ_HEADER.partition]: '2',
        [DLQ_HEADER.offset]: String(offset),
        [DLQ_HEADER.failedAt]: failedAt,
      },
    },
  );
  if (!l) throw new Error('unparsed');
  return l;
}
const later = (...m: [number, string][]) =>
  new Map([[`${T}/2`, m.map(([offset, key]) => ({ offset: String(offset), key: Buffer.from(key) }))]]);
const offsets = (ls: Letter[]) => ls.map((l) => Number(l.origin.offset));

describe('dead letters: parsing and selection', () => {
  it('reads the origin and reason back and strips only the headers ride-cdc added', () => {
    const l = letter(7, 'k1');
    expect(l.origin).toEqual({ topic: T, partition: 2, offset: '7' });
    expect(l.reason).toBe('unknown-schema');
    expect(Object.keys(l.headers)).toEqual(['origin']);
    expect(parseLetter({ partition: 0, offset: '0' }, { key: null, value: null, headers: {} })).toBeNull();
  });

  it('filters by reason, time and count', () => {
    const ls = [
      letter(1, 'a', 'unknown-schema', '2026-12-01T09:00:00Z'),
      letter(2, 'b', 'mart-rejected'),
      letter(3, 'c'),
    ];
    expect(offsets(selectLetters(ls, { reason: 'unknown-schema' }))).toEqual([1, 3]);
    expect(offsets(selectLetters(ls, { sinceMs: Date.parse('2026-12-01T09:30:00Z') }))).toEqual([2, 3]);
    expect(offsets(selectLetters(ls, { max: 1 }))).toEqual([1]);
    expect(parseSince('15m', 1_000_000_000)).toBe(1_000_000_000 - 900_000);
    expect(parseSince('2026-12-01T10:00:00Z')).toBe(Date.parse('2026-12-01T10:00:00Z'));
    expect(() => parseSince('yesterday')).toThrow(/--since/);
  });
});

describe('dead letters: which to re-drive', () => {
  it('re-drives the newest letter of a key when nothing newer of that row was applied', () => {
    const ls = [letter(5, 'k1'), letter(9, 'k1'), letter(6, 'k2')];
    const plan = planReplay(ls, ls, later([7, 'k3']));
    expect(offsets(plan.replay)).toEqual([6, 9]);
    expect(offsets(plan.superseded)).toEqual([5]);
  });

  it('re-drives nothing for a row whose newer change the worker applied (no regression in the mart)', () => {
    const ls = [letter(5, 'k1')];
    expect(offsets(planReplay(ls, ls, later([8, 'k1'])).superseded)).toEqual([5]);
    // A newer change of the row that was itself dead-lettered does not count as applied.
    const both = [letter(5, 'k1'), letter(8, 'k1')];
    expect(offsets(planReplay([both[0]!], both, later([8, 'k1'])).replay)).toEqual([5]);
  });

  it('is idempotent: after a replay the copy follows the letter, so a second replay re-drives nothing', () => {
    const ls = [letter(5, 'k1'), letter(6, 'k2')];
    const first = planReplay(ls, ls, later([7, 'x']));
    expect(offsets(first.replay)).toEqual([5, 6]);
    // The copies landed at offsets 20 and 21 of the origin partition.
    const second = planReplay(ls, ls, later([7, 'x'], [20, 'k1'], [21, 'k2']));
    expect(second.replay).toEqual([]);
    expect(offsets(second.superseded)).toEqual([5, 6]);
  });

  it('re-drives keyless letters on their own', () => {
    const ls = [letter(3, null), letter(4, null)];
    expect(offsets(planReplay(ls, ls, later()).replay)).toEqual([3, 4]);
  });
});
