/**
 * Source of kibana/ride-cdc-dashboards.ndjson: the Kibana 8.19 saved objects (data views, Lens
 * visualizations, maps, a saved search and four dashboards: realtime overview, supply / demand,
 * drivers online / busy, pipeline health) built as plain
 * objects and written in the saved objects export format — one JSON object per line, keys in the
 * order Kibana's export writes them, objects a reference needs placed before the object that
 * needs it, and the export-details summary as the last line (the import API skips it).
 *
 *   npx tsx kibana/build-saved-objects.ts                                rewrite the ndjson
 *   npx tsx kibana/build-saved-objects.ts --prefix staging_ --out x.ndjson  for ES_INDEX_PREFIX=staging_
 *
 * tests/unit/kibana.test.ts fails when the committed ndjson differs from what this file builds,
 * and checks every field the objects use against mappings/*.json.
 *
 * The committed file uses the production index prefix, which is empty (`{{prefix}}` in mappings/).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const NDJSON_PATH = join(dirname(fileURLToPath(import.meta.url)), 'ride-cdc-dashboards.ndjson');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface Reference {
  id: string;
  name: string;
  type: string;
}

export interface SavedObject {
  attributes: JsonObject;
  coreMigrationVersion: string;
  id: string;
  managed: boolean;
  references: Reference[];
  type: string;
  typeMigrationVersion: string;
}

/**
 * Migration versions as Kibana 8.19 stamps exported objects. coreMigrationVersion has been 8.8.0
 * since 8.8. typeMigrationVersion is the last migration the object has gone through; Kibana runs
 * the later ones on import but REFUSES an object stamped newer than it knows, so where the exact
 * 8.19 value could not be confirmed the lower, certainly-known version is used (see docs/kibana.md):
 * index-pattern 8.0.0 (last migration), lens 8.9.0 (last migration), map 8.4.0 (last migration),
 * search 10.5.0 (model version 5, density), dashboard 10.2.0 (model version 2, showApplySelections;
 * 8.19 may stamp 10.3.0, whose change only adds a mapping).
 */
export const CORE_MIGRATION_VERSION = '8.8.0';
export const TYPE_MIGRATION_VERSIONS: Record<string, string> = {
  'index-pattern': '8.0.0',
  lens: '8.9.0',
  map: '8.4.0',
  search: '10.5.0',
  dashboard: '10.2.0',
};

export const IDS = {
  dvDriverLocations: 'ride-cdc-dv-driver-locations',
  dvDriverTimeseries: 'ride-cdc-dv-driver-locations-timeseries',
  dvBookingEvents: 'ride-cdc-dv-booking-events',
  mapLiveDrivers: 'ride-cdc-map-live-drivers',
  mapSupplyDemand: 'ride-cdc-map-supply-demand',
  lensBookingsByEvent: 'ride-cdc-lens-bookings-by-event',
  lensCancellationsBy: 'ride-cdc-lens-cancellations-by-actor',
  lensAvgFinalFare: 'ride-cdc-lens-avg-final-fare',
  lensDriversByStatus: 'ride-cdc-lens-drivers-by-status',
  lensLocationUpdates: 'ride-cdc-lens-location-updates-per-minute',
  searchRecentBookingEvents: 'ride-cdc-search-recent-booking-events',
  dvKpiBuckets: 'ride-cdc-dv-kpi-buckets',
  dvKpiCurrent: 'ride-cdc-dv-kpi-current',
  dvPipelineMetrics: 'ride-cdc-dv-pipeline-metrics',
  lensHeadlineRequested: 'ride-cdc-lens-headline-bookings-requested',
  lensHeadlineCompleted: 'ride-cdc-lens-headline-bookings-completed',
  lensHeadlineGmv: 'ride-cdc-lens-headline-gmv',
  lensHeadlineOnline: 'ride-cdc-lens-headline-drivers-online',
  lensKpiTrend: 'ride-cdc-lens-kpi-trend-per-minute',
  lensRateTrend: 'ride-cdc-lens-rate-trend-per-minute',
  lensDemandHeatmap: 'ride-cdc-lens-demand-by-zone-heatmap',
  lensDemandSupplyByZone: 'ride-cdc-lens-demand-supply-by-zone',
  mapPositionsVsPickups: 'ride-cdc-map-positions-vs-pickups',
  lensDriversOverTime: 'ride-cdc-lens-drivers-online-busy-over-time',
  lensDriversByZone: 'ride-cdc-lens-drivers-online-busy-by-zone',
  lensThroughput: 'ride-cdc-lens-pipeline-throughput',
  lensLag: 'ride-cdc-lens-pipeline-lag',
  lensLatency: 'ride-cdc-lens-pipeline-e2e-latency',
  lensDeadLetters: 'ride-cdc-lens-pipeline-dead-letters',
  dashboardOverview: 'ride-cdc-dashboard-realtime-overview',
  dashboardSupplyDemand: 'ride-cdc-dashboard-supply-demand',
  dashboardDrivers: 'ride-cdc-dashboard-drivers',
  dashboardPipeline: 'ride-cdc-dashboard-pipeline-health',
} as const;

function savedObject(type: string, id: string, attributes: JsonObject, references: Reference[]): SavedObject {
  const typeMigrationVersion = TYPE_MIGRATION_VERSIONS[type];
  if (!typeMigrationVersion) throw new Error(`no migration version for saved object type ${type}`);
  return {
    attributes,
    coreMigrationVersion: CORE_MIGRATION_VERSION,
    id,
    managed: false,
    references,
    type,
    typeMigrationVersion,
  };
}

const dataViewRef = (id: string, name: string): Reference => ({ id, name, type: 'index-pattern' });
const kuery = (query: string): JsonObject => ({ query, language: 'kuery' });

