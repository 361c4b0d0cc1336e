import { UNCHANGED, type Value } from './change-event.js';
import { formatScaled } from '../shared/decimal.js';
import { isPlainUtc } from '../shared/iso-time.js';

/**
 * Normalises values decoded by avsc from Debezium's Avro into the ChangeEvent value conventions
 * (see change-event.ts). Pure: it walks the writer schema (raw JSON, because avsc drops the
 * `connect.name` attributes that identify logical types) next to the value.
 */

/**
 * What Debezium sends for a TOASTed column an update did not change. Configured in the connector
 * (`unavailable.value.placeholder`, tests/unit/decoder-exact.test.ts checks both agree) instead of
 * Debezium's default "__debezium_unavailable_value", so that real text equal to the default is
 * just text. Only values equal to this placeholder become UNCHANGED.
 */
export const TOAST_PLACEHOLDER = '__ride_cdc_toast_unavailable_5b9f0c2e__';
const LEGACY_TOAST_PLACEHOLDER = '__debezium_unavailable_value';
const TOAST_BYTES = Buffer.from(TOAST_PLACEHOLDER, 'utf8');
const TOAST_BASE64 = TOAST_BYTES.toString('base64');

type Schema = string | Schema[] | { type: Schema; [k: string]: unknown };
export type AvroSchema = Schema;

/** Unscaled big-endian two's-complement integer + scale → exact decimal string. */
export function decimalFromBytes(bytes: Uint8Array, scale: number): string {
  if (bytes.length <= 6) {
    // Up to 48 bits: exact in a double, one BigInt at the end instead of one per byte.
    let x = 0;
    for (let i = 0; i < bytes.length; i++) x = x * 256 + bytes[i]!;
    if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) x -= 2 ** (bytes.length * 8);
    return formatScaled(BigInt(x), scale);
  }
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) n -= 1n << BigInt(bytes.length * 8);
  return formatScaled(n, scale);
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Epoch microseconds → ISO-8601 UTC with 6 fractional digits. BigInt keeps sub-ms precision exact. */
export function isoFromMicros(micros: bigint | number): string {
  let ms: number;
  let subMs: number;
  if (typeof micros === 'number' && Number.isSafeInteger(micros)) {
    // Integer arithmetic in doubles is exact below 2^53 (avsc hands such longs over as numbers).
    subMs = ((micros % 1000) + 1000) % 1000;
    ms = (micros - subMs) / 1000;
  } else {
    const m = typeof micros === 'number' ? BigInt(Math.trunc(micros)) : micros;
    const big = m / 1000n - (m % 1000n < 0n ? 1n : 0n);
    subMs = Number(m - big * 1000n);
    ms = Number(big);
  }
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) throw new RangeError(`timestamp out of range: ${micros}µs`);
  const base = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${base.slice(0, 23)}${pad(subMs, 3)}Z`;
}

/** Debezium ZonedTimestamp strings carry an offset and 0–9 fraction digits; output UTC with 6. */
export function normaliseZonedTimestamp(s: string): string {
  // What Debezium sends for timestamptz: already UTC, so only the fraction may need padding.
  if (isPlainUtc(s)) {
    const digits = s.length - 21;
    if (digits === 6) return s;
    const frac = digits <= 0 ? '000000' : s.slice(20, 20 + Math.min(digits, 6)).padEnd(6, '0');
    return `${s.slice(0, 19)}.${frac}Z`;
  }
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/.exec(s);
  if (!m) throw new RangeError(`not a ZonedTimestamp: ${JSON.stringify(s)}`);
  const frac = (m[3] ?? '').padEnd(6, '0').slice(0, 6);
  const whole = Date.parse(`${m[1]}T${m[2]}${m[4] === 'Z' ? 'Z' : m[4]}`);
  if (Number.isNaN(whole)) throw new RangeError(`not a ZonedTimestamp: ${JSON.stringify(s)}`);
  // Beyond ±2^53 µs (before 1685, after 2255) the double sum would round: BigInt there.
  const micros = whole * 1000 + Number(frac);
  return isoFromMicros(Number.isSafeInteger(micros) ? micros : BigInt(whole) * 1000n + BigInt(frac));
}

function timeOfDayFromMicros(micros: bigint): string {
  const total = Number(micros / 1_000_000n);
  const frac = Number(micros % 1_000_000n);
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor(total / 60) % 60)}:${pad(total % 60)}.${pad(frac, 6)}`;
}

function dateFromDays(days: number): string {
  const d = new Date(days * 86_400_000);
  if (Number.isNaN(d.getTime())) return days > 0 ? INFINITY : NEG_INFINITY;
  return d.toISOString().slice(0, 10);
}

