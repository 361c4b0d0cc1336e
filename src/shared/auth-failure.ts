import { errorMessage } from './errors.js';

/**
 * Recognises "you are not who you say" and "you may not" answers of the worker's dependencies.
 * At start-up they are not a dependency that is still coming up: waiting cannot fix a wrong
 * password or a missing grant, so the worker fails fast with the variables to check. The message
 * quotes the server's answer (which names the user, never the password).
 */
const CREDENTIALS: Record<string, string> = {
  kafka: 'KAFKA_SASL_MECHANISM / KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD',
  reporting_db: 'REPORTING_PGUSER / REPORTING_PGPASSWORD',
  elasticsearch: 'ES_USERNAME / ES_PASSWORD (or ES_API_KEY)',
  registry: 'SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD',
  connect: 'CONNECT_USERNAME / CONNECT_PASSWORD',
};

export type AuthFailureKind = 'authentication' | 'authorization';

/** Looks through wrappers (SystemicError and friends keep the original as `cause`). */
export function classifyAuthFailure(err: unknown, depth = 0): AuthFailureKind | undefined {
  const own = classifyOne(err);
  if (own || depth >= 3) return own;
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  return cause === undefined ? undefined : classifyAuthFailure(cause, depth + 1);
}

function classifyOne(err: unknown): AuthFailureKind | undefined {
  const e = err as
    | {
        name?: string;
        code?: string;
        type?: string;
        statusCode?: number;
        status?: number;
        meta?: { statusCode?: number };
      }
    | undefined;
  if (!e) return undefined;
  const msg = errorMessage(err);
  // kafkajs
  if (e.name === 'KafkaJSSASLAuthenticationError' || /SASL .*authentication failed/i.test(msg))
    return 'authentication';
  if (/_AUTHORIZATION_FAILED$/.test(e.type ?? '') || /not authorized to access/i.test(msg))
    return 'authorization';
  // pg: invalid_password, invalid_authorization_specification; insufficient_privilege
  if (e.code === '28P01' || e.code === '28000') return 'authentication';
  if (e.code === '42501') return 'authorization';
  // HTTP (Elasticsearch client, registry)
  const status = e.statusCode ?? e.meta?.statusCode ?? e.status;
  if (status === 401) return 'authentication';
  if (status === 403) return 'authorization';
  return undefined;
}

/** A start-up message naming the stage and what to check, or undefined when `err` is no auth failure. */
export function authFailureMessage(stage: string, err: unknown): string | undefined {
  const kind = classifyAuthFailure(err);
  if (!kind) return undefined;
  const vars = CREDENTIALS[stage] ?? 'its credentials';
  return kind === 'authentication'
    ? `${stage} refused the worker's credentials (${errorMessage(err)}); check ${vars}`
    : `${stage} authenticated the worker but denied it (${errorMessage(err)}); check the grants of the user in ${vars}`;
}
