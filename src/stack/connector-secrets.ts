/**
 * The secrets of a connector config in a secured deployment, as Kafka Connect FileConfigProvider
 * references: the native secured stack (components/connect-security.ts) and compose's
 * connector-init job (compose/scripts/register-connector.mts) lay the same entries over
 * connectors/*.json: the Apicurio converters' registry login and Debezium's own PostgreSQL role,
 * every secret a `${file:<secretsFile>:key}` reference resolved inside Connect. No imports, so the
 * compose job can load it.
 */
export function connectorSecretRefs(secretsFile: string, debeziumUser: string): Record<string, string> {
  return {
    'database.user': debeziumUser,
    'database.password': `\${file:${secretsFile}:source.password}`,
    ...Object.fromEntries(
      ['key.converter', 'value.converter'].flatMap((c) => [
        [`${c}.apicurio.registry.auth.username`, `\${file:${secretsFile}:registry.username}`],
        [`${c}.apicurio.registry.auth.password`, `\${file:${secretsFile}:registry.password}`],
      ]),
    ),
  };
}
