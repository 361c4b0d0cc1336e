/**
 * The booking state machine, as the ride-hailing app enforces it:
 *
 *   requested → accepted → arrived → in_progress → completed
 *       │           │          │
 *       └───────────┴──────────┴──→ cancelled
 *
 * Each transition is one UPDATE of the booking row that sets the status and its timestamp column.
 * Who may cancel depends on the stage: before a driver accepts, the passenger or the system (no
 * driver found); after, the passenger or the driver; at pickup, either (the driver for a no-show).
 * A trip in progress is never cancelled.
 */
export type BookingStatus = 'requested' | 'accepted' | 'arrived' | 'in_progress' | 'completed' | 'cancelled';
export type CancelActor = 'passenger' | 'driver' | 'system';
export type DriverStatus = 'offline' | 'available' | 'busy';

export const BOOKING_STATUSES: readonly BookingStatus[] = [
  'requested',
  'accepted',
  'arrived',
  'in_progress',
  'completed',
  'cancelled',
];

const NEXT: Readonly<Record<BookingStatus, readonly BookingStatus[]>> = {
  requested: ['accepted', 'cancelled'],
  accepted: ['arrived', 'cancelled'],
  arrived: ['in_progress', 'cancelled'],
  in_progress: ['completed'],
  completed: [],
  cancelled: [],
};

const CANCELLERS: Readonly<Record<BookingStatus, readonly CancelActor[]>> = {
  requested: ['passenger', 'system'],
  accepted: ['passenger', 'driver'],
  arrived: ['passenger', 'driver'],
  in_progress: [],
  completed: [],
  cancelled: [],
};

/** The column a transition into `status` sets (besides status and updated_at). */
export const TIMESTAMP_COLUMN: Readonly<Record<BookingStatus, string>> = {
  requested: 'requested_at',
  accepted: 'accepted_at',
  arrived: 'arrived_at',
  in_progress: 'started_at',
  completed: 'completed_at',
  cancelled: 'cancelled_at',
};

export function canTransition(from: BookingStatus, to: BookingStatus): boolean {
  return NEXT[from].includes(to);
}

export function canCancel(status: BookingStatus, by: CancelActor): boolean {
  return CANCELLERS[status].includes(by);
}

export function isTerminal(status: BookingStatus): boolean {
  return NEXT[status].length === 0;
}

/** The happy-path successor, or undefined for terminal states. */
export function nextOnHappyPath(status: BookingStatus): BookingStatus | undefined {
  return NEXT[status].find((s) => s !== 'cancelled');
}

export class IllegalTransitionError extends Error {}

export function assertTransition(from: BookingStatus, to: BookingStatus, by?: CancelActor): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(`booking cannot go ${from} → ${to}`);
  if (to === 'cancelled' && by !== undefined && !canCancel(from, by)) {
    throw new IllegalTransitionError(`${by} cannot cancel a booking in status ${from}`);
  }
}

/**
 * How a booking will end, drawn when it is requested. The simulation then plays it out: a
 * "complete" booking can still end up cancelled by the system when no driver is found in time.
 */
export type Fate =
  | { kind: 'complete' }
  | { kind: 'cancel'; by: CancelActor; at: 'requested' | 'accepted' | 'arrived'; reason: string };

export interface FateWeights {
  complete: number;
  passengerBeforeAccept: number;
  passengerAfterAccept: number;
  driverAfterAccept: number;
  driverNoShow: number;
  systemNoDriver: number;
}

export const DEFAULT_FATE_WEIGHTS: FateWeights = {
  complete: 0.8,
  passengerBeforeAccept: 0.05,
  passengerAfterAccept: 0.04,
  driverAfterAccept: 0.03,
  driverNoShow: 0.02,
  systemNoDriver: 0.06,
};

export const CANCEL_REASONS = {
  passengerBeforeAccept: ['changed_plans', 'wait_too_long', 'booked_by_mistake'],
  passengerAfterAccept: ['driver_too_far', 'changed_plans', 'found_another_ride'],
  driverAfterAccept: ['vehicle_issue', 'traffic_jam', 'pickup_too_far'],
  driverNoShow: ['passenger_no_show'],
  systemNoDriver: ['no_driver_available'],
} as const;

/** Draws a fate; `r` and `pickReason` are the caller's random source (keeps this module pure). */
export function drawFate(
  r: number,
  pickReason: (reasons: readonly string[]) => string,
  w: FateWeights = DEFAULT_FATE_WEIGHTS,
): Fate {
  const entries: [keyof FateWeights, number][] = [
    ['complete', w.complete],
    ['passengerBeforeAccept', w.passengerBeforeAccept],
    ['passengerAfterAccept', w.passengerAfterAccept],
    ['driverAfterAccept', w.driverAfterAccept],
    ['driverNoShow', w.driverNoShow],
    ['systemNoDriver', w.systemNoDriver],
  ];
  const total = entries.reduce((s, [, v]) => s + v, 0);
  let x = r * total;
  let chosen: keyof FateWeights = 'complete';
  for (const [k, v] of entries) {
    x -= v;
    if (x < 0) {
      chosen = k;
      break;
    }
  }
  switch (chosen) {
    case 'complete':
      return { kind: 'complete' };
    case 'passengerBeforeAccept':
      return {
        kind: 'cancel',
        by: 'passenger',
        at: 'requested',
        reason: pickReason(CANCEL_REASONS.passengerBeforeAccept),
      };
    case 'passengerAfterAccept':
      return {
        kind: 'cancel',
        by: 'passenger',
        at: 'accepted',
        reason: pickReason(CANCEL_REASONS.passengerAfterAccept),
      };
    case 'driverAfterAccept':
      return {
        kind: 'cancel',
        by: 'driver',
        at: 'accepted',
        reason: pickReason(CANCEL_REASONS.driverAfterAccept),
      };
    case 'driverNoShow':
      return { kind: 'cancel', by: 'driver', at: 'arrived', reason: pickReason(CANCEL_REASONS.driverNoShow) };
    case 'systemNoDriver':
      return {
        kind: 'cancel',
        by: 'system',
        at: 'requested',
        reason: pickReason(CANCEL_REASONS.systemNoDriver),
      };
  }
}
