import { compare } from '../../shared/decimal.js';
import { STATE_COLUMNS, type StateTable } from './state.js';
import { GRANULARITIES, type Granularity, secondsBetween } from './time.js';

/**
 * The vocabulary KPIs are written in (catalog.ts holds the KPIs themselves).
 *
 * A KPI has one or more parts; a part reads one source table and says, side by side in TypeScript
 * and in SQL:
 *   - which rows count (`where`),
 *   - the event-time column that picks the UTC bucket (`time`; null for gauges),
 *   - what a row adds to the numerator and to the denominator (an exact amount, or a distinct member),
 *   - the dimensions the row is reported under ('all', 'zone:<id>', 'vehicle:<type>', ...).
 * Every building block keeps its two sides equivalent, NULLs included: a comparison with NULL is
 * false in TypeScript and NULL (not counted / CASE ELSE) in SQL.
 */

export type MetricSource = Exclude<StateTable, 'zones'>;
export type MetricGroup = 'Passenger' | 'Driver' | 'Operation';
export type MetricKind = 'count' | 'sum' | 'avg' | 'ratio' | 'distinct' | 'gauge';
export type ValueRule = 'numerator' | 'ratio';
export type MetricPart = 'numerator' | 'denominator';

/** A source row as contributions see it (see state.ts). */
export type SourceRow = Readonly<Record<string, string | null>>;

export interface Cond {
  readonly ts: (r: SourceRow) => boolean;
  readonly sql: string;
  readonly cols: readonly string[];
}
/** An exact decimal a row adds (where guarantees the inputs are non-null). */
export interface Amount {
  readonly kind: 'amount';
  readonly ts: (r: SourceRow) => string;
  readonly sql: string;
  readonly cols: readonly string[];
}
/** A member counted once per bucket (COUNT(DISTINCT ...)). */
export interface Distinct {
  readonly kind: 'distinct';
  readonly ts: (r: SourceRow) => string;
  readonly sql: string;
  readonly cols: readonly string[];
}
export interface Dimension {
  /** Dimension family ('all', 'zone', ...); the value is 'all' or '<name>:<value>'. */
  readonly name: string;
  /** null = the row is not reported under this family (e.g. cancelled_by of a non-cancelled booking). */
  readonly ts: (r: SourceRow) => string | null;
  readonly sql: string;
  readonly cols: readonly string[];
}

export interface Part {
  readonly source: MetricSource;
  /** Event-time column (bucket key); null for a gauge. */
  readonly time: string | null;
  readonly where: Cond;
  readonly numerator: Amount | Distinct;
  readonly denominator: Amount | Distinct;
  readonly dimensions: readonly Dimension[];
}

export interface MetricDef {
  readonly name: string;
  readonly group: MetricGroup;
  readonly unit: string;
  readonly kind: MetricKind;
  readonly valueRule: ValueRule;
  /** MINUTE and HOUR for flows; none for gauges (current state, kept in mart.metric_gauge). */
  readonly granularities: readonly Granularity[];
  readonly description: string;
  readonly parts: readonly Part[];
}

// ---------------------------------------------------------------------------------------------
// Building blocks.

const isNull = (v: string | null | undefined): v is null | undefined => v === null || v === undefined;

export const notNull = (...cols: string[]): Cond => ({
  ts: (r) => cols.every((c) => !isNull(r[c])),
  sql: cols.map((c) => `${c} IS NOT NULL`).join(' AND '),
  cols,
});
export const eq = (col: string, value: string): Cond => ({
  ts: (r) => r[col] === value,
  sql: `${col} = '${value}'`,
  cols: [col],
});
export const oneOf = (col: string, values: readonly string[]): Cond => ({
  ts: (r) => values.includes(r[col] as string),
  sql: `${col} IN (${values.map((v) => `'${v}'`).join(', ')})`,
  cols: [col],
});
export const greaterThan = (col: string, value: string): Cond => ({
  ts: (r) => !isNull(r[col]) && compare(r[col] as string, value) > 0,
  sql: `${col} > ${value}`,
  cols: [col],
});
export const TRUE: Cond = { ts: () => true, sql: 'TRUE', cols: [] };
export const and = (...all: Cond[]): Cond => {
  const conds = all.filter((c) => c !== TRUE);
  if (conds.length === 0) return TRUE;
  return {
    ts: (r) => conds.every((c) => c.ts(r)),
    sql: conds.map((c) => c.sql).join(' AND '),
    cols: conds.flatMap((c) => c.cols),
  };
};

