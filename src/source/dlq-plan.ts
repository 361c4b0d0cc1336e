import type { IHeaders } from 'kafkajs';
import { DLQ_HEADER } from './dead-letter.js';

/** A dead letter as read back from the dead-letter topic. */
export interface Letter {
  dlq: { partition: number; offset: string };
  origin: { topic: string; partition: number; offset: string };
  reason: string;
  error: string;
  failedAt: string;
  key: Buffer | null;
  value: Buffer | null;
  /** The original message's headers, without the ride-cdc.* ones the dead-letter producer added. */
  headers: Record<string, Buffer>;
}

/** Marks a replayed message (origin of the copy, for traceability); the worker ignores headers. */
export const REPLAY_HEADER = 'ride-cdc.replay.of';

const OWN_HEADERS = new Set<string>(Object.values(DLQ_HEADER));

function str(h: IHeaders[string]): string {
  const v = Array.isArray(h) ? h[0] : h;
  return v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

/** Parses one message of the dead-letter topic; null when it lacks the origin headers. */
export function parseLetter(
  dlq: { partition: number; offset: string },
  message: { key: Buffer | null; value: Buffer | null; headers?: IHeaders },
): Letter | null {
  const h = message.headers ?? {};
  const topic = str(h[DLQ_HEADER.topic]);
  const partition = Number(str(h[DLQ_HEADER.partition]));
  const offset = str(h[DLQ_HEADER.offset]);
  if (!topic || !Number.isInteger(partition) || !/^\d+$/.test(offset)) return null;
  const headers: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(h)) {
    if (OWN_HEADERS.has(k) || v === undefined) continue;
    const one = Array.isArray(v) ? v[0] : v;
    if (one !== undefined) headers[k] = Buffer.isBuffer(one) ? one : Buffer.from(String(one));
  }
  return {
    dlq,
    origin: { topic, partition, offset },
    reason: str(h[DLQ_HEADER.reason]),
    error: str(h[DLQ_HEADER.message]),
    failedAt: str(h[DLQ_HEADER.failedAt]),
    key: message.key,
    value: message.value,
    headers,
  };
}

export interface LetterFilter {
  reason?: string;
  /** Only letters dead-lettered at or after this time (ms epoch). */
  sinceMs?: number;
  max?: number;
}

export function selectLetters(letters: readonly Letter[], f: LetterFilter): Letter[] {
  const out = letters.filter(
    (l) =>
      (f.reason === undefined || l.reason === f.reason) &&
      (f.sinceMs === undefined || Date.parse(l.failedAt) >= f.sinceMs),
  );
  return f.max === undefined ? out : out.slice(0, f.max);
}

/** "2026-12-01T10:00:00Z", or a duration back from now: "90s", "15m", "2h", "7d". */
export function parseSince(v: string, nowMs = Date.now()): number {
  const rel = /^(\d+)(s|m|h|d)$/.exec(v);
  if (rel) return nowMs - Number(rel[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's'];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new Error(`--since ${JSON.stringify(v)}: expected an ISO time or 90s/15m/2h/7d`);
  return t;
}

/** A message of an origin partition after a dead letter: its offset and key bytes. */
export interface Later {
  offset: string;
  key: Buffer | null;
}

const partitionId = (topic: string, partition: number) => `${topic}/${partition}`;

/**
 * Which selected letters to re-drive. The mart folds events into per-row state (contributions of
 * the new row minus the previous one) without an LSN guard, so re-driving an event that is older
 * than what the mart already applied for that row would move the row back in time. Hence, per
 * origin partition and key (Debezium keys by primary key, so one row = one key = one partition):
 *  - only the newest dead letter of a key is re-driven (it carries the whole row; older ones are
 *    superseded by it);
 *  - none is, if a message of that key that was NOT dead-lettered follows it in the partition (the
 *    worker applied or will apply that newer state). This is also what makes replay idempotent: a
 *    re-driven copy is such a later message, so replaying again re-drives nothing.
 * Letters without a key cannot be ordered against anything and are re-driven on their own.
 */
export function planReplay(
  selected: readonly Letter[],
  allLetters: readonly Letter[],
  later: ReadonlyMap<string, readonly Later[]>,
): { replay: Letter[]; superseded: Letter[] } {
  const dead = new Set(
    allLetters.map((l) => `${partitionId(l.origin.topic, l.origin.partition)}@${l.origin.offset}`),
  );
  const newest = new Map<string, Letter>();
  const replay: Letter[] = [];
  const superseded: Letter[] = [];
  for (const l of selected) {
    if (l.key === null) {
      replay.push(l);
      continue;
    }
    const id = `${partitionId(l.origin.topic, l.origin.partition)}#${l.key.toString('hex')}`;
    const prev = newest.get(id);
    if (!prev || BigInt(l.origin.offset) > BigInt(prev.origin.offset)) {
      if (prev) superseded.push(prev);
      newest.set(id, l);
    } else superseded.push(l);
  }
  for (const l of newest.values()) {
    const pid = partitionId(l.origin.topic, l.origin.partition);
    const newer = (later.get(pid) ?? []).some(
      (m) =>
        m.key !== null &&
        m.key.equals(l.key!) &&
        BigInt(m.offset) > BigInt(l.origin.offset) &&
        !dead.has(`${pid}@${m.offset}`),
    );
    (newer ? superseded : replay).push(l);
  }
  const byOrigin = (a: Letter, b: Letter) =>
    a.origin.topic.localeCompare(b.origin.topic) ||
    a.origin.partition - b.origin.partition ||
    Number(BigInt(a.origin.offset) - BigInt(b.origin.offset));
  return { replay: replay.sort(byOrigin), superseded: superseded.sort(byOrigin) };
}
