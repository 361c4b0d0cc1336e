import type { WorkerOptions } from './worker.js';

/** The production wiring of optional stages (the reporting-mart sink joins here). */
export function defaultWorkerOptions(): WorkerOptions {
  return {};
}
