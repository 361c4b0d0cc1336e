import { MartSink } from '../sink/mart/mart-sink.js';
import type { WorkerOptions } from './worker.js';

/** The production wiring of optional stages: the reporting mart joins every batch's transaction. */
export function defaultWorkerOptions(): WorkerOptions {
  return {
    mart: async (pool, metrics) => {
      await MartSink.syncCatalog(pool);
      return new MartSink(metrics);
    },
  };
}
