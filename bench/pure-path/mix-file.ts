import { readFileSync, writeFileSync } from 'node:fs';
import type { MixMessage } from './mix.js';

/**
 * The bench mix as one binary file, built once by the parent and read by every measuring process
 * (building it costs seconds; reading it, milliseconds). Per message: topic index (u8), partition
 * (u8), offset (u32), key length (i32, -1 = null), key, value length (i32, -1 = null), value.
 */

export function writeMixFile(file: string, messages: readonly MixMessage[]): void {
  const topics = [...new Set(messages.map((m) => m.topic))];
  const parts: Buffer[] = [Buffer.from(`${JSON.stringify(topics)}\n`)];
  for (const m of messages) {
    const head = Buffer.alloc(6);
    head.writeUInt8(topics.indexOf(m.topic), 0);
    head.writeUInt8(m.partition, 1);
    head.writeUInt32BE(Number(m.offset), 2);
    parts.push(head, lengthPrefixed(m.key), lengthPrefixed(m.value));
  }
  writeFileSync(file, Buffer.concat(parts));
}

function lengthPrefixed(b: Buffer | null): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(b === null ? -1 : b.length);
  return b === null ? len : Buffer.concat([len, b]);
}

export function readMixFile(file: string): MixMessage[] {
  const buf = readFileSync(file);
  const nl = buf.indexOf(10);
  const topics = JSON.parse(buf.subarray(0, nl).toString('utf8')) as string[];
  const out: MixMessage[] = [];
  let at = nl + 1;
  const bytes = (): Buffer | null => {
    const len = buf.readInt32BE(at);
    at += 4;
    if (len < 0) return null;
    const b = Buffer.from(buf.subarray(at, at + len));
    at += len;
    return b;
  };
  while (at < buf.length) {
    const topic = topics[buf.readUInt8(at)]!;
    const partition = buf.readUInt8(at + 1);
    const offset = String(buf.readUInt32BE(at + 2));
    at += 6;
    const key = bytes();
    const value = bytes();
    out.push({ topic, partition, offset, key, value });
  }
  return out;
}
