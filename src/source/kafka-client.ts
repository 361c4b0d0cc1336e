import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import type { WorkerConfig } from '../config/worker-config.js';
import type { Logger } from '../observe/logger.js';

const LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** kafkajs with its log lines routed into our structured logger. */
export function createKafka(cfg: WorkerConfig['kafka'], logger: Logger): Kafka {
  const log = logger.child({ stage: 'kafka' });
  return new Kafka({
    clientId: cfg.clientId,
    brokers: cfg.brokers,
    ssl: cfg.caFile ? { ca: [readFileSync(cfg.caFile, 'utf8')] } : cfg.ssl,
    sasl: cfg.sasl as SASLOptions | undefined,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        log[LEVEL[level] ?? 'info'](rest, message);
      },
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 30_000 },
  });
}
