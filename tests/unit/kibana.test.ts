/**
 * Kibana cannot run on the native stack (its Elasticsearch is the minimal integ-test distribution),
 * so kibana/*.ndjson is checked structurally: every line parses and is a saved object (or the
 * export-details line), ids are unique, every reference resolves to an object in the file, and every
 * field a data view, Lens visualization, map layer, saved search or query names exists in
 * mappings/*.json for the index pattern the object's data view points at — with a type that suits
 * what the field is used for. The ndjson must also be exactly what kibana/build-saved-objects.ts
 * builds, so the two cannot drift.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  buildSavedObjects,
  CORE_MIGRATION_VERSION,
  IDS,
  NDJSON_PATH,
  toNdjson,
  TYPE_MIGRATION_VERSIONS,
} from '../../kibana/build-saved-objects.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PREFIX = ''; // production index prefix (mappings/ use {{prefix}})

// ── the file ─────────────────────────────────────────────────────────────────────────────────────
interface Ref {
  id: string;
  name: string;
  type: string;
}
interface SO {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  references: Ref[];
  coreMigrationVersion?: string;
  typeMigrationVersion?: string;
}
type Any = Record<string, any>; // parsed JSON, navigated freely in assertions

const RAW = readFileSync(NDJSON_PATH, 'utf8');
const LINES = RAW.split('\n').filter((l, i, all) => !(i === all.length - 1 && l === ''));
const PARSED: Any[] = LINES.map((l) => JSON.parse(l));
const isExportDetails = (o: Any) => typeof o.exportedCount === 'number' && !('type' in o);
const OBJECTS = PARSED.filter((o) => !isExportDetails(o)) as SO[];
const byId = new Map(OBJECTS.map((o) => [o.id, o]));
const ofType = (t: string) => OBJECTS.filter((o) => o.type === t);
const get = (id: string): SO => {
  const o = byId.get(id);
  if (!o) throw new Error(`no saved object ${id}`);
  return o;
};
const attr = (o: SO) => o.attributes as Any;

/** Saved object types of a Kibana 8.19 with the default plugins (references must use one). */
const KIBANA_TYPES = new Set([
  'index-pattern',
  'lens',
  'map',
  'search',
  'dashboard',
  'visualization',
  'tag',
  'config',
  'url',
  'query',
]);

// ── mappings ─────────────────────────────────────────────────────────────────────────────────────
type Fields = Map<string, string>; // dotted field name → ES type
interface MappingFile {
  kind: 'index' | 'index_template';
  name: string;
  body: Any;
}

function flatten(props: Any, prefix = '', out: Fields = new Map()): Fields {
  for (const [name, def] of Object.entries<Any>(props)) {
    const path = prefix + name;
    if (def.properties) flatten(def.properties, `${path}.`, out);
    if (def.type) out.set(path, def.type);
    for (const [sub, subDef] of Object.entries<Any>(def.fields ?? {})) out.set(`${path}.${sub}`, subDef.type);
  }
  return out;
}

/** Index name or index pattern (prefix applied) → its fields. */
const MAPPINGS = new Map<string, Fields>();
for (const f of readdirSync(join(ROOT, 'mappings')).filter((n) => n.endsWith('.json'))) {
  const m = JSON.parse(
    readFileSync(join(ROOT, 'mappings', f), 'utf8').replaceAll('{{prefix}}', PREFIX),
  ) as MappingFile;
  if (m.kind === 'index') MAPPINGS.set(m.name, flatten(m.body.mappings.properties));
  else
    for (const p of m.body.index_patterns as string[])
      MAPPINGS.set(p, flatten(m.body.template.mappings.properties));
}

function fieldsOfDataView(dataViewId: string): Fields {
  const dv = get(dataViewId);
  expect(dv.type).toBe('index-pattern');
  const title = attr(dv).title as string;
  const fields = MAPPINGS.get(title);
  if (!fields)
    throw new Error(`data view ${dataViewId} (${title}) matches no index or template in mappings/`);
  return fields;
}

const DATE = ['date', 'date_nanos'];
const NUMERIC = ['long', 'integer', 'short', 'byte', 'double', 'float', 'half_float', 'scaled_float'];
const AGGREGATABLE = [...DATE, ...NUMERIC, 'keyword', 'boolean', 'ip', 'geo_point'];