// ── data views ──────────────────────────────────────────────────────────────────────────────────
function dataView(
  id: string,
  title: string,
  name: string,
  timeFieldName: string | undefined,
  fieldFormats: JsonObject,
): SavedObject {
  const attributes: JsonObject = {
    allowHidden: false,
    fieldAttrs: '{}',
    fieldFormatMap: JSON.stringify(fieldFormats),
    fields: '[]',
    name,
    runtimeFieldMap: '{}',
    sourceFilters: '[]',
  };
  if (timeFieldName) attributes.timeFieldName = timeFieldName;
  attributes.title = title;
  return savedObject('index-pattern', id, attributes, []);
}

const money = { id: 'number', params: { pattern: '0,0.00' } };
const oneDecimal = { id: 'number', params: { pattern: '0,0.0' } };

function dataViews(prefix: string): SavedObject[] {
  return [
    // Latest state, one document per driver: no time field, so the dashboard's time range never
    // hides a driver that simply has not moved (or changed status) recently.
    dataView(
      IDS.dvDriverLocations,
      `${prefix}driver_locations`,
      'ride-cdc: driver locations (latest)',
      undefined,
      {
        speed_kmh: oneDecimal,
        heading: oneDecimal,
      },
    ),
    dataView(
      IDS.dvDriverTimeseries,
      `${prefix}driver_locations_timeseries-*`,
      'ride-cdc: driver location updates',
      '@timestamp',
      { speed_kmh: oneDecimal, heading: oneDecimal },
    ),
    dataView(IDS.dvBookingEvents, `${prefix}booking_events-*`, 'ride-cdc: booking events', '@timestamp', {
      estimated_fare: money,
      final_fare: money,
      distance_km: oneDecimal,
      surge_multiplier: { id: 'number', params: { pattern: '0.00' } },
    }),
    // The KPI mirror (one document per mart row): flows by their bucket time...
    dataView(
      IDS.dvKpiBuckets,
      `${prefix}kpi_buckets`,
      'ride-cdc: KPI buckets (mart mirror)',
      'bucket_start',
      {
        value: { id: 'number', params: { pattern: '0,0.[000]' } },
      },
    ),
    // ...and the same index without a time field for the gauges (granularity CURRENT, no bucket).
    dataView(IDS.dvKpiCurrent, `${prefix}kpi_buckets`, 'ride-cdc: KPI current values (gauges)', undefined, {
      value: { id: 'number', params: { pattern: '0,0.[000]' } },
    }),
    dataView(
      IDS.dvPipelineMetrics,
      `${prefix}pipeline_metrics-*`,
      'ride-cdc: pipeline metrics snapshots',
      '@timestamp',
      {
        events_per_s: oneDecimal,
        e2e_latency_p50_s: { id: 'number', params: { pattern: '0.000' } },
        e2e_latency_p95_s: { id: 'number', params: { pattern: '0.000' } },
        e2e_latency_p99_s: { id: 'number', params: { pattern: '0.000' } },
      },
    ),
  ];
}

// ── Lens ────────────────────────────────────────────────────────────────────────────────────────
const RECORDS = '___records___';

function dateHistogram(field: string, interval: string): JsonObject {
  return {
    label: field,
    dataType: 'date',
    operationType: 'date_histogram',
    sourceField: field,
    isBucketed: true,
    scale: 'interval',
    params: { interval, includeEmptyRows: true, dropPartials: false },
  };
}

function terms(
  field: string,
  label: string,
  size: number,
  orderByColumn: string,
  dataType: 'string' | 'number' = 'string',
): JsonObject {
  return {
    label,
    customLabel: true,
    dataType,
    operationType: 'terms',
    sourceField: field,
    isBucketed: true,
    scale: 'ordinal',
    params: {
      size,
      orderBy: { type: 'column', columnId: orderByColumn },
      orderDirection: 'desc',
      otherBucket: true,
      missingBucket: false,
      parentFormat: { id: 'terms' },
      include: [],
      exclude: [],
      includeIsRegex: false,
      excludeIsRegex: false,
    },
  };
}

function count(label: string): JsonObject {
  return {
    label,
    customLabel: true,
    dataType: 'number',
    operationType: 'count',
    sourceField: RECORDS,
    isBucketed: false,
    scale: 'ratio',
    params: { emptyAsNull: false },
  };
}

function average(field: string, label: string, decimals: number): JsonObject {
  return {
    label,
    customLabel: true,
    dataType: 'number',
    operationType: 'average',
    sourceField: field,
    isBucketed: false,
    scale: 'ratio',
    params: { emptyAsNull: true, format: { id: 'number', params: { decimals } } },
  };
}

/** A metric of one column, over the documents its KQL filter keeps (so one layer can chart several KPIs). */
function metricOf(
  operationType: 'sum' | 'average' | 'max',
  field: string,
  label: string,
  filter?: string,
  decimals = 2,
): JsonObject {
  const col: JsonObject = {
    label,
    customLabel: true,
    dataType: 'number',
    operationType,
    sourceField: field,
    isBucketed: false,
    scale: 'ratio',
    params: { emptyAsNull: true, format: { id: 'number', params: { decimals } } },
  };
  if (filter) col.filter = kuery(filter);
  return col;
}

/** KQL for one KPI of the mirror: a metric at a granularity and dimension ('all' unless given). */
const kpiFilter = (metric: string, granularity = 'MINUTE', dimension = 'all') =>
  `metric : "${metric}" and granularity : "${granularity}" and dimension : "${dimension}"`;

interface LensSpec {
  id: string;
  title: string;
  description: string;
  dataViewId: string;
  layerId: string;
  /** Column id → column, in display order (becomes columnOrder). */
  columns: Record<string, JsonObject>;
  visualizationType: 'lnsXY' | 'lnsPie' | 'lnsMetric' | 'lnsHeatmap';
  visualization: JsonObject;
  query?: string;
}

