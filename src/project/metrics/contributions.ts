import { isZero } from '../../shared/decimal.js';
import {
  type MetricDef,
  type MetricPart,
  type MetricSource,
  type Part,
  partsReading,
  type SourceRow,
} from './catalog.js';
import type { StateOf } from './state.js';
import { bucketStart, type Granularity } from './time.js';

/**
 * What one source row, as it is NOW, adds to the mart. Pure: the mart is the sum of
 * contributions(row) over the current source rows, so the change an event makes is
 * contributions(new row) − contributions(previous row) (delta.ts).
 */

/** Gauges have no time bucket: they live in mart.metric_gauge under granularity CURRENT. */
export type BucketGranularity = Granularity | 'CURRENT';

/** Additive part of a metric row: numerator += num, denominator += den. */
export interface AdditiveContribution {
  readonly kind: 'add';
  readonly metric: string;
  readonly granularity: BucketGranularity;
  /** UTC bucket start "YYYY-MM-DDTHH:MM:00.000Z"; null for gauges. */
  readonly bucketStart: string | null;
  readonly dimension: string;
  /** Exact decimals (canonical strings). */
  readonly num: string;
  readonly den: string;
}

/** One reference to a distinct member of a bucket: the member counts once while its references > 0. */
export interface MemberContribution {
  readonly kind: 'member';
  readonly metric: string;
  readonly granularity: Granularity;
  readonly bucketStart: string;
  readonly dimension: string;
  /** Which side of the metric the distinct count feeds. */
  readonly part: MetricPart;
  readonly member: string;
  /** Number of references (a signed change once it is a delta). */
  readonly ref: number;
}

export type Contribution = AdditiveContribution | MemberContribution;

export type ReadingPart = { readonly metric: MetricDef; readonly part: Part };

/**
 * Contributions of one row state of `source`; [] for null (row absent or deleted). Throws
 * RangeError on a malformed timestamp or decimal (the caller dead-letters the event). `parts`
 * restricts it to some of the (metric, part) pairs reading `source` (default: all of them).
 */
export function contributions<T extends MetricSource>(
  source: T,
  state: StateOf[T] | null,
  parts: readonly ReadingPart[] = partsReading(source),
): Contribution[] {
  if (state === null) return [];
  const r = state as unknown as SourceRow;
  const out: Contribution[] = [];
  for (const { metric, part } of parts) {
    if (!part.where.ts(r)) continue;
    const dims: string[] = [];
    for (const d of part.dimensions) {
      const v = d.ts(r);
      if (v !== null) dims.push(v);
    }
    const num = part.numerator.kind === 'amount' ? part.numerator.ts(r) : '0';
    const den = part.denominator.kind === 'amount' ? part.denominator.ts(r) : '0';
    const distinctSide =
      part.numerator.kind === 'distinct'
        ? part.numerator
        : part.denominator.kind === 'distinct'
          ? part.denominator
          : null;
    const distinctPart: MetricPart = part.numerator.kind === 'distinct' ? 'numerator' : 'denominator';
    const member = distinctSide ? distinctSide.ts(r) : null;
    const additive = !((num === '0' || isZero(num)) && (den === '0' || isZero(den)));

    if (part.time === null) {
      if (!additive) continue;
      for (const dimension of dims)
        out.push({
          kind: 'add',
          metric: metric.name,
          granularity: 'CURRENT',
          bucketStart: null,
          dimension,
          num,
          den,
        });
      continue;
    }
    const at = r[part.time] as string;
    // ±infinity is a valid PostgreSQL timestamp but lies in no minute or hour: no bucket (the truth
    // SQL says the same with isfinite), and the row's state is still kept.
    if (at === 'infinity' || at === '-infinity') continue;
    for (const granularity of metric.granularities) {
      const start = bucketStart(at, granularity);
      for (const dimension of dims) {
        if (additive)
          out.push({
            kind: 'add',
            metric: metric.name,
            granularity,
            bucketStart: start,
            dimension,
            num,
            den,
          });
        if (member !== null) {
          out.push({
            kind: 'member',
            metric: metric.name,
            granularity,
            bucketStart: start,
            dimension,
            part: distinctPart,
            member,
            ref: 1,
          });
        }
      }
    }
  }
  return out;
}

const INPUTS = new WeakMap<Part, readonly string[]>();

const unique = (cols: readonly (string | null)[]): readonly string[] => [
  ...new Set(cols.filter((c): c is string => c !== null)),
];

/**
 * The columns a part's contributions are a function of: its time column and every column its
 * where, numerator, denominator and dimensions read (each building block of definition.ts lists
 * them, and validateCatalog checks they are kept in state).
 */
export function partInputs(part: Part): readonly string[] {
  let cols = INPUTS.get(part);
  if (!cols) {
    cols = unique([
      part.time,
      ...part.where.cols,
      ...part.numerator.cols,
      ...part.denominator.cols,
      ...part.dimensions.flatMap((d) => d.cols),
    ]);
    INPUTS.set(part, cols);
  }
  return cols;
}

/** A part with its column lists precomputed once (the catalog never changes at run time). */
interface CompiledPart extends ReadingPart {
  readonly inputs: readonly string[];
  /** What the contribution of a row that passes `where` is made of: time, amounts, member, dimensions. */
  readonly valueCols: readonly string[];
}

const COMPILED = new Map<MetricSource, readonly CompiledPart[]>();

function compiledParts(source: MetricSource): readonly CompiledPart[] {
  let parts = COMPILED.get(source);
  if (!parts) {
    parts = partsReading(source).map(({ metric, part }) => ({
      metric,
      part,
      inputs: partInputs(part),
      valueCols: unique([
        part.time,
        ...part.numerator.cols,
        ...part.denominator.cols,
        ...part.dimensions.flatMap((d) => d.cols),
      ]),
    }));
    COMPILED.set(source, parts);
  }
  return parts;
}

const sameCols = (cols: readonly string[], a: SourceRow, b: SourceRow): boolean => {
  for (let i = 0; i < cols.length; i++) if (a[cols[i]!] !== b[cols[i]!]) return false;
  return true;
};

/**
 * The parts reading `source` whose contributions may differ between two states of the same row.
 * The others contribute exactly the same before and after, so they cancel out of the delta and need
 * not be evaluated at all (most changes touch a few columns: a status, one timestamp). A part is
 * left out when none of its inputs changed, when the row passes its `where` in neither state, or
 * when it passes in both and every column its value is made of (time, amounts, member, dimensions)
 * is equal — then both sides yield the same contributions. `where` itself is evaluated on both
 * sides, as contributions() would.
 */
export function partsThatMayDiffer<T extends MetricSource>(
  source: T,
  prev: StateOf[T],
  next: StateOf[T],
  kpis?: ReadonlySet<string>,
): readonly ReadingPart[] {
  const a = prev as unknown as SourceRow;
  const b = next as unknown as SourceRow;
  const out: ReadingPart[] = [];
  for (const p of compiledParts(source)) {
    if (kpis && !kpis.has(p.metric.name)) continue;
    if (sameCols(p.inputs, a, b)) continue;
    const before = p.part.where.ts(a);
    const after = p.part.where.ts(b);
    if (!before && !after) continue;
    if (before && after && sameCols(p.valueCols, a, b)) continue;
    out.push(p);
  }
  return out;
}
