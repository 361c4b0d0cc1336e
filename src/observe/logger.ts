import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The one structured logger. Stages take `logger.child({ stage })`; batch code adds
 * topic/partition/offset. Secrets are redacted by path so a logged config never leaks them.
 */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service: 'ride-cdc' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['*.password', '*.apiKey', '*.sasl.password', 'config.*.password', 'config.*.apiKey'],
      censor: '[redacted]',
    },
  });
}