function lens(spec: LensSpec): SavedObject {
  const attributes: JsonObject = {
    description: spec.description,
    state: {
      adHocDataViews: {},
      datasourceStates: {
        formBased: {
          layers: {
            [spec.layerId]: {
              columnOrder: Object.keys(spec.columns),
              columns: spec.columns,
              ignoreGlobalFilters: false,
              incompleteColumns: {},
              sampling: 1,
            },
          },
        },
      },
      filters: [],
      internalReferences: [],
      query: kuery(spec.query ?? ''),
      visualization: spec.visualization,
    },
    title: spec.title,
    visualizationType: spec.visualizationType,
  };
  return savedObject('lens', spec.id, attributes, [
    dataViewRef(spec.dataViewId, `indexpattern-datasource-layer-${spec.layerId}`),
  ]);
}

function xy(
  seriesType: 'bar' | 'bar_stacked' | 'bar_horizontal' | 'line',
  layer: { layerId: string; xAccessor: string; accessors: string[]; splitAccessor?: string },
  opts: { valueLabels?: 'hide' | 'show'; legend?: boolean; yTitle?: string } = {},
): JsonObject {
  const dataLayer: JsonObject = {
    layerId: layer.layerId,
    layerType: 'data',
    seriesType,
    xAccessor: layer.xAccessor,
    accessors: layer.accessors,
    position: 'top',
    showGridlines: false,
  };
  if (layer.splitAccessor) dataLayer.splitAccessor = layer.splitAccessor;
  const visualization: JsonObject = {
    legend: { isVisible: opts.legend ?? true, position: 'right', legendSize: 'auto', shouldTruncate: true },
    valueLabels: opts.valueLabels ?? 'hide',
    fittingFunction: seriesType === 'line' ? 'Linear' : 'None',
    curveType: 'LINEAR',
    axisTitlesVisibilitySettings: { x: false, yLeft: true, yRight: true },
    tickLabelsVisibilitySettings: { x: true, yLeft: true, yRight: true },
    gridlinesVisibilitySettings: { x: true, yLeft: true, yRight: true },
    labelsOrientation: { x: 0, yLeft: 0, yRight: 0 },
    yLeftExtent: { mode: 'full' },
    yRightExtent: { mode: 'full' },
    yLeftScale: 'linear',
    yRightScale: 'linear',
    preferredSeriesType: seriesType,
    layers: [dataLayer],
  };
  if (opts.yTitle) visualization.yTitle = opts.yTitle;
  return visualization;
}

const metricTile = (layerId: string): JsonObject => ({ layerId, layerType: 'data', metricAccessor: 'value' });

/** Headline KPIs and their trend, from the KPI mirror (kpi_buckets). */
function kpiLensObjects(): SavedObject[] {
  const headline = (id: string, title: string, metric: string, label: string, decimals: number) =>
    lens({
      id,
      title,
      description: `Sum of the ${metric} minute buckets (dimension all) in the time range, from the KPI mirror of mart.fact_metric_bucket.`,
      dataViewId: IDS.dvKpiBuckets,
      layerId: `headline-${metric}`,
      query: kpiFilter(metric),
      columns: { value: metricOf('sum', 'value', label, undefined, decimals) },
      visualizationType: 'lnsMetric',
      visualization: metricTile(`headline-${metric}`),
    });
  const zoneTerms = (orderBy: string) => terms('zone_id', 'Zone', 20, orderBy, 'number');
  return [
    headline(IDS.lensHeadlineRequested, 'Bookings requested', 'bookings_requested', 'Bookings requested', 0),
    headline(IDS.lensHeadlineCompleted, 'Bookings completed', 'bookings_completed', 'Bookings completed', 0),
    headline(IDS.lensHeadlineGmv, 'GMV', 'gmv', 'GMV', 2),
    lens({
      id: IDS.lensHeadlineOnline,
      title: 'Drivers online now',
      description: 'Current value of the drivers_online gauge (mart.metric_gauge, dimension all).',
      dataViewId: IDS.dvKpiCurrent,
      layerId: 'headline-drivers-online',
      query: kpiFilter('drivers_online', 'CURRENT'),
      columns: { value: metricOf('max', 'value', 'Drivers online', undefined, 0) },
      visualizationType: 'lnsMetric',
      visualization: metricTile('headline-drivers-online'),
    }),
    lens({
      id: IDS.lensKpiTrend,
      title: 'Bookings per minute: requested, completed, cancelled',
      description: 'Minute buckets of the booking flow KPIs (dimension all) from the KPI mirror.',
      dataViewId: IDS.dvKpiBuckets,
      layerId: 'kpi-trend',
      query: 'granularity : "MINUTE" and dimension : "all"',
      columns: {
        minute: dateHistogram('bucket_start', '1m'),
        requested: metricOf('sum', 'value', 'Requested', 'metric : "bookings_requested"', 0),
        completed: metricOf('sum', 'value', 'Completed', 'metric : "bookings_completed"', 0),
        cancelled: metricOf('sum', 'value', 'Cancelled', 'metric : "bookings_cancelled"', 0),
      },
      visualizationType: 'lnsXY',
      visualization: xy('line', {
        layerId: 'kpi-trend',
        xAccessor: 'minute',
        accessors: ['requested', 'completed', 'cancelled'],
      }),
    }),
    lens({
      id: IDS.lensRateTrend,
      title: 'Match, completion and cancellation rate per minute',
      description:
        'The exact per-minute ratios of the mart (numerator / denominator of each minute bucket, dimension all).',
      dataViewId: IDS.dvKpiBuckets,
      layerId: 'rate-trend',
      query: 'granularity : "MINUTE" and dimension : "all"',
      columns: {
        minute: dateHistogram('bucket_start', '1m'),
        match: metricOf('average', 'value', 'Match rate', 'metric : "match_rate"', 3),
        completion: metricOf('average', 'value', 'Completion rate', 'metric : "completion_rate"', 3),
        cancellation: metricOf('average', 'value', 'Cancellation rate', 'metric : "cancellation_rate"', 3),
      },
      visualizationType: 'lnsXY',
      visualization: xy(
        'line',
        { layerId: 'rate-trend', xAccessor: 'minute', accessors: ['match', 'completion', 'cancellation'] },
        { yTitle: 'Rate' },
      ),
    }),
    lens({
      id: IDS.lensDemandHeatmap,
      title: 'Ride requests by zone and time',
      description:
        'Heatmap of bookings_requested per pickup zone (zone:<id> minute buckets of the KPI mirror).',
      dataViewId: IDS.dvKpiBuckets,
      layerId: 'demand-heatmap',
      query: 'metric : "bookings_requested" and granularity : "MINUTE" and dimension_family : "zone"',
      columns: {
        time: dateHistogram('bucket_start', 'auto'),
        zone: zoneTerms('requests'),
        requests: metricOf('sum', 'value', 'Ride requests', undefined, 0),
      },
      visualizationType: 'lnsHeatmap',
      visualization: {
        shape: 'heatmap',
        layerId: 'demand-heatmap',
        layerType: 'data',
        xAccessor: 'time',
        yAccessor: 'zone',
        valueAccessor: 'requests',
        legend: { isVisible: true, position: 'right', type: 'heatmap_legend' },
        gridConfig: {
          type: 'heatmap_grid',
          isCellLabelVisible: false,
          isYAxisLabelVisible: true,
          isXAxisLabelVisible: true,
          isYAxisTitleVisible: true,
          isXAxisTitleVisible: false,
        },
      },
    }),
    lens({
      id: IDS.lensDemandSupplyByZone,
      title: 'Open requests vs available drivers by zone (now)',
      description:
        'Current gauges per zone: open_requests (pickup zone) against drivers_available (home zone), from mart.metric_gauge.',
      dataViewId: IDS.dvKpiCurrent,
      layerId: 'demand-supply',
      query: 'granularity : "CURRENT" and dimension_family : "zone"',
      columns: {
        zone: zoneTerms('available'),
        open: metricOf('max', 'value', 'Open requests', 'metric : "open_requests"', 0),
        available: metricOf('max', 'value', 'Available drivers', 'metric : "drivers_available"', 0),
      },
      visualizationType: 'lnsXY',
      visualization: xy('bar', {
        layerId: 'demand-supply',
        xAccessor: 'zone',
        accessors: ['open', 'available'],
      }),
    }),
    lens({
      id: IDS.lensDriversByZone,
      title: 'Drivers online and busy by zone (now)',
      description: 'Current drivers_online and drivers_busy gauges per home zone, from mart.metric_gauge.',
      dataViewId: IDS.dvKpiCurrent,
      layerId: 'drivers-by-zone',
      query: 'granularity : "CURRENT" and dimension_family : "zone"',
      columns: {
        zone: zoneTerms('online'),
        online: metricOf('max', 'value', 'Online', 'metric : "drivers_online"', 0),
        busy: metricOf('max', 'value', 'Busy', 'metric : "drivers_busy"', 0),
      },
      visualizationType: 'lnsXY',
      visualization: xy('bar', {
        layerId: 'drivers-by-zone',
        xAccessor: 'zone',
        accessors: ['online', 'busy'],
      }),
    }),
  ];
}

