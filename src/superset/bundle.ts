import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { CATALOG, type MetricDef, type MetricGroup } from '../project/metrics/catalog.js';

/**
 * The Superset dashboard bundle (export format 1.0.0: metadata.yaml, databases/, datasets/,
 * charts/, dashboards/), built from the KPI catalog so every flow KPI has its chart:
 *
 *   ride-cdc: Passenger / Driver / Operation  one line chart per KPI of the group (value per bucket),
 *                                             headline totals, native filters granularity (MINUTE |
 *                                             HOUR, required), zone, vehicle
 *   ride-cdc: Booking status history          time spent before each status, transitions over time,
 *                                             latest transitions; zone and vehicle filters
 *
 * Every object has a fixed uuid derived from its name, and every chart's uuid is in the dashboard
 * layout, so importing again (overwrite) updates the same objects instead of adding copies.
 * The committed copy is superset/bundle/ (src/superset/write-bundle.ts; tests/unit/superset-bundle.test.ts
 * keeps it equal to this builder).
 */

export const BUNDLE_ROOT = 'ride_cdc_superset';
export const DATABASE_NAME = 'reporting_db';
export const DATABASE_FILE = `databases/${DATABASE_NAME}.yaml`;
export const GROUPS: readonly MetricGroup[] = ['Passenger', 'Driver', 'Operation'];

/** A stable RFC 4122-shaped uuid (version 5 bits, SHA-1 of a ride-cdc namespace and the name). */
export function stableUuid(name: string): string {
  const h = createHash('sha1').update(`ride-cdc/superset/${name}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export const DATABASE_UUID = stableUuid('database/reporting_db');
export const KPI_DATASET_UUID = stableUuid('dataset/kpi_buckets');
export const HISTORY_DATASET_UUID = stableUuid('dataset/booking_status_history');

/** Flow KPIs (minute and hour buckets); gauges have no buckets and stay in mart.metric_gauge. */
export const FLOW_KPIS: readonly MetricDef[] = CATALOG.filter((m) => m.granularities.length > 0);

/** Headline totals per group: additive KPIs only (a sum of distinct counts over buckets would overcount). */
export const HEADLINES: Record<MetricGroup, string[]> = {
  Passenger: ['bookings_requested', 'new_passengers'],
  Driver: ['driver_earnings', 'new_drivers'],
  Operation: ['bookings_completed', 'gmv', 'bookings_cancelled'],
};

// ── database ────────────────────────────────────────────────────────────────────────────────────
export interface DatabaseTarget {
  host: string;
  port: number;
  database: string;
  user: string;
}

function databaseYaml(t: DatabaseTarget): object {
  return {
    database_name: DATABASE_NAME,
    // The password is not in the bundle: it is passed to the import API next to it.
    sqlalchemy_uri: `postgresql+psycopg2://${encodeURIComponent(t.user)}:XXXXXXXXXX@${t.host}:${t.port}/${encodeURIComponent(t.database)}`,
    cache_timeout: null,
    expose_in_sqllab: true,
    allow_run_async: false,
    allow_ctas: false,
    allow_cvas: false,
    allow_dml: false,
    allow_file_upload: false,
    extra: {
      allows_virtual_table_explore: true,
      metadata_params: {},
      // Every session read-only at the PostgreSQL level, whatever role it logs in with.
      engine_params: { connect_args: { options: '-c default_transaction_read_only=on' } },
      schemas_allowed_for_file_upload: [],
    },
    uuid: DATABASE_UUID,
    version: '1.0.0',
  };
}

// ── datasets ────────────────────────────────────────────────────────────────────────────────────
const column = (name: string, type: string, opts: { dttm?: boolean; description?: string } = {}) => ({
  column_name: name,
  verbose_name: null,
  is_dttm: opts.dttm ?? false,
  is_active: true,
  type,
  advanced_data_type: null,
  groupby: true,
  filterable: true,
  expression: null,
  description: opts.description ?? null,
  python_date_format: null,
  extra: null,
});

const metric = (name: string, expression: string, description: string, d3format: string | null = null) => ({
  metric_name: name,
  verbose_name: name,
  metric_type: null,
  expression,
  description,
  d3format,
  currency: null,
  extra: null,
  warning_text: null,
});

