import avsc from 'avsc';
import { avroOptions } from './avro-long.js';
import { ENVELOPE_FIELDS, SOURCE_FIELDS } from './envelope.js';
import { compileNormaliser, type AvroSchema } from './logical-types.js';
import type { ResolvedSchema } from './schema-source.js';

type Field = { name: string; type: AvroSchema };
type RecordSchema = { type: 'record'; fields: Field[]; [k: string]: unknown };

const isRecord = (s: unknown): s is RecordSchema =>
  typeof s === 'object' && s !== null && !Array.isArray(s) && (s as { type?: unknown }).type === 'record';

/**
 * A Debezium change envelope's schema cut down to what fromEnvelope reads (same names, fields only
 * removed, so avsc resolves the writer's messages against it and skips the other fields); null for
 * any other schema (keys, heartbeats), which is read whole.
 */
export function envelopeReaderSchema(raw: AvroSchema): AvroSchema | null {
  if (!isRecord(raw)) return null;
  const names = new Set(raw.fields.map((f) => f.name));
  if (!names.has('op') || !names.has('source') || !names.has('after')) return null;
  return {
    ...raw,
    fields: raw.fields
      .filter((f) => ENVELOPE_FIELDS.has(f.name))
      .map((f) =>
        f.name === 'source' && isRecord(f.type)
          ? { ...f, type: { ...f.type, fields: f.type.fields.filter((g) => SOURCE_FIELDS.has(g.name)) } }
          : f,
      ),
  };
}

/**
 * The reader of one writer schema, for every SchemaSource: avsc with the worker's long type, and the
 * compiled normaliser. Envelopes are read through envelopeReaderSchema. Throws when avsc refuses the
 * schema.
 */
export function compileSchema(id: number, raw: AvroSchema): ResolvedSchema {
  const writer = avsc.Type.forSchema(raw as avsc.Schema, avroOptions() as Partial<avsc.ForSchemaOptions>);
  const trimmed = envelopeReaderSchema(raw);
  if (trimmed === null)
    return { id, raw, decode: (payload) => writer.fromBuffer(payload), normalise: compileNormaliser(raw) };
  const reader = avsc.Type.forSchema(trimmed as avsc.Schema, avroOptions() as Partial<avsc.ForSchemaOptions>);
  const resolver = reader.createResolver(writer);
  return {
    id,
    raw,
    decode: (payload) => reader.fromBuffer(payload, resolver),
    normalise: compileNormaliser(trimmed),
  };
}
