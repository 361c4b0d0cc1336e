import { pino, type Logger } from 'pino';
import { redactUrl } from '../config/env.js';

export type { Logger };

/**
 * The one structured logger. Stages take `logger.child({ stage })`; batch code adds
 * topic/partition/offset. Secrets are redacted by path so a logged config never leaks them.
 */
export function createLogger(
  level = process.env.LOG_LEVEL ?? 'info',
  destination: pino.DestinationStream = pino.destination(1),
): Logger {
  return pino(
    {
      level,
      base: { service: 'ride-cdc' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['*.password', '*.apiKey', '*.sasl.password', 'config.*.password', 'config.*.apiKey'],
        censor: '[redacted]',
      },
      hooks: {
        // Error texts can quote a URL with credentials in it (http://user:secret@host): the
        // user:secret part never reaches a log line, whichever field carries it.
        logMethod(args, method) {
          const clean = args.map((a: unknown) => redactValue(a));
          method.apply(this, clean as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

function redactValue(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return redactUrl(v);
  if (v instanceof Error)
    return Object.assign(new Error(redactUrl(v.message)), {
      name: v.name,
      stack: v.stack && redactUrl(v.stack),
    });
  if (v && typeof v === 'object' && depth < 3 && !Array.isArray(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactValue(x, depth + 1)]));
  }
  return v;
}