/**
 * One row per mart bucket of the 'all', zone:<id> and vehicle:<type> dimensions. The 'all' rows
 * carry zone 'All zones' and vehicle 'All vehicles', a zone row carries its zone and 'All
 * vehicles', a vehicle row 'All zones' and its vehicle: with the two filters defaulting to 'All …'
 * every chart reads exactly one breakdown, never a sum over overlapping ones. (There are no
 * zone × vehicle rows: a zone and a vehicle together select nothing.)
 */
export const ALL_ZONES = 'All zones';
export const ALL_VEHICLES = 'All vehicles';
export const KPI_DATASET_SQL = `SELECT f.bucket_granularity, f.bucket_start, f.metric_name, d.metric_group, d.unit, f.value_rule,
       f.dimension,
       CASE WHEN f.dimension LIKE 'zone:%' THEN coalesce(z.name, f.dimension) ELSE '${ALL_ZONES}' END AS zone,
       CASE WHEN f.dimension LIKE 'vehicle:%' THEN substr(f.dimension, 9) ELSE '${ALL_VEHICLES}' END AS vehicle,
       f.numerator, f.denominator, f.metric_value
FROM mart.fact_metric_bucket f
JOIN mart.metric_definition d ON d.metric_name = f.metric_name
LEFT JOIN mart.dim_zone z ON f.dimension = 'zone:' || z.zone_id
WHERE f.dimension = 'all' OR f.dimension LIKE 'zone:%' OR f.dimension LIKE 'vehicle:%'`;

/** Exact over any set of rows of one KPI: Σ numerator, or Σ numerator / Σ denominator for ratios. */
export const VALUE_SQL =
  "CASE WHEN MAX(value_rule) = 'ratio' THEN SUM(numerator) / NULLIF(SUM(denominator), 0) ELSE SUM(numerator) END";

function kpiDataset(): object {
  return {
    table_name: 'kpi_buckets',
    main_dttm_col: 'bucket_start',
    description:
      'KPI buckets of the ride-cdc mart (mart.fact_metric_bucket with the catalog), one row per bucket, KPI and dimension.',
    default_endpoint: null,
    offset: 0,
    cache_timeout: null,
    schema: 'mart',
    sql: KPI_DATASET_SQL,
    params: null,
    template_params: null,
    filter_select_enabled: true,
    fetch_values_predicate: null,
    extra: null,
    normalize_columns: false,
    always_filter_main_dttm: false,
    uuid: KPI_DATASET_UUID,
    metrics: [
      metric(
        'value',
        VALUE_SQL,
        'The KPI value over the selected buckets (exact for one bucket; see docs/superset.md).',
      ),
      metric('count', 'COUNT(*)', 'Rows'),
    ],
    columns: [
      column('bucket_granularity', 'TEXT', { description: 'MINUTE or HOUR' }),
      column('bucket_start', 'TIMESTAMP WITH TIME ZONE', { dttm: true, description: 'UTC bucket start' }),
      column('metric_name', 'TEXT'),
      column('metric_group', 'TEXT'),
      column('unit', 'TEXT'),
      column('value_rule', 'TEXT'),
      column('dimension', 'TEXT'),
      column('zone', 'TEXT', { description: 'Pickup zone (bookings) or home zone (drivers, passengers)' }),
      column('vehicle', 'TEXT'),
      column('numerator', 'NUMERIC'),
      column('denominator', 'NUMERIC'),
      column('metric_value', 'NUMERIC'),
    ],
    version: '1.0.0',
    database_uuid: DATABASE_UUID,
  };
}

export const HISTORY_DATASET_SQL = `SELECT h.booking_id, h.to_status, h.from_status, h.changed_at, h.seconds_in_previous,
       coalesce(z.name, 'zone:' || b.pickup_zone_id) AS zone, b.vehicle_type AS vehicle
FROM mart.booking_status_history h
JOIN mart.fact_booking b ON b.booking_id = h.booking_id AND b.booking_present
LEFT JOIN mart.dim_zone z ON z.zone_id = b.pickup_zone_id`;