/**
 * Debezium carries PostgreSQL's 'infinity' timestamps as its own out-of-range sentinels (epoch
 * values far beyond year 275760, where JS dates end; PostgreSQL's own range ends at 294276). A value
 * beyond the JS range is therefore an infinity; mapping the few finite PostgreSQL timestamps after
 * year 275760 to it too is the documented price.
 */
function timestampFromMicros(micros: bigint): string {
  if (micros > MAX_JS_MICROS) return INFINITY;
  if (micros < -MAX_JS_MICROS) return NEG_INFINITY;
  return isoFromMicros(micros);
}
const MAX_JS_MICROS = 8_640_000_000_000_000n * 1000n;

function toBigInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  throw new TypeError(`expected an integer, got ${typeof v}`);
}

function isToastPlaceholder(v: unknown): boolean {
  if (typeof v !== 'object') return v === TOAST_PLACEHOLDER;
  if (Buffer.isBuffer(v)) return v.equals(TOAST_BYTES);
  // Array columns carry the placeholder as their only element.
  return Array.isArray(v) && v.length === 1 && (v[0] === TOAST_PLACEHOLDER || v[0] === TOAST_BASE64);
}

function scaleOf(schema: Record<string, unknown>): number {
  const params = schema['connect.parameters'] as Record<string, string> | undefined;
  const raw = schema.scale ?? params?.scale ?? 0;
  return Number(raw);
}

type Names = ReadonlyMap<string, Schema>;
const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const NO_NAMES: Names = new Map();

/**
 * Every named type (record, enum, fixed) of a schema by full and short name. Debezium envelopes
 * define the row record once (in `before`) and refer to it by name in `after`, so a value can
 * only be normalised with the whole schema's names at hand.
 */
export function indexNamedTypes(
  schema: Schema,
  namespace = '',
  out = new Map<string, Schema>(),
): Map<string, Schema> {
  if (Array.isArray(schema)) {
    for (const b of schema) indexNamedTypes(b, namespace, out);
  } else if (typeof schema === 'object' && schema !== null) {
    let ns = namespace;
    const name = schema.name as string | undefined;
    if (name && (schema.type === 'record' || schema.type === 'enum' || schema.type === 'fixed')) {
      ns = name.includes('.')
        ? name.slice(0, name.lastIndexOf('.'))
        : ((schema.namespace as string | undefined) ?? namespace);
      const short = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : name;
      out.set(ns ? `${ns}.${short}` : short, schema);
      if (!out.has(short)) out.set(short, schema);
    }
    if (schema.type === 'record')
      for (const f of (schema.fields as { type: Schema }[]) ?? []) indexNamedTypes(f.type, ns, out);
    if (schema.type === 'array') indexNamedTypes(schema.items as Schema, ns, out);
    if (schema.type === 'map') indexNamedTypes(schema.values as Schema, ns, out);
    if (typeof schema.type === 'object') indexNamedTypes(schema.type, ns, out);
  }
  return out;
}

type Normaliser = (value: unknown) => Value;

/**
 * Compiles a normaliser for one writer schema: the schema is walked once into a tree of closures
 * (names resolved, logical types picked, scales read), so decoding a message no longer re-reads
 * the schema per value. Same results and errors as `normalise` (a unit test checks both on every
 * captured message).
 */
export function compileNormaliser(schema: Schema): Normaliser {
  return compile(schema, indexNamedTypes(schema), new Map());
}

function compile(schema: Schema, names: Names, memo: Map<Schema, Normaliser>): Normaliser {
  const hit = memo.get(schema);
  if (hit) return hit;
  // Lazy, so a named type that refers to itself compiles once instead of forever.
  let inner: Normaliser | undefined;
  const f: Normaliser = (value) => {
    if (value === null || value === undefined) return null;
    if (isToastPlaceholder(value)) return UNCHANGED;
    return (inner ??= compileInner(schema, names, memo))(value);
  };
  memo.set(schema, f);
  return f;
}

