import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CATALOG, type MetricDef, type MetricGroup } from './catalog.js';
import { truthSql } from './truth-sql.js';

/**
 * Renders the catalog section of docs/kpis.md from catalog.ts, so the documentation cannot drift
 * from the code (a unit test compares them). Regenerate with:
 *   npx tsx src/project/metrics/catalog-doc.ts --write
 */

export const BEGIN_MARKER =
  '<!-- BEGIN GENERATED CATALOG (npx tsx src/project/metrics/catalog-doc.ts --write) -->';
export const END_MARKER = '<!-- END GENERATED CATALOG -->';

const GROUPS: readonly MetricGroup[] = ['Passenger', 'Driver', 'Operation'];

function eventTimeKey(m: MetricDef): string {
  const keys = [...new Set(m.parts.filter((p) => p.time !== null).map((p) => `${p.source}.${p.time}`))];
  return keys.length ? keys.map((k) => `\`${k}\``).join(', ') : '— (current state)';
}

function dimensions(m: MetricDef): string {
  const byName = new Map<string, string[]>();
  for (const p of m.parts) {
    for (const d of p.dimensions) {
      const cols = byName.get(d.name) ?? [];
      if (d.name !== 'all') cols.push(`${p.source}.${d.cols[0]}`);
      byName.set(d.name, cols);
    }
  }
  return [...byName.entries()]
    .map(([name, cols]) => (name === 'all' ? '`all`' : `\`${name}:<${[...new Set(cols)].join(' \\| ')}>\``))
    .join(', ');
}

function kind(m: MetricDef): string {
  const p = m.parts[0];
  const distinctSide =
    p?.numerator.kind === 'distinct'
      ? 'numerator'
      : p?.denominator.kind === 'distinct'
        ? 'denominator'
        : null;
  const base = m.kind === 'gauge' ? `gauge (${m.valueRule === 'ratio' ? 'ratio' : 'count'})` : m.kind;
  return distinctSide && m.kind !== 'distinct' ? `${base}, distinct ${distinctSide}` : base;
}

export function renderCatalog(catalog: readonly MetricDef[] = CATALOG): string {
  const lines: string[] = [BEGIN_MARKER, ''];
  lines.push(
    `${catalog.length} KPIs: ${GROUPS.map((g) => `${catalog.filter((m) => m.group === g).length} ${g}`).join(', ')}.`,
    '',
  );
  lines.push('| Group | KPI | Unit | Kind | Event-time key | Granularity | Dimensions | Definition |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const g of GROUPS) {
    for (const m of catalog.filter((x) => x.group === g)) {
      const gran = m.granularities.length ? m.granularities.join(', ') : 'CURRENT';
      lines.push(
        `| ${g} | [\`${m.name}\`](#${m.name}) | ${m.unit} | ${kind(m)} | ${eventTimeKey(m)} | ${gran} | ${dimensions(m)} | ${m.description} |`,
      );
    }
  }
  lines.push('', '### Truth SQL per KPI', '');
  lines.push(
    'Generated from the same definitions the worker evaluates (`truth-sql.ts`). Each query runs on',
    '`ride_hailing_db` and returns the mart columns; the mart must equal it row for row.',
    '',
  );
  for (const g of GROUPS) {
    for (const m of catalog.filter((x) => x.group === g)) {
      lines.push(
        `#### ${m.name}`,
        '',
        `${m.group} · ${kind(m)} · ${m.unit}. ${m.description}`,
        '',
        '```sql',
        truthSql(m),
        '```',
        '',
      );
    }
  }
  lines.push(END_MARKER);
  return lines.join('\n');
}

/** docs/kpis.md with its generated section replaced by the current rendering. */
export function updateDoc(doc: string, catalog: readonly MetricDef[] = CATALOG): string {
  const start = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (start < 0 || end < start) throw new Error('docs/kpis.md: generated-catalog markers not found');
  return doc.slice(0, start) + renderCatalog(catalog) + doc.slice(end + END_MARKER.length);
}

export const DOC_PATH = fileURLToPath(new URL('../../../docs/kpis.md', import.meta.url));

if (
  process.argv[1] &&
  fileURLToPath(import.meta.url) === process.argv[1] &&
  process.argv.includes('--write')
) {
  writeFileSync(DOC_PATH, updateDoc(readFileSync(DOC_PATH, 'utf8')));
  console.log(`updated ${DOC_PATH}`);
}
