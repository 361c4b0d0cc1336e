import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import { avroOptions } from '../../src/decode/avro-long.js';
import {
  compileNormaliser,
  indexNamedTypes,
  normalise,
  TOAST_PLACEHOLDER,
  type AvroSchema,
} from '../../src/decode/logical-types.js';
import { unframe } from '../../src/decode/wire-format.js';
import { loadFixtureMessages } from '../../src/stack/fixtures/captured-messages.js';

const schemas = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/debezium/schemas.json'), 'utf8'),
) as Record<string, AvroSchema>;

describe('compiled normaliser', () => {
  it('gives exactly what the interpreter gives, on every captured key and value', () => {
    let compared = 0;
    const types = new Map<number, avsc.Type>();
    for (const m of loadFixtureMessages()) {
      for (const buf of [m.key, m.value]) {
        if (!buf) continue;
        const { schemaId, payload } = unframe(buf);
        const raw = schemas[String(schemaId)]!;
        let type = types.get(schemaId);
        if (!type) {
          type = avsc.Type.forSchema(raw as avsc.Schema, avroOptions() as Partial<avsc.ForSchemaOptions>);
          types.set(schemaId, type);
        }
        const decoded = type.fromBuffer(payload);
        let interpreted: unknown;
        let failure: string | null = null;
        try {
          interpreted = normalise(raw, decoded, indexNamedTypes(raw));
        } catch (err) {
          failure = (err as Error).message;
        }
        if (failure === null) expect(compileNormaliser(raw)(decoded), m.label).toEqual(interpreted);
        else expect(() => compileNormaliser(raw)(decoded), m.label).toThrow(failure);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(50);
  });

  it('keeps TOAST placeholders, nulls and decimals exact through the compiled path', () => {
    const schema: AvroSchema = {
      type: 'record',
      name: 'r',
      fields: [
        { name: 'note', type: ['null', 'string'] },
        {
          name: 'fare',
          type: [
            'null',
            { type: 'bytes', 'connect.name': 'org.apache.kafka.connect.data.Decimal', scale: 2 },
          ],
        },
        { name: 'at', type: { type: 'long', 'connect.name': 'io.debezium.time.MicroTimestamp' } },
      ],
    };
    const f = compileNormaliser(schema);
    const row = { note: TOAST_PLACEHOLDER, fare: Buffer.from([0xff, 0x38]), at: -1 };
    expect(f(row)).toEqual(normalise(schema, row, indexNamedTypes(schema)));
    expect(f({ note: null, fare: null, at: 1_700_000_000_123_456 })).toEqual({
      note: null,
      fare: null,
      at: '2023-11-14T22:13:20.123456Z',
    });
  });
});
