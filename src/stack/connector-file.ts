import { basename } from 'node:path';

/**
 * connectors/*.json hold `${NAME}` / `${NAME:-default}` placeholders for everything that depends
 * on where the stack runs (host, port, credentials, registry URL), so the same file serves compose
 * and the native stack. `${env:NAME}` is Kafka Connect's EnvVarConfigProvider syntax: filled too
 * when NAME is known here, otherwise left for Connect to resolve from its own environment. Other
 * providers (`${file:...}`) are untouched. The one implementation: the native stack
 * (src/stack/connector.ts) and the compose job (compose/scripts/register-connector.mts) both use
 * it, so it imports Node built-ins only.
 */
const PLACEHOLDER = /\$\{(env:)?([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g;

export interface ConnectorRequest {
  name: string;
  config: Record<string, unknown>;
}

/** Fills placeholders in every string value; returns the names that had no value and no default. */
export function fillPlaceholders<T>(
  value: T,
  env: Record<string, string | undefined>,
): { value: T; missing: string[] } {
  const missing = new Set<string>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return v.replace(
        PLACEHOLDER,
        (whole, provider: string | undefined, name: string, fallback: string | undefined) => {
          const got = env[name];
          if (got !== undefined && got !== '') return got;
          if (fallback !== undefined) return fallback;
          if (!provider) missing.add(name);
          return whole;
        },
      );
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return { value: walk(value) as T, missing: [...missing].sort() };
}

/**
 * Accepts both connector file shapes — `{ "name": ..., "config": {...} }` (the POST /connectors
 * shape) or a flat config object (then the file name is the connector name) — and returns the
 * name and the config to PUT.
 */
export function toConnectorRequest(parsed: unknown, fileName: string): ConnectorRequest {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${fileName}: expected a JSON object`);
  }
  const obj = parsed as Record<string, unknown>;
  if (obj.config !== null && typeof obj.config === 'object' && !Array.isArray(obj.config)) {
    const config = obj.config as Record<string, unknown>;
    const name =
      typeof obj.name === 'string'
        ? obj.name
        : typeof config.name === 'string'
          ? config.name
          : basename(fileName, '.json');
    return { name, config: { ...config, name } };
  }
  const name = typeof obj.name === 'string' ? obj.name : basename(fileName, '.json');
  return { name, config: { ...obj, name } };
}

/** Parsed file → filled request; an unresolved placeholder fails before anything is sent. */
export function fillConnectorFile(
  parsed: unknown,
  fileName: string,
  env: Record<string, string | undefined>,
): ConnectorRequest {
  const { value, missing } = fillPlaceholders(parsed, env);
  if (missing.length > 0) throw new Error(`${fileName}: no value for ${missing.join(', ')}`);
  return toConnectorRequest(value, fileName);
}
