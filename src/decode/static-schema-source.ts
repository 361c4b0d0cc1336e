import { compileSchema } from './compile-schema.js';
import type { AvroSchema } from './logical-types.js';
import { UnknownSchemaError, type ResolvedSchema, type SchemaSource } from './schema-source.js';

/**
 * Schemas from a fixed id → schema map, decoded with the same avsc options as the registry
 * source. For captured fixtures (unit tests, benchmarks): the decoding path is the production
 * one, only the lookup is local.
 */
export class StaticSchemaSource implements SchemaSource {
  private readonly resolved = new Map<number, ResolvedSchema>();

  constructor(schemas: ReadonlyMap<number, AvroSchema>) {
    for (const [id, raw] of schemas) this.resolved.set(id, compileSchema(id, raw));
  }

  async resolve(id: number): Promise<ResolvedSchema> {
    const s = this.resolved.get(id);
    if (!s) throw new UnknownSchemaError(id);
    return s;
  }
}