function historyDataset(): object {
  return {
    table_name: 'booking_status_history',
    main_dttm_col: 'changed_at',
    description:
      'Every status each booking reached (mart.booking_status_history), with its pickup zone and vehicle.',
    default_endpoint: null,
    offset: 0,
    cache_timeout: null,
    schema: 'mart',
    sql: HISTORY_DATASET_SQL,
    params: null,
    template_params: null,
    filter_select_enabled: true,
    fetch_values_predicate: null,
    extra: null,
    normalize_columns: false,
    always_filter_main_dttm: false,
    uuid: HISTORY_DATASET_UUID,
    metrics: [
      metric('transitions', 'COUNT(*)', 'Status changes'),
      metric(
        'avg_seconds_in_previous',
        'AVG(seconds_in_previous)',
        'Mean time spent in the previous status',
        ',.1f',
      ),
    ],
    columns: [
      column('booking_id', 'BIGINT'),
      column('to_status', 'TEXT'),
      column('from_status', 'TEXT'),
      column('changed_at', 'TIMESTAMP WITH TIME ZONE', { dttm: true }),
      column('seconds_in_previous', 'NUMERIC'),
      column('zone', 'TEXT'),
      column('vehicle', 'TEXT'),
    ],
    version: '1.0.0',
    database_uuid: DATABASE_UUID,
  };
}

// ── charts ──────────────────────────────────────────────────────────────────────────────────────
export interface ChartSpec {
  uuid: string;
  name: string;
  vizType: string;
  datasetUuid: string;
  params: Record<string, unknown>;
  /** Dashboard layout: grid units of 12 per row, height in 8 px units. */
  width: number;
  height: number;
  /** For tests and the e2e: the KPI a headline shows. */
  headline?: string;
}

const SQL_VALUE = {
  expressionType: 'SQL',
  sqlExpression: VALUE_SQL,
  label: 'value',
  optionName: 'metric_value_sql',
};
const eq = (subject: string, comparator: string) => ({
  clause: 'WHERE',
  expressionType: 'SIMPLE',
  subject,
  operator: '==',
  comparator,
});

function kpiLine(m: MetricDef): ChartSpec {
  const uuid = stableUuid(`chart/kpi/${m.name}`);
  return {
    uuid,
    name: `${m.name} (${m.unit})`,
    vizType: 'echarts_timeseries_line',
    datasetUuid: KPI_DATASET_UUID,
    width: 4,
    height: 50,
    params: {
      viz_type: 'echarts_timeseries_line',
      x_axis: 'bucket_start',
      time_grain_sqla: null,
      x_axis_sort_asc: true,
      metrics: [SQL_VALUE],
      groupby: [],
      adhoc_filters: [eq('metric_name', m.name)],
      time_range: 'No filter',
      order_desc: true,
      row_limit: 10000,
      truncate_metric: true,
      show_legend: false,
      rich_tooltip: true,
      markerEnabled: true,
      markerSize: 3,
      y_axis_format: m.valueRule === 'ratio' && m.unit === 'ratio' ? '.1%' : 'SMART_NUMBER',
      x_axis_time_format: 'smart_date',
      seriesType: 'line',
      comparison_type: 'values',
      annotation_layers: [],
      extra_form_data: {},
      dashboards: [],
    },
  };
}

function headline(name: string): ChartSpec {
  return {
    uuid: stableUuid(`chart/headline/${name}`),
    name: `${name}: total`,
    vizType: 'big_number_total',
    datasetUuid: KPI_DATASET_UUID,
    width: 4,
    height: 25,
    headline: name,
    params: {
      viz_type: 'big_number_total',
      metric: SQL_VALUE,
      adhoc_filters: [eq('metric_name', name)],
      time_range: 'No filter',
      header_font_size: 0.4,
      subheader_font_size: 0.15,
      y_axis_format: ',.2~f',
      subheader: `sum of all ${name} buckets of the selected granularity`,
      extra_form_data: {},
      dashboards: [],
    },
  };
}