/** The worker's own health, from the snapshots it writes every few seconds (pipeline_metrics-*). */
function pipelineLensObjects(): SavedObject[] {
  const overTime = (
    id: string,
    title: string,
    description: string,
    layerId: string,
    series: Record<string, JsonObject>,
    seriesType: 'line' | 'bar_stacked',
    opts: { yTitle?: string; byWorker?: string } = {},
  ) =>
    lens({
      id,
      title,
      description,
      dataViewId: IDS.dvPipelineMetrics,
      layerId,
      columns: {
        time: dateHistogram('@timestamp', 'auto'),
        ...(opts.byWorker ? { worker: terms('worker', 'Worker', 10, opts.byWorker) } : {}),
        ...series,
      },
      visualizationType: 'lnsXY',
      visualization: xy(
        seriesType,
        {
          layerId,
          xAccessor: 'time',
          accessors: Object.keys(series),
          ...(opts.byWorker ? { splitAccessor: 'worker' } : {}),
        },
        { yTitle: opts.yTitle },
      ),
    });
  return [
    lens({
      id: IDS.lensDriversOverTime,
      title: 'Drivers online and busy over time',
      description:
        'The drivers_online and drivers_busy gauges as each worker sampled them (every snapshot, pipeline_metrics-*).',
      dataViewId: IDS.dvPipelineMetrics,
      layerId: 'drivers-over-time',
      columns: {
        time: dateHistogram('@timestamp', 'auto'),
        online: metricOf('average', 'drivers_online', 'Online', undefined, 0),
        busy: metricOf('average', 'drivers_busy', 'Busy', undefined, 0),
      },
      visualizationType: 'lnsXY',
      visualization: xy('line', {
        layerId: 'drivers-over-time',
        xAccessor: 'time',
        accessors: ['online', 'busy'],
      }),
    }),
    overTime(
      IDS.lensThroughput,
      'Throughput: change events per second',
      'Events decoded per second by each worker (stacked: the total is the pipeline throughput).',
      'throughput',
      { events: metricOf('average', 'events_per_s', 'Events / s', undefined, 1) },
      'bar_stacked',
      { yTitle: 'Events / s', byWorker: 'events' },
    ),
    overTime(
      IDS.lensLag,
      'Consumer lag',
      'Messages behind the high watermark on the partitions each worker owns (stacked: the total lag).',
      'lag',
      { lag: metricOf('max', 'consumer_lag', 'Lag (messages)', undefined, 0) },
      'bar_stacked',
      { yTitle: 'Messages', byWorker: 'lag' },
    ),
    overTime(
      IDS.lensLatency,
      'End-to-end latency (source commit → sinks)',
      'Quantiles of ride_cdc_e2e_latency_seconds over each snapshot interval.',
      'latency',
      {
        p50: metricOf('average', 'e2e_latency_p50_s', 'p50 (s)', undefined, 3),
        p95: metricOf('average', 'e2e_latency_p95_s', 'p95 (s)', undefined, 3),
        p99: metricOf('max', 'e2e_latency_p99_s', 'p99 (s)', undefined, 3),
      },
      'line',
      { yTitle: 'Seconds' },
    ),
    overTime(
      IDS.lensDeadLetters,
      'Dead letters and retries',
      'Messages sent to the dead-letter topic, and transient-failure retries, per time bucket.',
      'dead-letters',
      {
        dead: metricOf('sum', 'dead_letters_in_interval', 'Dead letters', undefined, 0),
        retries: metricOf('sum', 'retries_in_interval', 'Retries', undefined, 0),
      },
      'bar_stacked',
    ),
  ];
}

