/**
 * Exact decimal arithmetic on plain decimal strings ("45000.50", "-0.125", "3"), backed by BigInt
 * scaled integers. Money, fares and durations never go through a float: the mart's numerators are
 * sums of these values and must equal PostgreSQL's numeric sums to the last digit.
 *
 * Results are canonical: no exponent, no leading "+", no trailing fractional zeros, no "-0"
 * ("1.50" + "1" → "2.5"). Canonical strings compare equal iff the values are equal, so they can
 * be used in keys; `toFixed` gives a fixed-scale rendering for display or SQL literals.
 */

export interface Scaled {
  /** The value times 10^scale. */
  readonly unscaled: bigint;
  /** Number of fractional digits, ≥ 0. */
  readonly scale: number;
}

const DECIMAL_RE = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Parses a decimal string (plain or with an exponent, as `String(number)` may produce). */
const INTEGER_RE = /^-?\d+$/;

export function parseDecimal(input: string | number | bigint): Scaled {
  if (typeof input === 'bigint') return { unscaled: input, scale: 0 };
  // Fast path: counts and ids are plain integers.
  if (typeof input === 'string' && INTEGER_RE.test(input)) return { unscaled: BigInt(input), scale: 0 };
  const s = typeof input === 'number' ? numberToString(input) : input.trim();
  const m = DECIMAL_RE.exec(s);
  if (!m || ((m[2] ?? '') === '' && (m[3] ?? '') === ''))
    throw new RangeError(`not a decimal: ${JSON.stringify(input)}`);
  const intPart = m[2] ?? '';
  const frac = m[3] ?? '';
  const exp = m[4] === undefined ? 0 : Number(m[4]);
  let unscaled = BigInt(`${intPart}${frac}` || '0');
  let scale = frac.length - exp;
  if (scale < 0) {
    unscaled *= 10n ** BigInt(-scale);
    scale = 0;
  }
  if (m[1] === '-') unscaled = -unscaled;
  return { unscaled, scale };
}

function numberToString(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
  return String(n);
}

/** Renders a scaled integer with exactly `scale` fractional digits (no canonicalisation). */
export function formatScaled(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString();
  if (scale <= 0) return (neg ? '-' : '') + digits + '0'.repeat(-scale);
  const padded = digits.padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

/** Canonical string of a scaled value (see the module comment). */
export function formatCanonical(v: Scaled): string {
  return canonical(v);
}

/** Exact sum of two scaled values (for accumulators that avoid re-parsing strings). */
export function addScaled(a: Scaled, b: Scaled): Scaled {
  if (a.scale === b.scale) return { unscaled: a.unscaled + b.unscaled, scale: a.scale };
  const [x, y, scale] = align(a, b);
  return { unscaled: x + y, scale };
}

function canonical(v: Scaled): string {
  let { unscaled, scale } = v;
  if (scale === 0) return unscaled.toString();
  if (unscaled === 0n) return '0';
  while (scale > 0 && unscaled % 10n === 0n) {
    unscaled /= 10n;
    scale -= 1;
  }
  return formatScaled(unscaled, scale);
}

function align(a: Scaled, b: Scaled): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.unscaled * 10n ** BigInt(scale - a.scale), b.unscaled * 10n ** BigInt(scale - b.scale), scale];
}

type Dec = string | number | bigint;

/** Canonical form of a decimal ("012.500" → "12.5", "-0.0" → "0"). */
export function normalize(a: Dec): string {
  if (typeof a === 'string') {
    const c = canonicalPlain(a);
    if (c !== null) return c;
  }
  return canonical(parseDecimal(a));
}

/** Digits with an optional sign and fraction: the form amounts arrive in ("61500.50", "-3", "0.125"). */
const PLAIN_RE = /^(-?)(\d+)(?:\.(\d+))?$/;
const LEADING_ZEROS_RE = /^0+(?=\d)/;
const TRAILING_ZEROS_RE = /0+$/;

/**
 * canonical(parseDecimal(s)) by string edits alone for a plain decimal (no BigInt: amounts are
 * canonicalised on every KPI delta); null for any other form, which takes the exact general path.
 */
function canonicalPlain(s: string): string | null {
  if (isCanonicalPlain(s)) return s;
  const m = PLAIN_RE.exec(s);
  if (!m) return null;
  const int = m[2]!.replace(LEADING_ZEROS_RE, '');
  const frac = m[3] === undefined ? '' : m[3].replace(TRAILING_ZEROS_RE, '');
  if (frac === '' && int === '0') return '0';
  return frac === '' ? `${m[1]}${int}` : `${m[1]}${int}.${frac}`;
}

const isDigitCode = (c: number) => c >= 48 && c <= 57;

