import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import { avroOptions } from '../../src/decode/avro-long.js';
import { envelopeReaderSchema } from '../../src/decode/compile-schema.js';
import { Decoder } from '../../src/decode/decoder.js';
import type { AvroSchema } from '../../src/decode/logical-types.js';
import { compileNormaliser } from '../../src/decode/logical-types.js';
import type { ResolvedSchema, SchemaSource } from '../../src/decode/schema-source.js';
import { StaticSchemaSource } from '../../src/decode/static-schema-source.js';
import { loadFixtureMessages } from '../../src/stack/fixtures/captured-messages.js';

/**
 * Envelopes are read with a reader schema of only the fields fromEnvelope uses. Decoding every
 * captured Debezium message that way must give exactly what reading the whole writer schema gives.
 */
const SCHEMAS = new Map(
  Object.entries(
    JSON.parse(
      readFileSync(join(import.meta.dirname, '../fixtures/debezium/schemas.json'), 'utf8'),
    ) as Record<string, AvroSchema>,
  ).map(([id, s]) => [Number(id), s]),
);

/** The whole writer schema, read and normalised as before the reader schema existed. */
class WholeSchemaSource implements SchemaSource {
  async resolve(id: number): Promise<ResolvedSchema> {
    const raw = SCHEMAS.get(id)!;
    const type = avsc.Type.forSchema(raw as avsc.Schema, avroOptions() as Partial<avsc.ForSchemaOptions>);
    return { id, raw, decode: (p) => type.fromBuffer(p), normalise: compileNormaliser(raw) };
  }
}

describe('envelope reader schema', () => {
  it('keeps before/after/op and the source fields the event needs, and only envelopes', () => {
    const bookings = [...SCHEMAS.values()].find(
      (s) =>
        JSON.stringify(s).includes('"ride.public.bookings.Envelope"') && JSON.stringify(s).includes('"op"'),
    )!;
    const trimmed = envelopeReaderSchema(bookings) as unknown as {
      fields: { name: string; type: unknown }[];
    };
    expect(trimmed.fields.map((f) => f.name)).toEqual(['before', 'after', 'source', 'op']);
    const source = trimmed.fields.find((f) => f.name === 'source')!.type as { fields: { name: string }[] };
    expect(source.fields.map((f) => f.name).sort()).toEqual(['lsn', 'snapshot', 'ts_ms', 'txId']);
    const nonEnvelopes = [...SCHEMAS.values()].filter((s) => envelopeReaderSchema(s) === null);
    expect(nonEnvelopes.length).toBeGreaterThan(5); // keys and the heartbeat
  });

  it('decodes every captured message exactly as the whole schema does', async () => {
    const fast = new Decoder(new StaticSchemaSource(SCHEMAS), 'ride');
    const whole = new Decoder(new WholeSchemaSource(), 'ride');
    const outcome = async (d: Decoder, m: ReturnType<typeof loadFixtureMessages>[number]) => {
      try {
        return { value: await d.decode(m) };
      } catch (err) {
        return { error: `${(err as Error).constructor.name}: ${(err as Error).message}` };
      }
    };
    const messages = loadFixtureMessages();
    expect(messages.length).toBeGreaterThan(40);
    for (const m of messages) expect(await outcome(fast, m), m.label).toEqual(await outcome(whole, m));
  });

  it('a truncated or trailing-garbage envelope is the same poison message either way', async () => {
    const fast = new Decoder(new StaticSchemaSource(SCHEMAS), 'ride');
    const whole = new Decoder(new WholeSchemaSource(), 'ride');
    const reason = async (d: Decoder, m: ReturnType<typeof loadFixtureMessages>[number]) => {
      try {
        return { kind: (await d.decode(m)).kind };
      } catch (err) {
        return { error: (err as Error).constructor.name, reason: (err as { reason?: string }).reason };
      }
    };
    let poisoned = 0;
    for (const m of loadFixtureMessages()) {
      if (!m.value || m.value.length < 40) continue;
      for (const value of [
        m.value.subarray(0, Math.floor(m.value.length / 2)),
        m.value.subarray(0, m.value.length - 1),
        Buffer.concat([m.value, Buffer.from([0, 1, 2])]),
      ]) {
        const bad = { ...m, value };
        const expected = await reason(whole, bad);
        expect(await reason(fast, bad), m.label).toEqual(expected);
        if ('error' in expected) poisoned++;
      }
    }
    expect(poisoned).toBeGreaterThan(60);
  });
});
