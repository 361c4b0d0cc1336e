import {
  ALL,
  and,
  column,
  type Cond,
  type Dimension,
  distinct,
  eq,
  flag,
  flow,
  gauge,
  greaterThan,
  type MetricDef,
  type MetricSource,
  notNull,
  ONE,
  oneOf,
  type Part,
  seconds,
  TRUE,
  validateCatalog,
  ZERO,
  dim,
} from './definition.js';

export * from './definition.js';

/**
 * THE KPI catalog: the one definition every other artefact derives from.
 *
 * Each KPI is a function of the CURRENT source rows, written in the vocabulary of definition.ts
 * (where / time / numerator / denominator / dimensions, each in TypeScript and SQL side by side).
 * contributions.ts evaluates the TypeScript side on one row; truth-sql.ts turns the SQL side into
 * the query over ride_hailing_db the e2e test compares the mart to; docs/kpis.md is rendered from
 * here (catalog-doc.ts) and a unit test keeps it in sync.
 *
 * Value rule: count/sum/distinct → metric_value = numerator; avg/ratio → round(numerator /
 * denominator, 6), NULL when the denominator is 0. For count/sum the denominator is the number of
 * contributing rows, so a bucket with numerator = denominator = 0 holds no rows and is deleted.
 */

// Dimension families per source. 'zone' is the pickup zone of a booking and the home zone of a
// driver or passenger, so booking demand and driver supply meet on the same 'zone:<id>' row.
const bookingDims = {
  zone: dim('zone', 'pickup_zone_id'),
  vehicle: dim('vehicle', 'vehicle_type'),
  cancelledBy: dim('cancelled_by', 'cancelled_by'),
};
const driverDims = { zone: dim('zone', 'home_zone_id'), vehicle: dim('vehicle', 'vehicle_type') };
const passengerDims = { zone: dim('zone', 'home_zone_id') };
const paymentDims = { method: dim('method', 'method') };
const ratingDims = { rater: dim('rater', 'rater_type') };

const B_STD = [ALL, bookingDims.zone, bookingDims.vehicle];
const ONLINE = ['available', 'busy'] as const;
const IN_TRIP = ['accepted', 'arrived', 'in_progress'] as const;

const count = (source: MetricSource, time: string, where: Cond, dimensions: readonly Dimension[]) => ({
  source,
  time,
  where: and(notNull(time), where),
  numerator: ONE,
  denominator: ONE,
  dimensions,
});
const total = (
  source: MetricSource,
  time: string,
  amount: string,
  where: Cond,
  dimensions: readonly Dimension[],
) => ({
  source,
  time,
  where: and(notNull(time, amount), where),
  numerator: column(amount),
  denominator: ONE,
  dimensions,
});

// ---------------------------------------------------------------------------------------------