export const ONE: Amount = { kind: 'amount', ts: () => '1', sql: '1', cols: [] };
export const ZERO: Amount = { kind: 'amount', ts: () => '0', sql: '0', cols: [] };
export const column = (col: string): Amount => ({
  kind: 'amount',
  ts: (r) => r[col] ?? '0',
  sql: col,
  cols: [col],
});
/** Exact seconds between two timestamps (PostgreSQL ≥ 14: EXTRACT returns numeric with µs). */
export const seconds = (from: string, to: string): Amount => ({
  kind: 'amount',
  ts: (r) => secondsBetween(r[from] as string, r[to] as string),
  sql: `(EXTRACT(EPOCH FROM ${to}) - EXTRACT(EPOCH FROM ${from}))`,
  cols: [from, to],
});
/** 1 when the condition holds, else 0 (the numerator of a rate). */
export const flag = (cond: Cond): Amount => ({
  kind: 'amount',
  ts: (r) => (cond.ts(r) ? '1' : '0'),
  sql: `CASE WHEN ${cond.sql} THEN 1 ELSE 0 END`,
  cols: cond.cols,
});
export const distinct = (col: string): Distinct => ({
  kind: 'distinct',
  ts: (r) => r[col] as string,
  sql: `${col}::text`,
  cols: [col],
});

export const ALL: Dimension = { name: 'all', ts: () => 'all', sql: `'all'`, cols: [] };
export const dim = (name: string, col: string): Dimension => ({
  name,
  ts: (r) => (isNull(r[col]) ? null : `${name}:${r[col]}`),
  sql: `'${name}:' || ${col}`,
  cols: [col],
});

export function valueRuleOf(kind: MetricKind): ValueRule {
  return kind === 'avg' || kind === 'ratio' ? 'ratio' : 'numerator';
}

export type Header = Omit<MetricDef, 'parts' | 'valueRule' | 'granularities'> & { valueRule?: ValueRule };

/** A flow KPI from one table: bucketed by `time` into MINUTE and HOUR. */
export function flow(h: Header, p: Omit<Part, 'time'> & { time: string }): MetricDef {
  return { ...h, valueRule: h.valueRule ?? valueRuleOf(h.kind), granularities: GRANULARITIES, parts: [p] };
}
/** A gauge: a function of the current rows, no time bucket. */
export function gauge(h: Omit<Header, 'kind'>, parts: Omit<Part, 'time'>[]): MetricDef {
  return {
    ...h,
    kind: 'gauge',
    valueRule: h.valueRule ?? 'numerator',
    granularities: [],
    parts: parts.map((p) => ({ ...p, time: null })),
  };
}

/** The side of a metric counted as distinct members, if any. */
export function distinctPartOf(m: MetricDef): MetricPart | null {
  const p = m.parts[0];
  if (!p) return null;
  if (p.numerator.kind === 'distinct') return 'numerator';
  if (p.denominator.kind === 'distinct') return 'denominator';
  return null;
}

/** Rejects a catalog that could not be exact; runs at import so a bad edit fails every test. */
export function validateCatalog(catalog: readonly MetricDef[]): void {
  const seen = new Set<string>();
  for (const m of catalog) {
    const where = `metric ${m.name}`;
    if (!/^[a-z][a-z0-9_]*$/.test(m.name)) throw new Error(`${where}: bad name`);
    if (seen.has(m.name)) throw new Error(`${where}: duplicate name`);
    seen.add(m.name);
    if (m.parts.length === 0) throw new Error(`${where}: no parts`);
    if ((m.kind === 'gauge') !== (m.granularities.length === 0))
      throw new Error(`${where}: gauges and only gauges have no granularity`);
    if (m.kind !== 'gauge' && m.valueRule !== valueRuleOf(m.kind))
      throw new Error(`${where}: value rule does not match kind`);
    const distinctSides = m.parts
      .flatMap((p) => [p.numerator, p.denominator])
      .filter((x) => x.kind === 'distinct');
    if (
      distinctSides.length > 1 ||
      (distinctSides.length === 1 && (m.parts.length > 1 || m.kind === 'gauge'))
    ) {
      throw new Error(`${where}: a distinct side needs a single-part flow metric with one distinct side`);
    }
    if (m.kind === 'distinct' && m.parts[0]?.numerator.kind !== 'distinct')
      throw new Error(`${where}: distinct kind counts members in the numerator`);
    for (const p of m.parts) {
      if ((p.time === null) !== (m.kind === 'gauge'))
        throw new Error(`${where}: a flow part needs a time column, a gauge part none`);
      if (p.dimensions.length === 0 || p.dimensions[0]?.name !== 'all')
        throw new Error(`${where}: dimension 'all' must come first`);
      const cols = [
        p.time,
        ...p.where.cols,
        ...p.numerator.cols,
        ...p.denominator.cols,
        ...p.dimensions.flatMap((d) => d.cols),
      ];
      const known: readonly string[] = STATE_COLUMNS[p.source];
      for (const c of cols)
        if (c !== null && !known.includes(c))
          throw new Error(`${where}: ${p.source}.${c} is not kept in state`);
      if (p.time !== null && !p.where.cols.includes(p.time))
        throw new Error(`${where}: where must require ${p.time} IS NOT NULL`);
    }
  }
}