function historyCharts(): ChartSpec[] {
  return [
    {
      uuid: stableUuid('chart/history/time-before-status'),
      name: 'Mean seconds before each status',
      vizType: 'echarts_timeseries_bar',
      datasetUuid: HISTORY_DATASET_UUID,
      width: 6,
      height: 50,
      params: {
        viz_type: 'echarts_timeseries_bar',
        x_axis: 'to_status',
        metrics: ['avg_seconds_in_previous'],
        groupby: [],
        adhoc_filters: [],
        time_range: 'No filter',
        row_limit: 100,
        order_desc: true,
        y_axis_format: ',.1f',
        show_legend: false,
        orientation: 'vertical',
        extra_form_data: {},
        dashboards: [],
      },
    },
    {
      uuid: stableUuid('chart/history/transitions-per-hour'),
      name: 'Status changes per hour',
      vizType: 'echarts_timeseries_line',
      datasetUuid: HISTORY_DATASET_UUID,
      width: 6,
      height: 50,
      params: {
        viz_type: 'echarts_timeseries_line',
        x_axis: 'changed_at',
        time_grain_sqla: 'PT1H',
        metrics: ['transitions'],
        groupby: ['to_status'],
        adhoc_filters: [],
        time_range: 'No filter',
        row_limit: 10000,
        order_desc: true,
        show_legend: true,
        rich_tooltip: true,
        extra_form_data: {},
        dashboards: [],
      },
    },
    {
      uuid: stableUuid('chart/history/latest'),
      name: 'Latest status changes',
      vizType: 'table',
      datasetUuid: HISTORY_DATASET_UUID,
      width: 12,
      height: 60,
      params: {
        viz_type: 'table',
        query_mode: 'raw',
        all_columns: [
          'changed_at',
          'booking_id',
          'from_status',
          'to_status',
          'seconds_in_previous',
          'zone',
          'vehicle',
        ],
        order_by_cols: [JSON.stringify(['changed_at', false])],
        adhoc_filters: [],
        time_range: 'No filter',
        row_limit: 200,
        server_pagination: false,
        table_timestamp_format: 'smart_date',
        extra_form_data: {},
        dashboards: [],
      },
    },
  ];
}

// ── dashboards ──────────────────────────────────────────────────────────────────────────────────
export interface DashboardSpec {
  uuid: string;
  title: string;
  slug: string;
  datasetUuid: string;
  /** Rows of charts, top to bottom. */
  rows: ChartSpec[][];
  filters: { column: string; name: string; defaultValue?: string; required?: boolean }[];
}

function chunk<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

const KPI_FILTERS: DashboardSpec['filters'] = [
  { column: 'bucket_granularity', name: 'Granularity', defaultValue: 'MINUTE', required: true },
  { column: 'zone', name: 'Zone', defaultValue: ALL_ZONES, required: true },
  { column: 'vehicle', name: 'Vehicle', defaultValue: ALL_VEHICLES, required: true },
];

export function dashboardSpecs(): DashboardSpec[] {
  const groups = GROUPS.map((g) => ({
    uuid: stableUuid(`dashboard/${g}`),
    title: `ride-cdc: ${g}`,
    slug: `ride-cdc-${g.toLowerCase()}`,
    datasetUuid: KPI_DATASET_UUID,
    rows: [HEADLINES[g].map(headline), ...chunk(FLOW_KPIS.filter((m) => m.group === g).map(kpiLine), 3)],
    filters: KPI_FILTERS,
  }));
  const h = historyCharts();
  return [
    ...groups,
    {
      uuid: stableUuid('dashboard/status-history'),
      title: 'ride-cdc: Booking status history',
      slug: 'ride-cdc-status-history',
      datasetUuid: HISTORY_DATASET_UUID,
      rows: [[h[0]!, h[1]!], [h[2]!]],
      filters: [
        { column: 'zone', name: 'Zone' },
        { column: 'vehicle', name: 'Vehicle' },
      ],
    },
  ];
}

function nativeFilter(d: DashboardSpec, f: DashboardSpec['filters'][number]): object {
  const value = f.defaultValue === undefined ? null : [f.defaultValue];
  return {
    id: `NATIVE_FILTER-${d.slug}-${f.column}`.replaceAll('_', '-'),
    controlValues: {
      enableEmptyFilter: f.required ?? false,
      defaultToFirstItem: false,
      multiSelect: !f.required,
      searchAllOptions: false,
      inverseSelection: false,
    },
    name: f.name,
    filterType: 'filter_select',
    targets: [{ column: { name: f.column }, datasetUuid: d.datasetUuid }],
    defaultDataMask: value
      ? {
          extraFormData: { filters: [{ col: f.column, op: 'IN', val: value }] },
          filterState: { value, label: value.join(', ') },
          ownState: {},
        }
      : { extraFormData: {}, filterState: {}, ownState: {} },
    cascadeParentIds: [],
    scope: { rootPath: ['ROOT_ID'], excluded: [] },
    type: 'NATIVE_FILTER',
    description: '',
    chartsInScope: [],
    tabsInScope: [],
  };
}