function lensObjects(): SavedObject[] {
  return [
    lens({
      id: IDS.lensBookingsByEvent,
      title: 'Bookings by event over time',
      description:
        'Booking lifecycle steps per time bucket (requested, accepted, arrived, started, completed, cancelled), ' +
        'bucketed by the event time of each step.',
      dataViewId: IDS.dvBookingEvents,
      layerId: 'bookings-by-event',
      columns: {
        time: dateHistogram('@timestamp', 'auto'),
        event: terms('event', 'Event', 6, 'events'),
        events: count('Booking events'),
      },
      visualizationType: 'lnsXY',
      visualization: xy('bar_stacked', {
        layerId: 'bookings-by-event',
        xAccessor: 'time',
        splitAccessor: 'event',
        accessors: ['events'],
      }),
    }),
    lens({
      id: IDS.lensCancellationsBy,
      title: 'Cancellations by cancelled_by',
      description: 'Cancelled bookings in the time range, by who cancelled them (passenger, driver, system).',
      dataViewId: IDS.dvBookingEvents,
      layerId: 'cancellations',
      query: 'event : "cancelled"',
      columns: {
        actor: terms('cancelled_by', 'Cancelled by', 5, 'cancellations'),
        cancellations: count('Cancellations'),
      },
      visualizationType: 'lnsXY',
      visualization: xy(
        'bar_horizontal',
        { layerId: 'cancellations', xAccessor: 'actor', accessors: ['cancellations'] },
        { valueLabels: 'show', legend: false },
      ),
    }),
    lens({
      id: IDS.lensAvgFinalFare,
      title: 'Average final fare over time',
      description:
        'Mean final fare of the bookings completed in each time bucket. Only the "completed" step is used, ' +
        'so each booking counts once, at its completion time.',
      dataViewId: IDS.dvBookingEvents,
      layerId: 'final-fare',
      query: 'event : "completed"',
      columns: {
        time: dateHistogram('@timestamp', 'auto'),
        fare: average('final_fare', 'Average final fare', 2),
      },
      visualizationType: 'lnsXY',
      visualization: xy(
        'line',
        { layerId: 'final-fare', xAccessor: 'time', accessors: ['fare'] },
        { legend: false, yTitle: 'Average final fare' },
      ),
    }),
    lens({
      id: IDS.lensDriversByStatus,
      title: 'Drivers by status',
      description:
        'Current status of every driver (latest-state index, one document per driver; not time filtered).',
      dataViewId: IDS.dvDriverLocations,
      layerId: 'drivers-by-status',
      columns: {
        status: terms('status', 'Status', 5, 'drivers'),
        drivers: count('Drivers'),
      },
      visualizationType: 'lnsPie',
      visualization: {
        shape: 'donut',
        layers: [
          {
            layerId: 'drivers-by-status',
            layerType: 'data',
            primaryGroups: ['status'],
            metrics: ['drivers'],
            numberDisplay: 'value',
            categoryDisplay: 'default',
            legendDisplay: 'show',
            legendPosition: 'right',
            nestedLegend: false,
            emptySizeRatio: 0.54,
          },
        ],
      },
    }),
    lens({
      id: IDS.lensLocationUpdates,
      title: 'Location updates per minute',
      description: 'Driver location change documents written per minute (driver_locations_timeseries-*).',
      dataViewId: IDS.dvDriverTimeseries,
      layerId: 'location-updates',
      columns: {
        minute: dateHistogram('@timestamp', '1m'),
        updates: count('Location updates / min'),
      },
      visualizationType: 'lnsXY',
      visualization: xy(
        'line',
        { layerId: 'location-updates', xAccessor: 'minute', accessors: ['updates'] },
        { legend: false, yTitle: 'Location updates / min' },
      ),
    }),
  ];
}

// ── maps ────────────────────────────────────────────────────────────────────────────────────────
const HCMC = { lat: 10.77, lon: 106.69 };

function mapState(opts: { zoom: number; from: string; refreshMs: number }): string {
  return JSON.stringify({
    adHocDataViews: [],
    zoom: opts.zoom,
    center: { lon: HCMC.lon, lat: HCMC.lat },
    timeFilters: { from: opts.from, to: 'now' },
    refreshConfig: { isPaused: false, interval: opts.refreshMs },
    query: kuery(''),
    filters: [],
    settings: {
      autoFitToDataBounds: false,
      backgroundColor: '#ffffff',
      customIcons: [],
      disableInteractive: false,
      disableTooltipControl: false,
      hideToolbarOverlay: false,
      hideLayerControl: false,
      hideViewControl: false,
      initialLocation: 'LAST_SAVED_LOCATION',
      fixedLocation: { lat: 0, lon: 0, zoom: 2 },
      browserLocation: { zoom: 2 },
      keydownScrollZoom: false,
      maxZoom: 24,
      minZoom: 0,
      projection: 'mercator',
      showScaleControl: true,
      showSpatialFilters: true,
      showTimesliderToggleButton: true,
      spatialFiltersAlpa: 0.3,
      spatialFiltersFillColor: '#DA8B45',
      spatialFiltersLineColor: '#DA8B45',
    },
  });
}

const basemapLayer: JsonObject = {
  id: 'basemap',
  label: null,
  locale: null,
  type: 'EMS_VECTOR_TILE',
  sourceDescriptor: { type: 'EMS_TMS', isAutoSelect: true, lightModeDefault: 'road_map_desaturated' },
  style: { type: 'EMS_VECTOR_TILE', color: '' },
  alpha: 1,
  visible: true,
  minZoom: 0,
  maxZoom: 24,
  includeInFitToBounds: true,
  areLabelsOnTop: false,
};