/** Asserts the field exists for the data view and, when `allowed` is given, has one of those types. */
function expectField(fields: Fields, field: string, where: string, allowed?: string[]) {
  const type = fields.get(field);
  expect(type, `${where}: field "${field}" is not in the mapping`).toBeDefined();
  if (allowed) expect(allowed, `${where}: field "${field}" is ${type}`).toContain(type);
}

function refTarget(o: SO, name: string): string {
  const matches = o.references.filter((r) => r.name === name);
  expect(matches, `${o.id}: one reference named ${name}`).toHaveLength(1);
  return matches[0]!.id;
}

/** Field names a KQL query mentions (`field : value`, `field >= n`, `field : *`). */
function kqlFields(query: string): string[] {
  const unquoted = query.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...unquoted.matchAll(/([@A-Za-z_][\w.@-]*)\s*(?::|<=|>=|<|>)/g)].map((m) => m[1]!);
}

function expectQueryFields(q: Any | undefined, fields: Fields, where: string) {
  if (!q || typeof q.query !== 'string') return;
  expect(q.language, `${where}: query language`).toBe('kuery');
  for (const f of kqlFields(q.query)) expectField(fields, f, `${where} query`);
}

function expectFilterFields(filters: Any[] | undefined, fields: Fields, where: string) {
  for (const f of filters ?? []) if (f.meta?.key) expectField(fields, f.meta.key, `${where} filter`);
}