/** The layout: ROOT → GRID → ROW-n → CHART-<uuid>, each chart carrying its uuid (what import maps by). */
function position(d: DashboardSpec): Record<string, unknown> {
  const pos: Record<string, unknown> = {
    DASHBOARD_VERSION_KEY: 'v2',
    ROOT_ID: { type: 'ROOT', id: 'ROOT_ID', children: ['GRID_ID'] },
    GRID_ID: { type: 'GRID', id: 'GRID_ID', children: [], parents: ['ROOT_ID'] },
    HEADER_ID: { id: 'HEADER_ID', type: 'HEADER', meta: { text: d.title } },
  };
  const grid = pos.GRID_ID as { children: string[] };
  let chartId = 0;
  d.rows.forEach((row, i) => {
    const rowId = `ROW-${d.slug}-${i}`;
    grid.children.push(rowId);
    const children: string[] = [];
    for (const c of row) {
      const id = `CHART-${c.uuid.slice(0, 8)}`;
      children.push(id);
      pos[id] = {
        type: 'CHART',
        id,
        children: [],
        parents: ['ROOT_ID', 'GRID_ID', rowId],
        meta: { width: c.width, height: c.height, chartId: ++chartId, uuid: c.uuid, sliceName: c.name },
      };
    }
    pos[rowId] = {
      type: 'ROW',
      id: rowId,
      children,
      parents: ['ROOT_ID', 'GRID_ID'],
      meta: { background: 'BACKGROUND_TRANSPARENT' },
    };
  });
  return pos;
}

function dashboardYaml(d: DashboardSpec): object {
  return {
    dashboard_title: d.title,
    description: null,
    css: '',
    slug: d.slug,
    certified_by: null,
    certification_details: null,
    published: true,
    uuid: d.uuid,
    position: position(d),
    metadata: {
      native_filter_configuration: d.filters.map((f) => nativeFilter(d, f)),
      chart_configuration: {},
      global_chart_configuration: { scope: { rootPath: ['ROOT_ID'], excluded: [] }, chartsInScope: [] },
      color_scheme: '',
      refresh_frequency: 60,
      expanded_slices: {},
      label_colors: {},
      shared_label_colors: [],
      color_scheme_domain: [],
      cross_filters_enabled: false,
      timed_refresh_immune_slices: [],
      default_filters: '{}',
    },
    version: '1.0.0',
  };
}

function chartYaml(c: ChartSpec): object {
  return {
    slice_name: c.name,
    description: null,
    certified_by: null,
    certification_details: null,
    viz_type: c.vizType,
    params: c.params,
    query_context: null,
    cache_timeout: null,
    uuid: c.uuid,
    version: '1.0.0',
    dataset_uuid: c.datasetUuid,
  };
}

const fileName = (s: string) => s.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_|_$/g, '');

/** Bundle path (inside BUNDLE_ROOT/) → YAML text. */
export function buildBundle(db: DatabaseTarget): Map<string, string> {
  const files = new Map<string, string>();
  const put = (path: string, obj: object) =>
    files.set(
      path,
      stringify(obj, { lineWidth: 0, defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' }),
    );
  put('metadata.yaml', { version: '1.0.0', type: 'Dashboard', timestamp: '2026-12-01T00:00:00+00:00' });
  put(DATABASE_FILE, databaseYaml(db));
  put(`datasets/${DATABASE_NAME}/kpi_buckets.yaml`, kpiDataset());
  put(`datasets/${DATABASE_NAME}/booking_status_history.yaml`, historyDataset());
  for (const d of dashboardSpecs()) {
    for (const c of d.rows.flat()) put(`charts/${fileName(c.name)}_${c.uuid.slice(0, 8)}.yaml`, chartYaml(c));
    put(`dashboards/${fileName(d.title)}.yaml`, dashboardYaml(d));
  }
  return files;
}