const staticColor = (color: string): JsonObject => ({ type: 'STATIC', options: { color } });
const staticSize = (size: number): JsonObject => ({ type: 'STATIC', options: { size } });

function vectorStyle(
  fillColor: JsonObject,
  lineColor: string,
  lineWidth: number,
  iconSize: number,
): JsonObject {
  return {
    type: 'VECTOR',
    isTimeAware: true,
    properties: {
      icon: { type: 'STATIC', options: { value: 'marker' } },
      fillColor,
      lineColor: staticColor(lineColor),
      lineWidth: staticSize(lineWidth),
      iconSize: staticSize(iconSize),
      iconOrientation: { type: 'STATIC', options: { orientation: 0 } },
      labelText: { type: 'STATIC', options: { value: '' } },
      labelColor: staticColor('#000000'),
      labelSize: staticSize(14),
      labelBorderColor: staticColor('#FFFFFF'),
      symbolizeAs: { options: { value: 'circle' } },
      labelBorderSize: { options: { size: 'SMALL' } },
    },
  };
}

/** Driver status colours; other/unknown values fall back to otherCategoryColor. */
const STATUS_COLORS: [string, string][] = [
  ['available', '#54B399'],
  ['busy', '#E7664C'],
  ['offline', '#98A2B3'],
];

function liveDriversMap(): SavedObject {
  const drivers: JsonObject = {
    id: 'drivers',
    label: 'Drivers (latest position, by status)',
    type: 'GEOJSON_VECTOR',
    sourceDescriptor: {
      id: 'ride-cdc-live-drivers-source',
      type: 'ES_SEARCH',
      geoField: 'location',
      filterByMapBounds: true,
      tooltipProperties: ['driver_id', 'status', 'vehicle_type', 'speed_kmh'],
      sortField: '',
      sortOrder: 'desc',
      scalingType: 'LIMIT',
      topHitsSplitField: '',
      topHitsSize: 1,
      applyGlobalQuery: true,
      applyGlobalTime: true,
      applyForceRefresh: true,
      indexPatternRefName: 'layer_1_source_index_pattern',
    },
    style: vectorStyle(
      {
        type: 'DYNAMIC',
        options: {
          type: 'CATEGORICAL',
          field: { name: 'status', origin: 'source' },
          colorCategory: 'palette_0',
          useCustomColorPalette: true,
          customColorPalette: STATUS_COLORS.map(([stop, color]) => ({ stop, color })),
          otherCategoryColor: '#D6BF57',
          fieldMetaOptions: { isEnabled: false, sigma: 3 },
        },
      },
      '#FFFFFF',
      1,
      6,
    ),
    joins: [],
    disableTooltips: false,
    alpha: 1,
    visible: true,
    minZoom: 0,
    maxZoom: 24,
    includeInFitToBounds: true,
  };
  return savedObject(
    'map',
    IDS.mapLiveDrivers,
    {
      description:
        'Latest position of every driver from driver_locations, coloured by status; the tooltip shows ' +
        'driver_id, status, vehicle_type and speed_kmh.',
      layerListJSON: JSON.stringify([basemapLayer, drivers]),
      mapStateJSON: mapState({ zoom: 11.5, from: 'now-15m', refreshMs: 5000 }),
      title: 'Live drivers',
      uiStateJSON: JSON.stringify({ isLayerTOCOpen: true, openTOCDetails: ['drivers'] }),
    },
    [dataViewRef(IDS.dvDriverLocations, 'layer_1_source_index_pattern')],
  );
}

function supplyDemandMap(): SavedObject {
  // Supply: distinct drivers reporting a position in each grid cell during the time range.
  const supply: JsonObject = {
    id: 'supply',
    label: 'Supply: distinct drivers per cell (location updates)',
    type: 'GEOJSON_VECTOR',
    sourceDescriptor: {
      id: 'ride-cdc-supply-source',
      type: 'ES_GEO_GRID',
      geoField: 'location',
      requestType: 'grid',
      resolution: 'FINE',
      metrics: [
        { type: 'cardinality', field: 'driver_id', label: 'drivers' },
        { type: 'count', label: 'location updates' },
      ],
      applyGlobalQuery: true,
      applyGlobalTime: true,
      applyForceRefresh: true,
      indexPatternRefName: 'layer_1_source_index_pattern',
    },
    style: vectorStyle(
      {
        type: 'DYNAMIC',
        options: {
          type: 'ORDINAL',
          field: { name: 'cardinality_of_driver_id', origin: 'source' },
          color: 'Blues',
          useCustomColorRamp: false,
          fieldMetaOptions: { isEnabled: true, sigma: 3 },
        },
      },
      '#FFFFFF',
      0,
      6,
    ),
    joins: [],
    disableTooltips: false,
    alpha: 0.5,
    visible: true,
    minZoom: 0,
    maxZoom: 24,
    includeInFitToBounds: true,
  };
  // Demand: pickup locations of ride requests.
  const demand: JsonObject = {
    id: 'demand',
    label: 'Demand: ride requests (pickup locations)',
    type: 'HEATMAP',
    sourceDescriptor: {
      id: 'ride-cdc-demand-source',
      type: 'ES_GEO_GRID',
      geoField: 'pickup_location',
      requestType: 'heatmap',
      resolution: 'FINE',
      metrics: [{ type: 'count', label: 'ride requests' }],
      applyGlobalQuery: true,
      applyGlobalTime: true,
      applyForceRefresh: true,
      indexPatternRefName: 'layer_2_source_index_pattern',
    },
    style: { type: 'HEATMAP', colorRampName: 'theclassic' },
    query: kuery('event : "requested"'),
    alpha: 0.75,
    visible: true,
    minZoom: 0,
    maxZoom: 24,
    includeInFitToBounds: true,
  };
  return savedObject(
    'map',
    IDS.mapSupplyDemand,
    {
      description:
        'Demand (heatmap of pickup locations of requested bookings, booking_events-*) over supply (grid of ' +
        'distinct drivers reporting positions, driver_locations_timeseries-*).',
      layerListJSON: JSON.stringify([basemapLayer, supply, demand]),
      mapStateJSON: mapState({ zoom: 11.5, from: 'now-1h', refreshMs: 30000 }),
      title: 'Supply / demand heatmap',
      uiStateJSON: JSON.stringify({ isLayerTOCOpen: true, openTOCDetails: ['supply', 'demand'] }),
    },
    [
      dataViewRef(IDS.dvDriverTimeseries, 'layer_1_source_index_pattern'),
      dataViewRef(IDS.dvBookingEvents, 'layer_2_source_index_pattern'),
    ],
  );
}