export const CATALOG: readonly MetricDef[] = [
  // ---------------- Passenger ----------------
  flow(
    {
      name: 'bookings_requested',
      group: 'Passenger',
      unit: 'bookings',
      kind: 'count',
      description: 'Bookings requested, by requested_at.',
    },
    count('bookings', 'requested_at', TRUE, B_STD),
  ),
  flow(
    {
      name: 'active_passengers',
      group: 'Passenger',
      unit: 'passengers',
      kind: 'distinct',
      description: 'Distinct passengers who requested a booking in the bucket (denominator: their bookings).',
    },
    {
      source: 'bookings',
      time: 'requested_at',
      where: notNull('requested_at', 'passenger_id'),
      numerator: distinct('passenger_id'),
      denominator: ONE,
      dimensions: [ALL, bookingDims.zone],
    },
  ),
  flow(
    {
      name: 'bookings_per_active_passenger',
      group: 'Passenger',
      unit: 'bookings/passenger',
      kind: 'ratio',
      description: 'Bookings requested / distinct requesting passengers, by requested_at.',
    },
    {
      source: 'bookings',
      time: 'requested_at',
      where: notNull('requested_at', 'passenger_id'),
      numerator: ONE,
      denominator: distinct('passenger_id'),
      dimensions: [ALL, bookingDims.zone],
    },
  ),
  flow(
    {
      name: 'new_passengers',
      group: 'Passenger',
      unit: 'passengers',
      kind: 'count',
      description: 'Passenger sign-ups, by passengers.created_at (dimension zone = home zone).',
    },
    count('passengers', 'created_at', TRUE, [ALL, passengerDims.zone]),
  ),
  flow(
    {
      name: 'avg_time_to_accept_s',
      group: 'Passenger',
      unit: 's',
      kind: 'avg',
      description: 'Mean accepted_at − requested_at, by accepted_at.',
    },
    {
      source: 'bookings',
      time: 'accepted_at',
      where: notNull('accepted_at', 'requested_at'),
      numerator: seconds('requested_at', 'accepted_at'),
      denominator: ONE,
      dimensions: B_STD,
    },
  ),
  flow(
    {
      name: 'avg_pickup_wait_s',
      group: 'Passenger',
      unit: 's',
      kind: 'avg',
      description: 'Mean arrived_at − accepted_at (driver to pickup), by arrived_at.',
    },
    {
      source: 'bookings',
      time: 'arrived_at',
      where: notNull('arrived_at', 'accepted_at'),
      numerator: seconds('accepted_at', 'arrived_at'),
      denominator: ONE,
      dimensions: B_STD,
    },
  ),
  flow(
    {
      name: 'passenger_cancel_rate',
      group: 'Passenger',
      unit: 'ratio',
      kind: 'ratio',
      description:
        'Bookings requested in the bucket that were cancelled by the passenger / bookings requested, by requested_at.',
    },
    {
      source: 'bookings',
      time: 'requested_at',
      where: notNull('requested_at'),
      numerator: flag(eq('cancelled_by', 'passenger')),
      denominator: ONE,
      dimensions: B_STD,
    },
  ),
  flow(
    {
      name: 'avg_passenger_rating',
      group: 'Passenger',
      unit: 'stars',
      kind: 'avg',
      description: 'Mean score drivers gave passengers (ratings.rater_type = driver), by rated_at.',
    },
    {
      source: 'ratings',
      time: 'rated_at',
      where: and(notNull('rated_at', 'score'), eq('rater_type', 'driver')),
      numerator: column('score'),
      denominator: ONE,
      dimensions: [ALL],
    },
  ),

  // ---------------- Driver ----------------
  gauge(
    {
      name: 'drivers_online',
      group: 'Driver',
      unit: 'drivers',
      description: 'Drivers whose current status is available or busy (dimension zone = home zone).',
    },
    [
      {
        source: 'drivers',
        where: oneOf('status', ONLINE),
        numerator: ONE,
        denominator: ONE,
        dimensions: [ALL, driverDims.zone, driverDims.vehicle],
      },
    ],
  ),
  gauge(
    {
      name: 'drivers_busy',
      group: 'Driver',
      unit: 'drivers',
      description: 'Drivers whose current status is busy.',
    },
    [
      {
        source: 'drivers',
        where: eq('status', 'busy'),
        numerator: ONE,
        denominator: ONE,
        dimensions: [ALL, driverDims.zone, driverDims.vehicle],
      },
    ],
  ),
  gauge(
    {
      name: 'drivers_available',
      group: 'Driver',
      unit: 'drivers',
      description: 'Drivers whose current status is available (idle supply).',
    },
    [
      {
        source: 'drivers',
        where: eq('status', 'available'),
        numerator: ONE,
        denominator: ONE,
        dimensions: [ALL, driverDims.zone, driverDims.vehicle],
      },
    ],
  ),
  gauge(
    {
      name: 'driver_utilization',
      group: 'Driver',
      unit: 'ratio',
      valueRule: 'ratio',
      description: 'drivers_busy / drivers_online, current.',
    },
    [
      {
        source: 'drivers',
        where: oneOf('status', ONLINE),
        numerator: flag(eq('status', 'busy')),
        denominator: ONE,
        dimensions: [ALL, driverDims.zone, driverDims.vehicle],
      },
    ],
  ),
  flow(
    {
      name: 'active_drivers',
      group: 'Driver',
      unit: 'drivers',
      kind: 'distinct',
      description: 'Distinct drivers with a completed trip, by completed_at (denominator: their trips).',
    },
    {
      source: 'bookings',
      time: 'completed_at',
      where: notNull('completed_at', 'driver_id'),
      numerator: distinct('driver_id'),
      denominator: ONE,
      dimensions: B_STD,
    },
  ),
  flow(
    {
      name: 'trips_per_active_driver',
      group: 'Driver',
      unit: 'trips/driver',
      kind: 'ratio',
      description: 'Completed trips / distinct drivers who completed them, by completed_at.',
    },
    {
      source: 'bookings',
      time: 'completed_at',
      where: notNull('completed_at', 'driver_id'),
      numerator: ONE,
      denominator: distinct('driver_id'),
      dimensions: B_STD,
    },
  ),
  flow(
    {
      name: 'new_drivers',
      group: 'Driver',
      unit: 'drivers',
      kind: 'count',
      description: 'Driver sign-ups, by drivers.created_at.',
    },
    count('drivers', 'created_at', TRUE, [ALL, driverDims.zone, driverDims.vehicle]),
  ),
  flow(
    {
      name: 'driver_earnings',
      group: 'Driver',
      unit: 'VND',
      kind: 'sum',
      description: 'Sum of payments.driver_earnings of paid payments, by paid_at.',
    },
    total('payments', 'paid_at', 'driver_earnings', eq('status', 'paid'), [ALL, paymentDims.method]),
  ),
  flow(
    {
      name: 'avg_driver_earnings_per_trip',
      group: 'Driver',
      unit: 'VND',
      kind: 'avg',
      description: 'Mean driver_earnings per paid payment, by paid_at.',
    },
    {
      source: 'payments',
      time: 'paid_at',
      where: and(notNull('paid_at', 'driver_earnings'), eq('status', 'paid')),
      numerator: column('driver_earnings'),
      denominator: ONE,
      dimensions: [ALL, paymentDims.method],
    },
  ),
  flow(
    {
      name: 'driver_cancel_rate',
      group: 'Driver',
      unit: 'ratio',
      kind: 'ratio',
      description: 'Accepted bookings later cancelled by the driver / bookings accepted, by accepted_at.',
    },
    {
      source: 'bookings',
      time: 'accepted_at',
      where: notNull('accepted_at'),
      numerator: flag(eq('cancelled_by', 'driver')),
      denominator: ONE,
      dimensions: B_STD,
    },
  ),
  flow(
    {
      name: 'avg_driver_rating',
      group: 'Driver',
      unit: 'stars',
      kind: 'avg',
      description: 'Mean score passengers gave drivers (ratings.rater_type = passenger), by rated_at.',
    },
    {
      source: 'ratings',
      time: 'rated_at',
      where: and(notNull('rated_at', 'score'), eq('rater_type', 'passenger')),
      numerator: column('score'),
      denominator: ONE,
      dimensions: [ALL],
    },
  ),

  // ---------------- Operation ----------------
  flow(
    {
      name: 'bookings_accepted',
      group: 'Operation',
      unit: 'bookings',
      kind: 'count',
      description: 'Bookings accepted, by accepted_at.',
    },
    count('bookings', 'accepted_at', TRUE, B_STD),
  ),
  flow(
    {
      name: 'bookings_completed',
      group: 'Operation',
      unit: 'bookings',
      kind: 'count',
      description: 'Bookings completed, by completed_at.',
    },
    count('bookings', 'completed_at', TRUE, B_STD),
  ),
  flow(
    {
      name: 'bookings_cancelled',
      group: 'Operation',
      unit: 'bookings',
      kind: 'count',
      description: 'Bookings cancelled, by cancelled_at; also per cancelled_by.',
    },
    count('bookings', 'cancelled_at', TRUE, [...B_STD, bookingDims.cancelledBy]),
  ),
  flow(
    {
      name: 'gmv',
      group: 'Operation',
      unit: 'VND',
      kind: 'sum',
      description: 'Gross merchandise value: sum of final_fare of completed bookings, by completed_at.',
    },
    total('bookings', 'completed_at', 'final_fare', TRUE, B_STD),
  ),
  flow(
    {
      name: 'avg_fare',
      group: 'Operation',
      unit: 'VND',
      kind: 'avg',
      description: 'Mean final_fare of completed bookings, by completed_at.',
    },
    total('bookings', 'completed_at', 'final_fare', TRUE, B_STD),
  ),
  flow(
    {
      name: 'avg_trip_duration_s',
      group: 'Operation',
      unit: 's',
      kind: 'avg',
      description: 'Mean completed_at − started_at, by completed_at.',
    },
    {
      source: 'bookings',
      time: 'completed_at',
      where: notNull('completed_at', 'started_at'),
      numerator: seconds('started_at', 'completed_at'),
      denominator: ONE,
      dimensions: B_STD,
    },
  ),
  flow(
    {
      name: 'avg_trip_distance_km',
      group: 'Operation',
      unit: 'km',
      kind: 'avg',
      description: 'Mean distance_km of completed bookings, by completed_at.',
    },
    total('bookings', 'completed_at', 'distance_km', TRUE, B_STD),
  ),
  flow(
    {
      name: 'match_rate',
      group: 'Operation',
      unit: 'ratio',
      kind: 'ratio',
      description:
        'Bookings requested in the bucket that were accepted (accepted_at not null) / bookings requested, by requested_at.',
    },
    {
      source: 'bookings',
      time: 'requested_at',
      where: notNull('requested_at'),
      numerator: flag(notNull('accepted_at')),
      denominator: ONE,
      dimensions: B_STD,
    },
  ),
  flow(
    {
      name: 'cancellation_rate',
      group: 'Operation',
      unit: 'ratio',
      kind: 'ratio',
      description:
        'Bookings requested in the bucket that were cancelled (cancelled_at not null) / bookings requested, by requested_at.',
    },
    {
      source: 'bookings',
      time: 'requested_at',
      where: notNull('requested_at'),
      numerator: flag(notNull('cancelled_at')),
      denominator: ONE,
      dimensions: B_STD,
    },
  ),
  flow(
    {
      name: 'completion_rate',
      group: 'Operation',
      unit: 'ratio',
      kind: 'ratio',
      description:
        'Bookings requested in the bucket that were completed / bookings requested, by requested_at.',
    },
    {
      source: 'bookings',
      time: 'requested_at',
      where: notNull('requested_at'),
      numerator: flag(notNull('completed_at')),
      denominator: ONE,
      dimensions: B_STD,
    },
  ),
  flow(
    {
      name: 'surge_share',
      group: 'Operation',
      unit: 'ratio',
      kind: 'ratio',
      description: 'Bookings requested with surge_multiplier > 1 / bookings requested, by requested_at.',
    },
    {
      source: 'bookings',
      time: 'requested_at',
      where: notNull('requested_at'),
      numerator: flag(greaterThan('surge_multiplier', '1')),
      denominator: ONE,
      dimensions: B_STD,
    },
  ),
  flow(
    {
      name: 'avg_surge_multiplier',
      group: 'Operation',
      unit: 'x',
      kind: 'avg',
      description: 'Mean surge_multiplier of bookings requested, by requested_at.',
    },
    total('bookings', 'requested_at', 'surge_multiplier', TRUE, B_STD),
  ),
  flow(
    {
      name: 'platform_revenue',
      group: 'Operation',
      unit: 'VND',
      kind: 'sum',
      description: 'Sum of payments.platform_fee of paid payments, by paid_at.',
    },
    total('payments', 'paid_at', 'platform_fee', eq('status', 'paid'), [ALL, paymentDims.method]),
  ),
  flow(
    {
      name: 'payment_volume',
      group: 'Operation',
      unit: 'VND',
      kind: 'sum',
      description: 'Sum of payments.amount of paid payments, by paid_at.',
    },
    total('payments', 'paid_at', 'amount', eq('status', 'paid'), [ALL, paymentDims.method]),
  ),
  flow(
    {
      name: 'refunded_amount',
      group: 'Operation',
      unit: 'VND',
      kind: 'sum',
      description:
        'Sum of payments.amount of refunded payments, by paid_at (the source keeps no refund time).',
    },
    total('payments', 'paid_at', 'amount', eq('status', 'refunded'), [ALL, paymentDims.method]),
  ),
  flow(
    {
      name: 'ratings_submitted',
      group: 'Operation',
      unit: 'ratings',
      kind: 'count',
      description: 'Ratings given, by rated_at; per rater type.',
    },
    count('ratings', 'rated_at', TRUE, [ALL, ratingDims.rater]),
  ),
  gauge(
    {
      name: 'open_requests',
      group: 'Operation',
      unit: 'bookings',
      description: 'Bookings currently in status requested (unmatched demand), per pickup zone.',
    },
    [
      {
        source: 'bookings',
        where: eq('status', 'requested'),
        numerator: ONE,
        denominator: ONE,
        dimensions: B_STD,
      },
    ],
  ),
  gauge(
    {
      name: 'trips_in_progress',
      group: 'Operation',
      unit: 'bookings',
      description: 'Bookings currently accepted, arrived or in_progress.',
    },
    [
      {
        source: 'bookings',
        where: oneOf('status', IN_TRIP),
        numerator: ONE,
        denominator: ONE,
        dimensions: B_STD,
      },
    ],
  ),
  gauge(
    {
      name: 'demand_supply_ratio',
      group: 'Operation',
      unit: 'requests/driver',
      valueRule: 'ratio',
      description:
        'open_requests (pickup zone) / drivers_available (home zone), current; NULL where no driver is available.',
    },
    [
      {
        source: 'bookings',
        where: eq('status', 'requested'),
        numerator: ONE,
        denominator: ZERO,
        dimensions: [ALL, bookingDims.zone],
      },
      {
        source: 'drivers',
        where: eq('status', 'available'),
        numerator: ZERO,
        denominator: ONE,
        dimensions: [ALL, driverDims.zone],
      },
    ],
  ),
];

// ---------------------------------------------------------------------------------------------

export const METRICS: ReadonlyMap<string, MetricDef> = new Map(CATALOG.map((m) => [m.name, m]));

export function metricDef(name: string): MetricDef {
  const m = METRICS.get(name);
  if (!m) throw new Error(`unknown metric ${JSON.stringify(name)}`);
  return m;
}

/** (metric, part) pairs reading a source table, in catalog order. */
export function partsReading(source: MetricSource): readonly { metric: MetricDef; part: Part }[] {
  return PARTS_BY_SOURCE.get(source) ?? [];
}

const PARTS_BY_SOURCE = new Map<MetricSource, { metric: MetricDef; part: Part }[]>();
for (const metric of CATALOG) {
  for (const part of metric.parts) {
    const list = PARTS_BY_SOURCE.get(part.source) ?? [];
    list.push({ metric, part });
    PARTS_BY_SOURCE.set(part.source, list);
  }
}

validateCatalog(CATALOG);
