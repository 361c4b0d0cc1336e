import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  BUNDLE_ROOT,
  DATABASE_FILE,
  FLOW_KPIS,
  KPI_DATASET_UUID,
  buildBundle,
  stableUuid,
} from '../../src/superset/bundle.js';
import { CONSTRAINTS_FILE } from '../../src/superset/install.js';
import { renderConfig } from '../../src/superset/config-file.js';
import { loadSupersetSettings } from '../../src/superset/settings.js';
import { loadStackConfig } from '../../src/stack/config.js';
import { COMMITTED_BUNDLE_DIR, DEFAULT_TARGET } from '../../src/superset/write-bundle.js';

type Any = Record<string, any>;
const FILES = buildBundle(DEFAULT_TARGET);
const Y = new Map([...FILES].map(([p, t]) => [p, parse(t) as Any]));
const of = (dir: string) => [...Y].filter(([p]) => p.startsWith(dir)).map(([, v]) => v);
const charts = of('charts/');
const datasets = new Map(of('datasets/').map((d) => [d.uuid as string, d]));
const dashboards = of('dashboards/');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

describe('Superset bundle', () => {
  it('superset/bundle/ is exactly what src/superset/bundle.ts builds (npx tsx src/superset/write-bundle.ts)', () => {
    const root = join(COMMITTED_BUNDLE_DIR, BUNDLE_ROOT);
    const committed = new Map(walk(root).map((f) => [relative(root, f), readFileSync(f, 'utf8')]));
    expect([...committed.keys()].sort()).toEqual([...FILES.keys()].sort());
    for (const [p, t] of FILES) expect(committed.get(p), p).toBe(t);
  });

  it('has fixed uuids, unique, derived from names (a re-import updates, never duplicates)', () => {
    const uuids = [...Y.values()].map((v) => v.uuid).filter(Boolean);
    expect(new Set(uuids).size).toBe(uuids.length);
    expect(buildBundle(DEFAULT_TARGET)).toEqual(FILES);
    expect(stableUuid('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('places every chart on exactly one dashboard, by uuid in the layout', () => {
    const placed = dashboards.flatMap((d) =>
      Object.values<Any>(d.position)
        .filter((n) => n?.type === 'CHART')
        .map((n) => n.meta.uuid as string),
    );
    expect(placed.sort()).toEqual(charts.map((c) => c.uuid as string).sort());
    for (const d of dashboards)
      for (const n of Object.values<Any>(d.position).filter((x) => x?.type === 'CHART' || x?.type === 'ROW'))
        for (const child of n.children) expect(d.position[child], `${d.slug}: ${child}`).toBeDefined();
  });

  it('charts every flow KPI of the catalog by minute and hour, in its group dashboard', () => {
    expect(FLOW_KPIS.length).toBeGreaterThanOrEqual(30);
    for (const m of FLOW_KPIS) {
      const c = charts.find(
        (x) => x.viz_type === 'echarts_timeseries_line' && x.params.adhoc_filters[0]?.comparator === m.name,
      );
      expect(c, m.name).toBeDefined();
      const d = dashboards.find((x) => x.slug === `ride-cdc-${m.group.toLowerCase()}`)!;
      expect(JSON.stringify(d.position)).toContain(c!.uuid);
    }
    const granularity = dashboards[0]!.metadata.native_filter_configuration[0];
    expect(granularity.targets[0].column.name).toBe('bucket_granularity');
    expect(granularity.controlValues.enableEmptyFilter).toBe(true);
  });

  it('uses only columns its datasets define (charts and native filters)', () => {
    const cols = (uuid: string) => new Set((datasets.get(uuid)!.columns as Any[]).map((c) => c.column_name));
    const metrics = (uuid: string) =>
      new Set((datasets.get(uuid)!.metrics as Any[]).map((c) => c.metric_name));
    for (const c of charts) {
      const have = cols(c.dataset_uuid);
      const p = c.params;
      const used = [
        p.x_axis,
        ...(p.groupby ?? []),
        ...(p.all_columns ?? []),
        ...(p.adhoc_filters ?? []).map((f: Any) => f.subject),
      ];
      for (const u of used.filter(Boolean)) expect(have.has(u), `${c.slice_name}: column ${u}`).toBe(true);
      for (const m of [...(p.metrics ?? []), p.metric].filter((x) => typeof x === 'string'))
        expect(metrics(c.dataset_uuid).has(m), `${c.slice_name}: metric ${m}`).toBe(true);
    }
    for (const d of dashboards)
      for (const f of d.metadata.native_filter_configuration)
        for (const t of f.targets)
          expect(cols(t.datasetUuid).has(t.column.name), `${d.slug} ${f.name}`).toBe(true);
    // every chart of a dashboard reads the dataset its filters target (a filter on a column a
    // chart's dataset lacks would break that chart)
    for (const d of dashboards) {
      const targets = new Set(
        d.metadata.native_filter_configuration.map((f: Any) => f.targets[0].datasetUuid),
      );
      const ids = Object.values<Any>(d.position)
        .filter((n) => n?.type === 'CHART')
        .map((n) => n.meta.uuid);
      for (const id of ids)
        expect(targets).toEqual(new Set([charts.find((c) => c.uuid === id)!.dataset_uuid]));
    }
    expect(datasets.has(KPI_DATASET_UUID)).toBe(true);
  });

  it('registers reporting_db read-only and without its password', () => {
    const db = Y.get(DATABASE_FILE)!;
    expect(db.sqlalchemy_uri).toBe('postgresql+psycopg2://user:XXXXXXXXXX@127.0.0.1:5433/reporting_db');
    expect(db.allow_dml).toBe(false);
    expect(db.extra.engine_params.connect_args.options).toBe('-c default_transaction_read_only=on');
    expect([...FILES.values()].join('\n')).not.toContain('password');
  });
});

describe('Superset install and config', () => {
  it('constraints pin what the 6.1.0 wheel leaves open (rich, cachetools, flask-caching < 2.5), once each', () => {
    const pins = readFileSync(CONSTRAINTS_FILE, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    for (const l of pins) expect(l).toMatch(/^[a-z0-9._-]+==[0-9][0-9a-z.]*$/);
    const names = pins.map((l) => l.split('==')[0]!);
    expect(new Set(names).size).toBe(names.length);
    const v = new Map(pins.map((l) => l.split('==') as [string, string]));
    expect(v.get('flask-caching')).toBe('2.3.1');
    expect(v.get('rich')).toBeDefined();
    expect(v.get('cachetools')).toBeDefined();
  });

  it('runs without Redis or Celery, on a SQLite metadata store in the stack directory', () => {
    const s = loadSupersetSettings(loadStackConfig({ STACK_DIR: '/tmp/x-stack' }), {});
    const py = renderConfig(s, 'k');
    expect(py).toContain('sqlite:////tmp/x-stack/superset/home/superset.db');
    expect(py).toContain('"CACHE_TYPE": "SimpleCache"');
    expect(py).toContain('RATELIMIT_STORAGE_URI = "memory://"');
    expect(py).toContain('RESULTS_BACKEND = None');
    expect(py).not.toMatch(/redis|celery|broker/i);
    expect(s.port).toBe(8088);
    expect(() =>
      loadSupersetSettings(loadStackConfig({ STACK_DIR: '/tmp/x' }), { SUPERSET_PORT: 'x' }),
    ).toThrow(/SUPERSET_PORT/);
  });
});