function positionsVsPickupsMap(): SavedObject {
  const pickups: JsonObject = {
    id: 'pickups',
    label: 'Booking pickups (requested)',
    type: 'GEOJSON_VECTOR',
    sourceDescriptor: {
      id: 'ride-cdc-pickups-source',
      type: 'ES_SEARCH',
      geoField: 'pickup_location',
      filterByMapBounds: true,
      tooltipProperties: ['booking_id', 'pickup_zone_id', 'vehicle_type', 'status'],
      sortField: '@timestamp',
      sortOrder: 'desc',
      scalingType: 'LIMIT',
      topHitsSplitField: '',
      topHitsSize: 1,
      applyGlobalQuery: true,
      applyGlobalTime: true,
      applyForceRefresh: true,
      indexPatternRefName: 'layer_2_source_index_pattern',
    },
    style: vectorStyle(staticColor('#6092C0'), '#FFFFFF', 1, 5),
    query: kuery('event : "requested"'),
    joins: [],
    disableTooltips: false,
    alpha: 0.8,
    visible: true,
    minZoom: 0,
    maxZoom: 24,
    includeInFitToBounds: true,
  };
  const drivers = JSON.parse(attrOf(liveDriversMap()).layerListJSON as string)[1] as JsonObject;
  return savedObject(
    'map',
    IDS.mapPositionsVsPickups,
    {
      description:
        'Latest driver positions (driver_locations, by status) against the pickup points of requested bookings ' +
        '(booking_events-*) in the time range.',
      layerListJSON: JSON.stringify([basemapLayer, drivers, pickups]),
      mapStateJSON: mapState({ zoom: 11.5, from: 'now-30m', refreshMs: 10000 }),
      title: 'Driver positions vs booking pickups',
      uiStateJSON: JSON.stringify({ isLayerTOCOpen: true, openTOCDetails: ['drivers', 'pickups'] }),
    },
    [
      dataViewRef(IDS.dvDriverLocations, 'layer_1_source_index_pattern'),
      dataViewRef(IDS.dvBookingEvents, 'layer_2_source_index_pattern'),
    ],
  );
}

const attrOf = (o: SavedObject) => o.attributes;

// ── saved search ────────────────────────────────────────────────────────────────────────────────
function recentBookingEvents(): SavedObject {
  return savedObject(
    'search',
    IDS.searchRecentBookingEvents,
    {
      columns: [
        'event',
        'booking_id',
        'status',
        'vehicle_type',
        'driver_id',
        'passenger_id',
        'pickup_zone_id',
        'estimated_fare',
        'final_fare',
        'cancelled_by',
      ],
      description: 'Most recent booking lifecycle events, newest first.',
      grid: {},
      hideChart: false,
      isTextBasedQuery: false,
      kibanaSavedObjectMeta: {
        searchSourceJSON: JSON.stringify({
          query: kuery(''),
          highlightAll: true,
          filter: [],
          indexRefName: 'kibanaSavedObjectMeta.searchSourceJSON.index',
        }),
      },
      sort: [['@timestamp', 'desc']],
      timeRestore: false,
      title: 'Recent booking events',
    },
    [dataViewRef(IDS.dvBookingEvents, 'kibanaSavedObjectMeta.searchSourceJSON.index')],
  );
}