// ── tests ────────────────────────────────────────────────────────────────────────────────────────
describe('kibana/ride-cdc-dashboards.ndjson: format', () => {
  it('is exactly what kibana/build-saved-objects.ts builds (run `npx tsx kibana/build-saved-objects.ts`)', () => {
    expect(RAW).toBe(toNdjson(buildSavedObjects()));
  });

  it('can be built for a non-empty ES_INDEX_PREFIX, which changes only the data view titles', () => {
    const plain = buildSavedObjects();
    const prefixed = buildSavedObjects('staging_');
    expect(prefixed.map((o) => o.id)).toEqual(plain.map((o) => o.id));
    for (const [i, o] of prefixed.entries()) {
      const p = plain[i]!;
      if (o.type !== 'index-pattern') expect(o).toEqual(p);
      else
        expect(o).toEqual({ ...p, attributes: { ...p.attributes, title: `staging_${p.attributes.title}` } });
    }
  });

  it('has one JSON object per line, newline-terminated, no blank lines', () => {
    expect(RAW.endsWith('\n')).toBe(true);
    for (const [i, line] of LINES.entries()) {
      expect(line.trim(), `line ${i + 1} is blank`).not.toBe('');
      expect(() => JSON.parse(line), `line ${i + 1} parses`).not.toThrow();
      expect(typeof PARSED[i] === 'object' && !Array.isArray(PARSED[i]), `line ${i + 1} is an object`).toBe(
        true,
      );
    }
  });

  it('ends with the export-details line, which counts the objects and reports nothing missing', () => {
    const details = PARSED.filter(isExportDetails);
    expect(details).toHaveLength(1);
    expect(isExportDetails(PARSED.at(-1)!)).toBe(true);
    expect(details[0]).toEqual({
      excludedObjects: [],
      excludedObjectsCount: 0,
      exportedCount: OBJECTS.length,
      missingRefCount: 0,
      missingReferences: [],
    });
  });

  it('gives every object type, id, attributes, references and the 8.19 migration versions', () => {
    expect(OBJECTS.length).toBeGreaterThan(0);
    for (const o of OBJECTS) {
      expect(typeof o.type, `${o.id} type`).toBe('string');
      expect(o.id, 'id').toMatch(/^ride-cdc-[a-z0-9-]+$/);
      expect(o.attributes, `${o.id} attributes`).toBeTypeOf('object');
      expect(typeof attr(o).title, `${o.id} title`).toBe('string');
      expect(Array.isArray(o.references), `${o.id} references`).toBe(true);
      expect(o.coreMigrationVersion, `${o.id}`).toBe(CORE_MIGRATION_VERSION);
      expect(o.typeMigrationVersion, `${o.id}`).toBe(TYPE_MIGRATION_VERSIONS[o.type]);
      // export order of keys; no server-side fields that could make an import conflict
      expect(Object.keys(o)).toEqual([
        'attributes',
        'coreMigrationVersion',
        'id',
        'managed',
        'references',
        'type',
        'typeMigrationVersion',
      ]);
    }
  });

  it('has no duplicate ids', () => {
    const ids = OBJECTS.map((o) => o.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('resolves every reference to an object of that type in the file', () => {
    for (const o of OBJECTS) {
      const names = o.references.map((r) => r.name);
      expect(new Set(names).size, `${o.id}: reference names are unique`).toBe(names.length);
      for (const r of o.references) {
        expect(KIBANA_TYPES.has(r.type), `${o.id} → ${r.type} is a Kibana type`).toBe(true);
        expect(byId.get(r.id)?.type, `${o.id} → ${r.type}:${r.id} (${r.name})`).toBe(r.type);
      }
    }
  });

  it('places referenced objects before the objects that reference them (as an export does)', () => {
    const position = new Map(OBJECTS.map((o, i) => [o.id, i]));
    for (const o of OBJECTS)
      for (const r of o.references)
        expect(position.get(r.id)!, `${r.id} before ${o.id}`).toBeLessThan(position.get(o.id)!);
  });

  it('contains the objects the dashboards are built from', () => {
    expect(OBJECTS.map((o) => [o.type, o.id, attr(o).title])).toEqual([
      ['index-pattern', IDS.dvDriverLocations, 'driver_locations'],
      ['index-pattern', IDS.dvDriverTimeseries, 'driver_locations_timeseries-*'],
      ['index-pattern', IDS.dvBookingEvents, 'booking_events-*'],
      ['index-pattern', IDS.dvKpiBuckets, 'kpi_buckets'],
      ['index-pattern', IDS.dvKpiCurrent, 'kpi_buckets'],
      ['index-pattern', IDS.dvPipelineMetrics, 'pipeline_metrics-*'],
      ['lens', IDS.lensBookingsByEvent, 'Bookings by event over time'],
      ['lens', IDS.lensCancellationsBy, 'Cancellations by cancelled_by'],
      ['lens', IDS.lensAvgFinalFare, 'Average final fare over time'],
      ['lens', IDS.lensDriversByStatus, 'Drivers by status'],
      ['lens', IDS.lensLocationUpdates, 'Location updates per minute'],
      ['lens', IDS.lensHeadlineRequested, 'Bookings requested'],
      ['lens', IDS.lensHeadlineCompleted, 'Bookings completed'],
      ['lens', IDS.lensHeadlineGmv, 'GMV'],
      ['lens', IDS.lensHeadlineOnline, 'Drivers online now'],
      ['lens', IDS.lensKpiTrend, 'Bookings per minute: requested, completed, cancelled'],
      ['lens', IDS.lensRateTrend, 'Match, completion and cancellation rate per minute'],
      ['lens', IDS.lensDemandHeatmap, 'Ride requests by zone and time'],
      ['lens', IDS.lensDemandSupplyByZone, 'Open requests vs available drivers by zone (now)'],
      ['lens', IDS.lensDriversByZone, 'Drivers online and busy by zone (now)'],
      ['lens', IDS.lensDriversOverTime, 'Drivers online and busy over time'],
      ['lens', IDS.lensThroughput, 'Throughput: change events per second'],
      ['lens', IDS.lensLag, 'Consumer lag'],
      ['lens', IDS.lensLatency, 'End-to-end latency (source commit → sinks)'],
      ['lens', IDS.lensDeadLetters, 'Dead letters and retries'],
      ['map', IDS.mapLiveDrivers, 'Live drivers'],
      ['map', IDS.mapSupplyDemand, 'Supply / demand heatmap'],
      ['map', IDS.mapPositionsVsPickups, 'Driver positions vs booking pickups'],
      ['search', IDS.searchRecentBookingEvents, 'Recent booking events'],
      ['dashboard', IDS.dashboardOverview, 'ride-cdc: realtime overview'],
      ['dashboard', IDS.dashboardSupplyDemand, 'ride-cdc: supply / demand'],
      ['dashboard', IDS.dashboardDrivers, 'ride-cdc: drivers online / busy'],
      ['dashboard', IDS.dashboardPipeline, 'ride-cdc: pipeline health'],
    ]);
  });
});

describe('data views', () => {
  it('each matches an index or index template in mappings/, with a date time field when it has one', () => {
    for (const dv of ofType('index-pattern')) {
      const a = attr(dv);
      expect(a.name, dv.id).toBeTypeOf('string');
      const fields = fieldsOfDataView(dv.id);
      if (a.timeFieldName !== undefined) expectField(fields, a.timeFieldName, `${dv.id} timeFieldName`, DATE);
      for (const key of ['fieldAttrs', 'fieldFormatMap', 'runtimeFieldMap']) {
        const parsed = JSON.parse(a[key]) as Any;
        if (key === 'runtimeFieldMap') expect(parsed, `${dv.id}: no runtime fields`).toEqual({});
        for (const f of Object.keys(parsed)) expectField(fields, f, `${dv.id} ${key}`);
      }
      expect(JSON.parse(a.fields)).toEqual([]); // Kibana reads the field list from Elasticsearch
      expect(JSON.parse(a.sourceFilters)).toEqual([]);
    }
  });

  it('uses @timestamp for the time-series patterns and no time field for the latest-state index', () => {
    expect(attr(get(IDS.dvDriverTimeseries)).timeFieldName).toBe('@timestamp');
    expect(attr(get(IDS.dvBookingEvents)).timeFieldName).toBe('@timestamp');
    expect(attr(get(IDS.dvDriverLocations)).timeFieldName).toBeUndefined();
  });
});

describe('Lens visualizations', () => {
  const OPERATION_TYPES: Record<string, string[] | undefined> = {
    date_histogram: DATE,
    terms: ['keyword', 'boolean', 'ip', ...NUMERIC],
    average: NUMERIC,
    sum: NUMERIC,
    min: [...NUMERIC, ...DATE],
    max: [...NUMERIC, ...DATE],
    median: NUMERIC,
    unique_count: AGGREGATABLE,
    last_value: AGGREGATABLE,
  };

  it.each(ofType('lens').map((o) => [o.id, o] as const))('%s uses fields of its data view', (_id, o) => {
    const a = attr(o);
    expect(['lnsXY', 'lnsPie', 'lnsMetric', 'lnsHeatmap']).toContain(a.visualizationType);
    const state = a.state as Any;
    const layers = Object.entries<Any>(state.datasourceStates.formBased.layers);
    expect(layers.length).toBeGreaterThan(0);
    const columnIds = new Set<string>();
    for (const [layerId, layer] of layers) {
      const fields = fieldsOfDataView(refTarget(o, `indexpattern-datasource-layer-${layerId}`));
      expect(Object.keys(layer.columns).sort(), `${o.id} columnOrder`).toEqual([...layer.columnOrder].sort());
      for (const [colId, col] of Object.entries<Any>(layer.columns)) {
        columnIds.add(colId);
        const where = `${o.id} column ${colId}`;
        if (col.operationType === 'count') {
          expect(col.sourceField, where).toBe('___records___');
          continue;
        }
        expect(col.operationType in OPERATION_TYPES, `${where}: known operation ${col.operationType}`).toBe(
          true,
        );
        expectField(fields, col.sourceField, where, OPERATION_TYPES[col.operationType]);
        if (col.params?.orderBy?.type === 'column')
          expect(
            layer.columns[col.params.orderBy.columnId],
            `${where}: orders by a column of the layer`,
          ).toBeDefined();
        if (col.filter) expectQueryFields(col.filter, fields, where);
      }
      expectQueryFields(state.query, fields, o.id);
      expectFilterFields(state.filters, fields, o.id);
    }
    // the visualization only uses columns the datasource defines
    const vis = state.visualization as Any;
    // XY and pie visualizations have layers; metric and heatmap are one layer themselves
    const visLayers = (vis.layers as Any[] | undefined) ?? [vis];
    for (const l of visLayers) {
      const used = [
        l.xAccessor,
        l.yAccessor,
        l.valueAccessor,
        l.metricAccessor,
        l.splitAccessor,
        ...(l.accessors ?? []),
        ...(l.primaryGroups ?? []),
        ...(l.metrics ?? []),
      ];
      for (const c of used.filter((x) => x !== undefined))
        expect(columnIds.has(c), `${o.id} uses column ${c}`).toBe(true);
      expect(
        layers.some(([id]) => id === l.layerId),
        `${o.id}: visualization layer ${l.layerId}`,
      ).toBe(true);
    }
  });

  it('counts each cancelled or completed booking once, by filtering on the lifecycle step', () => {
    const q = (id: string) => ((attr(get(id)).state as Any).query as Any).query;
    expect(q(IDS.lensCancellationsBy)).toBe('event : "cancelled"');
    expect(q(IDS.lensAvgFinalFare)).toBe('event : "completed"');
  });

  it('read one KPI at one granularity and dimension from the mirror, per query or per column filter', () => {
    for (const o of ofType('lens')) {
      const state = attr(o).state as Any;
      const dv = refTarget(
        o,
        Object.keys(state.datasourceStates.formBased.layers).map(
          (l) => `indexpattern-datasource-layer-${l}`,
        )[0]!,
      );
      if (dv !== IDS.dvKpiBuckets && dv !== IDS.dvKpiCurrent) continue;
      const query = (state.query as Any).query as string;
      expect(query, `${o.id}: granularity`).toMatch(
        dv === IDS.dvKpiCurrent ? /granularity : "CURRENT"/ : /granularity : "(MINUTE|HOUR)"/,
      );
      expect(query, `${o.id}: one dimension or one family`).toMatch(/dimension : "|dimension_family : "/);
      const columns = Object.values<Any>(
        Object.values<Any>(state.datasourceStates.formBased.layers)[0]!.columns,
      );
      const metrics = columns.filter((c) => !c.isBucketed);
      for (const c of metrics)
        expect(`${query} ${c.filter?.query ?? ''}`, `${o.id} ${c.label}: one metric`).toMatch(
          /metric : "[a-z_]+"/,
        );
    }
  });
});

describe('maps', () => {
  it.each(ofType('map').map((o) => [o.id, o] as const))(
    "%s uses fields of its layers' data views",
    (_id, o) => {
      const a = attr(o);
      const layers = JSON.parse(a.layerListJSON) as Any[];
      const mapState = JSON.parse(a.mapStateJSON) as Any;
      JSON.parse(a.uiStateJSON);
      expect(new Set(layers.map((l) => l.id)).size, `${o.id}: layer ids unique`).toBe(layers.length);
      const refNames = new Set<string>();
      for (const layer of layers) {
        const src = layer.sourceDescriptor as Any;
        const where = `${o.id} layer ${layer.id}`;
        if (!src?.indexPatternRefName) {
          expect(src?.type, `${where}: only the basemap has no data view`).toBe('EMS_TMS');
          continue;
        }
        refNames.add(src.indexPatternRefName);
        const fields = fieldsOfDataView(refTarget(o, src.indexPatternRefName));
        expectField(fields, src.geoField, `${where} geoField`, ['geo_point', 'geo_shape']);
        for (const f of src.tooltipProperties ?? []) expectField(fields, f, `${where} tooltip`);
        for (const f of [src.sortField, src.topHitsSplitField].filter(Boolean))
          expectField(fields, f, where, AGGREGATABLE);
        const metricKeys = new Set(['doc_count']);
        for (const m of src.metrics ?? []) {
          if (m.type === 'count') continue;
          expectField(
            fields,
            m.field,
            `${where} metric ${m.type}`,
            m.type === 'cardinality' ? AGGREGATABLE : NUMERIC,
          );
          metricKeys.add(`${m.type}_of_${m.field}`);
        }
        for (const [prop, desc] of Object.entries<Any>(layer.style?.properties ?? {})) {
          const f = desc?.options?.field;
          if (desc?.type !== 'DYNAMIC' || !f) continue;
          expect(f.origin, `${where} ${prop}`).toBe('source');
          // documents expose index fields; grid cells expose their metrics
          if (src.type === 'ES_SEARCH') expectField(fields, f.name, `${where} style ${prop}`);
          else
            expect(metricKeys.has(f.name), `${where} style ${prop}: ${f.name} is a metric of the layer`).toBe(
              true,
            );
        }
        expectQueryFields(layer.query, fields, where);
        expect(layer.joins ?? [], `${where}: no joins`).toEqual([]);
      }
      expect([...refNames].sort(), `${o.id}: every data view reference is used by a layer`).toEqual(
        o.references.map((r) => r.name).sort(),
      );
      expect(mapState.query).toEqual({ query: '', language: 'kuery' });
      expect(mapState.filters).toEqual([]);
    },
  );

  it('Live drivers: documents of driver_locations coloured by status, with the tooltip fields', () => {
    const layers = JSON.parse(attr(get(IDS.mapLiveDrivers)).layerListJSON) as Any[];
    const drivers = layers.find((l) => l.sourceDescriptor?.type === 'ES_SEARCH')!;
    expect(refTarget(get(IDS.mapLiveDrivers), drivers.sourceDescriptor.indexPatternRefName)).toBe(
      IDS.dvDriverLocations,
    );
    expect(drivers.sourceDescriptor.tooltipProperties).toEqual([
      'driver_id',
      'status',
      'vehicle_type',
      'speed_kmh',
    ]);
    const fill = drivers.style.properties.fillColor;
    expect(fill.type).toBe('DYNAMIC');
    expect(fill.options.type).toBe('CATEGORICAL');
    expect(fill.options.field.name).toBe('status');
    // the palette's stops are the source's driver_status enum
    const schema = readFileSync(join(ROOT, 'mart-sql/source/001_schema.sql'), 'utf8');
    const statuses = /driver_status AS ENUM \(([^)]*)\)/
      .exec(schema)![1]!
      .match(/'([^']+)'/g)!
      .map((s) => s.slice(1, -1));
    expect(fill.options.customColorPalette.map((s: Any) => s.stop).sort()).toEqual(statuses.sort());
  });

  it('Supply / demand: heatmap of requested pickups over a grid of driver positions', () => {
    const o = get(IDS.mapSupplyDemand);
    const layers = JSON.parse(attr(o).layerListJSON) as Any[];
    const heat = layers.find((l) => l.type === 'HEATMAP')!;
    expect(heat.sourceDescriptor).toMatchObject({
      type: 'ES_GEO_GRID',
      requestType: 'heatmap',
      geoField: 'pickup_location',
    });
    expect(refTarget(o, heat.sourceDescriptor.indexPatternRefName)).toBe(IDS.dvBookingEvents);
    expect(heat.query).toEqual({ query: 'event : "requested"', language: 'kuery' });
    const grid = layers.find((l) => l.sourceDescriptor?.requestType === 'grid')!;
    expect(grid.sourceDescriptor.geoField).toBe('location');
    expect(refTarget(o, grid.sourceDescriptor.indexPatternRefName)).toBe(IDS.dvDriverTimeseries);
  });
});

describe('saved search', () => {
  it.each(ofType('search').map((o) => [o.id, o] as const))('%s uses fields of its data view', (_id, o) => {
    const a = attr(o);
    const source = JSON.parse(a.kibanaSavedObjectMeta.searchSourceJSON) as Any;
    const fields = fieldsOfDataView(refTarget(o, source.indexRefName));
    expect(a.columns.length).toBeGreaterThan(0);
    for (const c of a.columns as string[]) expectField(fields, c, `${o.id} column`);
    for (const [f, dir] of a.sort as [string, string][]) {
      expectField(fields, f, `${o.id} sort`, AGGREGATABLE);
      expect(['asc', 'desc']).toContain(dir);
    }
    expectQueryFields(source.query, fields, o.id);
    expectFilterFields(source.filter, fields, o.id);
  });

  it('shows the newest booking events first', () => {
    expect(attr(get(IDS.searchRecentBookingEvents)).sort).toEqual([['@timestamp', 'desc']]);
  });
});

describe.each(ofType('dashboard').map((d) => [attr(d).title as string, d] as const))(
  'dashboard %s',
  (_t, dash) => {
    const panels = JSON.parse(attr(dash).panelsJSON) as Any[];

    it('has a rolling time range, auto-refresh and no saved query', () => {
      const a = attr(dash);
      expect(a.title).toMatch(/^ride-cdc: /);
      expect(a).toMatchObject({ timeRestore: true, timeTo: 'now' });
      expect(a.timeFrom).toMatch(/^now-\d+[mh]$/);
      expect(a.refreshInterval.pause).toBe(false);
      JSON.parse(a.optionsJSON);
      const source = JSON.parse(a.kibanaSavedObjectMeta.searchSourceJSON) as Any;
      expect(source).toEqual({ query: { query: '', language: 'kuery' }, filter: [] });
    });

    it('resolves each panel through a reference named <panelIndex>:<panelRefName> of the panel type', () => {
      for (const p of panels) {
        expect(p.gridData.i, `panel ${p.panelIndex}`).toBe(p.panelIndex);
        const ref = dash.references.find((r) => r.name === `${p.panelIndex}:${p.panelRefName}`);
        expect(ref, `reference for panel ${p.panelIndex}`).toBeDefined();
        expect(ref!.type).toBe(p.type);
        expect(byId.get(ref!.id)?.type).toBe(p.type);
      }
      expect(dash.references).toHaveLength(panels.length);
      expect(new Set(panels.map((p) => p.panelIndex)).size).toBe(panels.length);
    });

    it('lays the panels out on the 48-column grid without overlaps', () => {
      const cells = new Set<string>();
      for (const p of panels) {
        const { x, y, w, h } = p.gridData as { x: number; y: number; w: number; h: number };
        expect(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 48, `panel ${p.panelIndex} fits`).toBe(true);
        for (let i = x; i < x + w; i++)
          for (let j = y; j < y + h; j++) {
            expect(cells.has(`${i},${j}`), `panel ${p.panelIndex} overlaps at ${i},${j}`).toBe(false);
            cells.add(`${i},${j}`);
          }
      }
    });
  },
);

describe('dashboards together', () => {
  it('are the four the operators asked for', () => {
    expect(ofType('dashboard').map((d) => d.id)).toEqual([
      IDS.dashboardOverview,
      IDS.dashboardSupplyDemand,
      IDS.dashboardDrivers,
      IDS.dashboardPipeline,
    ]);
  });

  it('place every visualization, map and saved search of the file exactly once', () => {
    const placed = ofType('dashboard')
      .flatMap((d) => d.references.map((r) => r.id))
      .sort();
    const all = OBJECTS.filter((o) => ['lens', 'map', 'search', 'visualization'].includes(o.type))
      .map((o) => o.id)
      .sort();
    expect(placed).toEqual(all);
  });

  it('chart the KPI mirror and the pipeline snapshots the worker writes', () => {
    const uses = (dash: string) =>
      new Set(get(dash).references.flatMap((r) => get(r.id).references.map((x) => x.id)));
    expect(uses(IDS.dashboardOverview).has(IDS.dvKpiBuckets)).toBe(true);
    expect(uses(IDS.dashboardSupplyDemand)).toEqual(
      new Set([
        IDS.dvDriverLocations,
        IDS.dvDriverTimeseries,
        IDS.dvBookingEvents,
        IDS.dvKpiBuckets,
        IDS.dvKpiCurrent,
      ]),
    );
    expect(uses(IDS.dashboardDrivers).has(IDS.dvPipelineMetrics)).toBe(true);
    expect(uses(IDS.dashboardDrivers).has(IDS.dvKpiCurrent)).toBe(true);
    expect(uses(IDS.dashboardPipeline).has(IDS.dvPipelineMetrics)).toBe(true);
  });
});

describe('the field checks themselves', () => {
  it('find the fields of KQL queries', () => {
    expect(kqlFields('event : "requested"')).toEqual(['event']);
    expect(kqlFields('event:cancelled and not cancelled_by : "a:b" or final_fare >= 10')).toEqual([
      'event',
      'cancelled_by',
      'final_fare',
    ]);
    expect(kqlFields('')).toEqual([]);
  });

  it('reject a field that is not mapped, or mapped with the wrong type', () => {
    const fields = MAPPINGS.get(`${PREFIX}booking_events-*`)!;
    expect(() => expectField(fields, 'fare', 'x')).toThrow();
    expect(() => expectField(fields, 'event', 'x', NUMERIC)).toThrow();
    expect(() => expectField(fields, 'cancel_reason.keyword', 'x', ['keyword'])).not.toThrow();
    expect(MAPPINGS.get(`${PREFIX}driver_locations`)?.get('location')).toBe('geo_point');
  });
});