/** Already canonical ("0", "12", "-3", "0.25", "-61500.5"): most amounts are; no allocation. */
function isCanonicalPlain(s: string): boolean {
  const n = s.length;
  const intStart = s.charCodeAt(0) === 45 /* - */ ? 1 : 0;
  let i = intStart;
  while (i < n && isDigitCode(s.charCodeAt(i))) i++;
  const intLen = i - intStart;
  if (intLen === 0 || (intLen > 1 && s.charCodeAt(intStart) === 48)) return false;
  if (i === n) return !(intStart === 1 && s === '-0');
  if (s.charCodeAt(i) !== 46 /* . */) return false;
  const fracStart = ++i;
  while (i < n && isDigitCode(s.charCodeAt(i))) i++;
  return i === n && i > fracStart && s.charCodeAt(n - 1) !== 48;
}

/** −c for a canonical c: the sign flips, "0" stays. */
const negateCanonical = (c: string): string => (c === '0' ? c : c.startsWith('-') ? c.slice(1) : `-${c}`);
const NONZERO_DIGIT_RE = /[1-9]/;

export function add(a: Dec, b: Dec): string {
  const [x, y, scale] = align(parseDecimal(a), parseDecimal(b));
  return canonical({ unscaled: x + y, scale });
}

export function sub(a: Dec, b: Dec): string {
  const [x, y, scale] = align(parseDecimal(a), parseDecimal(b));
  return canonical({ unscaled: x - y, scale });
}

export function neg(a: Dec): string {
  if (typeof a === 'string') {
    const c = canonicalPlain(a);
    if (c !== null) return negateCanonical(c);
  }
  const v = parseDecimal(a);
  return canonical({ unscaled: -v.unscaled, scale: v.scale });
}

/** Multiplication by an integer (counts, reference deltas); exact. */
export function mulInt(a: Dec, k: number | bigint): string {
  if (typeof k === 'number' && !Number.isSafeInteger(k)) throw new RangeError(`not a safe integer: ${k}`);
  // ±1 (a delta's sign) on a plain decimal: a string edit.
  if (typeof a === 'string' && (k === 1 || k === -1 || k === 1n || k === -1n)) {
    const c = canonicalPlain(a);
    if (c !== null) return k === 1 || k === 1n ? c : negateCanonical(c);
  }
  const v = parseDecimal(a);
  return canonical({ unscaled: v.unscaled * BigInt(k), scale: v.scale });
}

/** Sum of any number of decimals; "0" for none. */
export function sum(values: Iterable<Dec>): string {
  let acc: Scaled = { unscaled: 0n, scale: 0 };
  for (const v of values) {
    const [x, y, scale] = align(acc, parseDecimal(v));
    acc = { unscaled: x + y, scale };
  }
  return canonical(acc);
}

/** -1, 0 or 1. */
export function compare(a: Dec, b: Dec): -1 | 0 | 1 {
  const [x, y] = align(parseDecimal(a), parseDecimal(b));
  return x < y ? -1 : x > y ? 1 : 0;
}

export function isZero(a: Dec): boolean {
  if (typeof a === 'string' && PLAIN_RE.test(a)) return !NONZERO_DIGIT_RE.test(a);
  return parseDecimal(a).unscaled === 0n;
}

/** Integer division of scaled values rounding half away from zero (PostgreSQL's round(numeric)). */
function roundDiv(n: bigint, d: bigint): bigint {
  if (d === 0n) throw new RangeError('division by zero');
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const q = n / d;
  const r = n % d;
  if (r === 0n) return q;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice >= d) return n < 0n ? q - 1n : q + 1n;
  return q;
}

/** Fixed-scale rendering, rounding half away from zero ("2.345" → toFixed 2 → "2.35", "-2.345" → "-2.35"). */
export function toFixed(a: Dec, scale: number): string {
  if (!Number.isInteger(scale) || scale < 0) throw new RangeError(`bad scale: ${scale}`);
  const v = parseDecimal(a);
  if (v.scale <= scale) return formatScaled(v.unscaled * 10n ** BigInt(scale - v.scale), scale);
  return formatScaled(roundDiv(v.unscaled, 10n ** BigInt(v.scale - scale)), scale);
}

/**
 * a / b rounded half away from zero to `scale` digits, exactly (one rounding of the true
 * quotient). Returns null when b is zero, like NULLIF(b, 0) in the mart's SQL.
 */
export function div(a: Dec, b: Dec, scale: number): string | null {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (y.unscaled === 0n) return null;
  // a/b = (xa / 10^sa) / (yb / 10^sb); scaled by 10^scale → xa * 10^(sb + scale) / (yb * 10^sa).
  const n = x.unscaled * 10n ** BigInt(y.scale + scale);
  const d = y.unscaled * 10n ** BigInt(x.scale);
  return formatScaled(roundDiv(n, d), scale);
}

/** Exact decimal from a scaled integer (e.g. microseconds → seconds with scale 6). */
export function fromScaled(unscaled: bigint, scale: number): string {
  return canonical({ unscaled, scale });
}