// ── dashboards ──────────────────────────────────────────────────────────────────────────────────
interface Panel {
  panelIndex: string;
  type: 'lens' | 'map' | 'search';
  id: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface DashboardSpec {
  id: string;
  title: string;
  description: string;
  timeFrom: string;
  refreshMs: number;
  /** The 48-column grid, top to bottom. */
  panels: Panel[];
}

export const DASHBOARDS: DashboardSpec[] = [
  {
    id: IDS.dashboardOverview,
    title: 'ride-cdc: realtime overview',
    description:
      'Headline KPIs of the last hour and their per-minute trend (KPI mirror of the mart), booking lifecycle.',
    timeFrom: 'now-1h',
    refreshMs: 10_000,
    panels: [
      { panelIndex: 'requested', type: 'lens', id: IDS.lensHeadlineRequested, x: 0, y: 0, w: 12, h: 7 },
      { panelIndex: 'completed', type: 'lens', id: IDS.lensHeadlineCompleted, x: 12, y: 0, w: 12, h: 7 },
      { panelIndex: 'gmv', type: 'lens', id: IDS.lensHeadlineGmv, x: 24, y: 0, w: 12, h: 7 },
      { panelIndex: 'online', type: 'lens', id: IDS.lensHeadlineOnline, x: 36, y: 0, w: 12, h: 7 },
      { panelIndex: 'kpi-trend', type: 'lens', id: IDS.lensKpiTrend, x: 0, y: 7, w: 24, h: 13 },
      { panelIndex: 'rate-trend', type: 'lens', id: IDS.lensRateTrend, x: 24, y: 7, w: 24, h: 13 },
      {
        panelIndex: 'bookings-by-event',
        type: 'lens',
        id: IDS.lensBookingsByEvent,
        x: 0,
        y: 20,
        w: 48,
        h: 13,
      },
      { panelIndex: 'cancellations', type: 'lens', id: IDS.lensCancellationsBy, x: 0, y: 33, w: 16, h: 12 },
      { panelIndex: 'final-fare', type: 'lens', id: IDS.lensAvgFinalFare, x: 16, y: 33, w: 32, h: 12 },
      {
        panelIndex: 'recent-bookings',
        type: 'search',
        id: IDS.searchRecentBookingEvents,
        x: 0,
        y: 45,
        w: 48,
        h: 16,
      },
    ],
  },
  {
    id: IDS.dashboardSupplyDemand,
    title: 'ride-cdc: supply / demand',
    description:
      'Where riders ask for cars and where the drivers are: heatmaps, positions vs pickups, per-zone balance.',
    timeFrom: 'now-1h',
    refreshMs: 30_000,
    panels: [
      { panelIndex: 'supply-demand', type: 'map', id: IDS.mapSupplyDemand, x: 0, y: 0, w: 24, h: 18 },
      {
        panelIndex: 'positions-pickups',
        type: 'map',
        id: IDS.mapPositionsVsPickups,
        x: 24,
        y: 0,
        w: 24,
        h: 18,
      },
      { panelIndex: 'demand-heatmap', type: 'lens', id: IDS.lensDemandHeatmap, x: 0, y: 18, w: 28, h: 15 },
      {
        panelIndex: 'demand-supply',
        type: 'lens',
        id: IDS.lensDemandSupplyByZone,
        x: 28,
        y: 18,
        w: 20,
        h: 15,
      },
    ],
  },
  {
    id: IDS.dashboardDrivers,
    title: 'ride-cdc: drivers online / busy',
    description: 'Drivers online and busy over time and by zone, live positions and the status split.',
    timeFrom: 'now-1h',
    refreshMs: 10_000,
    panels: [
      {
        panelIndex: 'drivers-over-time',
        type: 'lens',
        id: IDS.lensDriversOverTime,
        x: 0,
        y: 0,
        w: 32,
        h: 13,
      },
      {
        panelIndex: 'drivers-by-status',
        type: 'lens',
        id: IDS.lensDriversByStatus,
        x: 32,
        y: 0,
        w: 16,
        h: 13,
      },
      { panelIndex: 'drivers-by-zone', type: 'lens', id: IDS.lensDriversByZone, x: 0, y: 13, w: 20, h: 18 },
      { panelIndex: 'live-drivers', type: 'map', id: IDS.mapLiveDrivers, x: 20, y: 13, w: 28, h: 18 },
    ],
  },
  {
    id: IDS.dashboardPipeline,
    title: 'ride-cdc: pipeline health',
    description:
      'Throughput, consumer lag, end-to-end latency and dead letters of the workers (pipeline_metrics-*).',
    timeFrom: 'now-30m',
    refreshMs: 10_000,
    panels: [
      { panelIndex: 'throughput', type: 'lens', id: IDS.lensThroughput, x: 0, y: 0, w: 24, h: 13 },
      { panelIndex: 'lag', type: 'lens', id: IDS.lensLag, x: 24, y: 0, w: 24, h: 13 },
      { panelIndex: 'latency', type: 'lens', id: IDS.lensLatency, x: 0, y: 13, w: 24, h: 13 },
      { panelIndex: 'dead-letters', type: 'lens', id: IDS.lensDeadLetters, x: 24, y: 13, w: 24, h: 13 },
      {
        panelIndex: 'location-updates',
        type: 'lens',
        id: IDS.lensLocationUpdates,
        x: 0,
        y: 26,
        w: 48,
        h: 12,
      },
    ],
  },
];

function dashboard(d: DashboardSpec): SavedObject {
  const panels = d.panels.map((p) => ({
    type: p.type,
    gridData: { x: p.x, y: p.y, w: p.w, h: p.h, i: p.panelIndex },
    panelIndex: p.panelIndex,
    embeddableConfig: { enhancements: {} },
    panelRefName: `panel_${p.panelIndex}`,
  }));
  return savedObject(
    'dashboard',
    d.id,
    {
      description: d.description,
      kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify({ query: kuery(''), filter: [] }) },
      optionsJSON: JSON.stringify({
        useMargins: true,
        syncColors: false,
        syncCursor: true,
        syncTooltips: false,
        hidePanelTitles: false,
      }),
      panelsJSON: JSON.stringify(panels),
      refreshInterval: { pause: false, value: d.refreshMs },
      timeFrom: d.timeFrom,
      timeRestore: true,
      timeTo: 'now',
      title: d.title,
      version: 1,
    },
    d.panels.map((p) => ({ id: p.id, name: `${p.panelIndex}:panel_${p.panelIndex}`, type: p.type })),
  );
}

// ── output ──────────────────────────────────────────────────────────────────────────────────────
/** Every object, in export order: what is referenced comes before what references it. */
export function buildSavedObjects(indexPrefix = ''): SavedObject[] {
  return [
    ...dataViews(indexPrefix),
    ...lensObjects(),
    ...kpiLensObjects(),
    ...pipelineLensObjects(),
    liveDriversMap(),
    supplyDemandMap(),
    positionsVsPickupsMap(),
    recentBookingEvents(),
    ...DASHBOARDS.map(dashboard),
  ];
}

/** The export format: one object per line, then the export details line, newline-terminated. */
export function toNdjson(objects: SavedObject[]): string {
  const details = {
    excludedObjects: [],
    excludedObjectsCount: 0,
    exportedCount: objects.length,
    missingRefCount: 0,
    missingReferences: [],
  };
  return `${[...objects, details].map((o) => JSON.stringify(o)).join('\n')}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: { prefix: { type: 'string', default: '' }, out: { type: 'string' } },
  });
  const prefix = values.prefix ?? '';
  if (!/^[a-z0-9_.-]*$/.test(prefix)) throw new Error(`--prefix ${prefix}: not a valid index name prefix`);
  const out = values.out ?? NDJSON_PATH;
  if (prefix && out === NDJSON_PATH)
    throw new Error('--prefix needs --out: the committed file is for the empty prefix');
  const objects = buildSavedObjects(prefix);
  writeFileSync(out, toNdjson(objects));
  console.log(`wrote ${objects.length} saved objects to ${out}`);
}