function compileInner(schema: Schema, names: Names, memo: Map<Schema, Normaliser>): Normaliser {
  if (Array.isArray(schema)) {
    const nonNull = schema.filter((b) => b !== 'null');
    if (nonNull.length === 1) return compile(nonNull[0]!, names, memo);
    return (value) => normaliseUnion(schema, value, names);
  }
  if (typeof schema === 'string') {
    const named = PRIMITIVES.has(schema) ? undefined : names.get(schema);
    if (named !== undefined) return compile(named, names, memo);
    return schema === 'long' ? longString : primitive;
  }
  // Logical types: the interpreter's own case for them, with the same checks and errors.
  const logical = logicalOf(schema);
  if (logical) return logical;
  const type = schema.type;
  if (type === 'record') {
    const fields = (schema.fields as { name: string; type: Schema }[]) ?? [];
    return recordNormaliser(
      fields.map((f) => f.name),
      fields.map((f) => compile(f.type, names, memo)),
    );
  }
  if (type === 'array') {
    const item = compile(schema.items as Schema, names, memo);
    return (value) => (value as unknown[]).map((v) => item(v));
  }
  if (type === 'map') {
    const val = compile(schema.values as Schema, names, memo);
    return (value) => {
      const out: Record<string, Value> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = val(v);
      return out;
    };
  }
  if (type === 'enum') return (value) => String(value);
  if (typeof type === 'object') return compile(type, names, memo);
  if (typeof type === 'string' && !PRIMITIVES.has(type) && names.has(type))
    return compile(names.get(type)!, names, memo);
  return type === 'long' ? longString : primitive;
}

/** Avro names ([A-Za-z_][A-Za-z0-9_]*) that can be written as identifiers in generated code. */
const PLAIN_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A record's normaliser as one object literal over its fields (`{ id: n0(r.id), ... }`): built
 * once per schema, every record of that schema then has one shape, with no per-field keyed stores.
 * Names that are not plain identifiers, or `__proto__` (which a literal would treat as the
 * prototype), fall back to the field loop; the result is the same.
 */
function recordNormaliser(fieldNames: readonly string[], norms: readonly Normaliser[]): Normaliser {
  if (fieldNames.every((n) => PLAIN_NAME_RE.test(n) && n !== '__proto__')) {
    const body = fieldNames.map((n, i) => `${n}: n[${i}](r.${n})`).join(', ');
    return new Function('n', `return (r) => ({ ${body} });`)(norms) as Normaliser;
  }
  return (value) => {
    const out: Record<string, Value> = {};
    const rec = value as Record<string, unknown>;
    for (let i = 0; i < fieldNames.length; i++) out[fieldNames[i]!] = norms[i]!(rec[fieldNames[i]!]);
    return out;
  };
}

/**
 * Normalise one value against its writer schema. Throws on a value that contradicts its schema's
 * logical type (the caller turns that into a poison-message error).
 */
export function normalise(schema: Schema, value: unknown, names: Names = NO_NAMES): Value {
  if (value === null || value === undefined) return null;
  if (isToastPlaceholder(value)) return UNCHANGED;
  if (Array.isArray(schema)) return normaliseUnion(schema, value, names);
  if (typeof schema === 'string') {
    const named = PRIMITIVES.has(schema) ? undefined : names.get(schema);
    if (named !== undefined) return normalise(named, value, names);
    return schema === 'long' ? longString(value) : primitive(value);
  }

  const logical = logicalOf(schema);
  if (logical) return logical(value);

  const type = schema.type;
  if (type === 'record') {
    const out: Record<string, Value> = {};
    const fields = (schema.fields as { name: string; type: Schema }[]) ?? [];
    const rec = value as Record<string, unknown>;
    for (const f of fields) out[f.name] = normalise(f.type, rec[f.name], names);
    return out;
  }
  if (type === 'array') return (value as unknown[]).map((v) => normalise(schema.items as Schema, v, names));
  if (type === 'map') {
    const out: Record<string, Value> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      out[k] = normalise(schema.values as Schema, v, names);
    return out;
  }
  if (type === 'enum') return String(value);
  if (typeof type === 'object') return normalise(type, value, names); // {type: {...}} nesting
  if (typeof type === 'string' && !PRIMITIVES.has(type) && names.has(type))
    return normalise(names.get(type)!, value, names);
  return type === 'long' ? longString(value) : primitive(value);
}

type Logical = (value: unknown) => Value;
const LOGICAL_OF = new WeakMap<object, Logical | null>();

/**
 * The normaliser of a Debezium / Kafka Connect logical type (by `connect.name`), built once per
 * schema node (scale read, case picked) and used by both `normalise` and the compiled normaliser;
 * null when the node is not a logical type. Called after the null and TOAST checks.
 */
function logicalOf(schema: Record<string, unknown>): Logical | null {
  let f = LOGICAL_OF.get(schema);
  if (f === undefined) {
    f = makeLogical(schema);
    LOGICAL_OF.set(schema, f);
  }
  return f;
}

