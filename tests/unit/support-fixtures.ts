import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DecodedMessage } from '../../src/decode/envelope.js';
import { Decoder } from '../../src/decode/decoder.js';
import type { AvroSchema } from '../../src/decode/logical-types.js';
import { StaticSchemaSource } from '../../src/decode/static-schema-source.js';

/** Real messages captured from Debezium 3.4 + Apicurio 3.0 (src/stack/capture-fixtures.ts). */
const DIR = join(import.meta.dirname, '../fixtures/debezium');

export interface FixtureMessage {
  label: string;
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

export function loadFixtureMessages(): FixtureMessage[] {
  const out: FixtureMessage[] = [];
  for (const f of readdirSync(DIR).sort()) {
    if (!f.endsWith('.json') || ['manifest.json', 'schemas.json'].includes(f) || f.endsWith('.emitted.json'))
      continue;
    const { messages } = JSON.parse(readFileSync(join(DIR, f), 'utf8')) as {
      messages: (Omit<FixtureMessage, 'key' | 'value'> & { key: string | null; value: string | null })[];
    };
    for (const m of messages)
      out.push({
        ...m,
        key: m.key === null ? null : Buffer.from(m.key, 'base64'),
        value: m.value === null ? null : Buffer.from(m.value, 'base64'),
      });
  }
  return out;
}

export function fixtureDecoder(): Decoder {
  const raw = JSON.parse(readFileSync(join(DIR, 'schemas.json'), 'utf8')) as Record<string, AvroSchema>;
  return new Decoder(
    new StaticSchemaSource(new Map(Object.entries(raw).map(([id, s]) => [Number(id), s]))),
    'ride',
  );
}

export async function decodeAll(): Promise<{ msg: FixtureMessage; decoded: DecodedMessage }[]> {
  const d = fixtureDecoder();
  const out = [];
  for (const msg of loadFixtureMessages()) out.push({ msg, decoded: await d.decode(msg) });
  return out;
}