function makeLogical(schema: Record<string, unknown>): Logical | null {
  switch ((schema['connect.name'] as string | undefined) ?? '') {
    case 'org.apache.kafka.connect.data.Decimal': {
      const scale = scaleOf(schema);
      return (value) => decimalFromBytes(value as Uint8Array, scale);
    }
    case 'io.debezium.data.VariableScaleDecimal':
      return (value) => {
        const v = value as { scale: number; value: Uint8Array };
        return decimalFromBytes(v.value, v.scale);
      };
    case 'io.debezium.time.Date':
    case 'org.apache.kafka.connect.data.Date':
      return (value) => dateFromDays(Number(value));
    case 'io.debezium.time.Time':
    case 'org.apache.kafka.connect.data.Time':
      return (value) => timeOfDayFromMicros(toBigInt(value) * 1000n);
    case 'io.debezium.time.MicroTime':
      return (value) => timeOfDayFromMicros(toBigInt(value));
    case 'io.debezium.time.NanoTime':
      return (value) => timeOfDayFromMicros(toBigInt(value) / 1000n);
    case 'io.debezium.time.Timestamp':
    case 'org.apache.kafka.connect.data.Timestamp':
      return (value) =>
        timestampFromMicros(toBigInt(value instanceof Date ? value.getTime() : value) * 1000n);
    case 'io.debezium.time.MicroTimestamp':
      return (value) => timestampFromMicros(toBigInt(value));
    case 'io.debezium.time.NanoTimestamp':
      return (value) => timestampFromMicros(toBigInt(value) / 1000n);
    case 'io.debezium.time.ZonedTimestamp':
      return (value) => infinity(value) ?? normaliseZonedTimestamp(String(value));
    case 'io.debezium.time.ZonedTime':
    case 'io.debezium.time.Interval':
    case 'io.debezium.data.Uuid':
    case 'io.debezium.data.Enum':
    case 'io.debezium.data.EnumSet':
    case 'io.debezium.data.Xml':
    case 'io.debezium.data.Ltree':
      return (value) => String(value);
    case 'io.debezium.time.MicroDuration':
      return (value) => Number(value);
    case 'io.debezium.data.Json':
      // Messages produced before the connector set its own placeholder carry Debezium's default;
      // in a JSON column it is unambiguous (not valid JSON, so never real data). Otherwise the exact
      // JSON text: JSON.parse would round 12345678901234567890 to a double. Checked to be JSON so a
      // broken value is still caught here, at decode time.
      return (value) => (value === LEGACY_TOAST_PLACEHOLDER ? UNCHANGED : jsonText(String(value)));
    case 'io.debezium.data.geometry.Point':
      return (value) => {
        const p = value as { x: number; y: number };
        return { lon: p.x, lat: p.y };
      };
    case 'io.debezium.data.geometry.Geometry':
    case 'io.debezium.data.geometry.Geography':
      return (value) => {
        const g = value as { wkb: Uint8Array; srid: number | null };
        return { wkbHex: Buffer.from(g.wkb).toString('hex'), srid: g.srid ?? null };
      };
    default:
      return null;
  }
}

/**
 * int64 columns (bigint, bigserial) are always decimal strings: a JS number is exact only below
 * 2^53, and one field must have one type whatever its magnitude. Projections read them with
 * num()/str() (src/project/row.ts), which accept strings.
 */
function longString(value: unknown): string {
  // A small integer (a V8 Smi) prints the same digits as its BigInt, without allocating one.
  // (Larger doubles go through the shortest-float printer, slower than the BigInt's.)
  if (typeof value === 'number' && (value | 0) === value) return String(value);
  if (typeof value === 'bigint' || typeof value === 'number') return BigInt(value).toString();
  throw new TypeError(`expected an int64, got ${typeof value}`);
}

function jsonText(text: string): string {
  JSON.parse(text);
  return text;
}

/** PostgreSQL's infinite timestamps and dates keep PostgreSQL's spelling (the mart's columns take it as is). */
export const INFINITY = 'infinity';
export const NEG_INFINITY = '-infinity';
function infinity(value: unknown): string | null {
  if (value === INFINITY || value === NEG_INFINITY) return value;
  // An out-of-range sentinel rendered as an ISO string with an extended year ("+294247-01-10T…").
  if (typeof value === 'string' && /^[+-]\d{5,}-/.test(value))
    return value.startsWith('-') ? NEG_INFINITY : INFINITY;
  return null;
}

function normaliseUnion(branches: Schema[], value: unknown, names: Names): Value {
  const nonNull = branches.filter((b) => b !== 'null');
  if (nonNull.length === 1) return normalise(nonNull[0]!, value, names);
  // avsc wraps multi-branch unions as { branchName: value }.
  const [name, inner] = Object.entries(value as Record<string, unknown>)[0] ?? [];
  const branch = nonNull.find((b) =>
    typeof b === 'string'
      ? b === name
      : (b as { name?: string; type: Schema }).name === name || (b as { type: Schema }).type === name,
  );
  return branch === undefined ? primitive(inner) : normalise(branch, inner, names);
}

function primitive(value: unknown): Value {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'bigint') return value.toString();
  return value as Value;
}
