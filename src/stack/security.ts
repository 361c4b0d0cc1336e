import type { EnvReader } from '../config/env.js';

/**
 * The secured mode of the native stack (`stack up --secure`, or STACK_SECURE=true): Kafka on
 * SASL_SSL/SCRAM-SHA-512 with ACLs, Kafka Connect REST behind basic auth, the registry behind basic
 * auth with roles, Elasticsearch on HTTPS with users, PostgreSQL scram-sha-256 everywhere with
 * least-privilege roles. Every secret comes from its own variable; none has a default, and a
 * development value is refused, so a secured run can never come up with credentials anyone knows.
 */
export interface StackSecurity {
  kafka: { admin: Principal; connect: Principal; worker: Principal };
  connectRest: Principal;
  registry: { admin: Principal; connect: Principal; worker: Principal };
  es: { admin: Principal; worker: Principal };
  /** PostgreSQL roles besides the superuser (STACK_PGUSER / STACK_PGPASSWORD, validated here). */
  pg: { worker: Principal; reader: Principal; debezium: Principal; superuserPassword: string };
}

export interface Principal {
  user: string;
  password: string;
}

/** One row per secret: the variable, the account it belongs to, what it is for. */
export const SECRET_VARIABLES = [
  [
    'STACK_PGPASSWORD',
    'PostgreSQL superuser (STACK_PGUSER) of both databases: the stack and migrations only',
  ],
  [
    'STACK_DEBEZIUM_PGPASSWORD',
    'PostgreSQL role ride_cdc_debezium (REPLICATION, SELECT on the captured tables)',
  ],
  ['STACK_WORKER_PGPASSWORD', 'PostgreSQL role ride_cdc_worker, which writes the mart'],
  ['STACK_READER_PGPASSWORD', 'PostgreSQL role reporting_reader (analysts, dashboards: views and facts)'],
  ['STACK_KAFKA_ADMIN_PASSWORD', 'Kafka super user admin (inter-broker, stack provisioning)'],
  ['STACK_KAFKA_CONNECT_PASSWORD', 'Kafka principal connect (Kafka Connect writes the CDC topics)'],
  ['STACK_KAFKA_WORKER_PASSWORD', 'Kafka principal ride-cdc-worker (reads CDC topics, writes the DLQ)'],
  ['STACK_CONNECT_REST_PASSWORD', 'Kafka Connect REST API user connect-admin'],
  ['STACK_REGISTRY_ADMIN_PASSWORD', 'registry user registry-admin (sr-admin)'],
  ['STACK_REGISTRY_CONNECT_PASSWORD', 'registry user connect (sr-developer: registers schemas)'],
  ['STACK_REGISTRY_WORKER_PASSWORD', 'registry user ride-cdc-worker (sr-readonly)'],
  ['STACK_ES_PASSWORD', 'Elasticsearch superuser elastic'],
  ['STACK_ES_WORKER_PASSWORD', 'Elasticsearch user ride-cdc-worker (its indices only)'],
] as const;
export type SecretVariable = (typeof SECRET_VARIABLES)[number][0];

/**
 * Values that are published somewhere (this repo's defaults, compose's .env.example, vendor
 * defaults): a secured run refuses them. Compared case-insensitively.
 */
const KNOWN_VALUES = [
  'password',
  'user',
  'sa',
  'admin',
  'changeme',
  'secret',
  'ride-cdc-elastic',
  'ride-cdc-kibana',
  'ride-cdc-grafana',
];
const MIN_LENGTH = 12;

export const KAFKA_SUPER_USER = 'admin';
export const KAFKA_CONNECT_USER = 'connect';
export const KAFKA_WORKER_USER = 'ride-cdc-worker';
/** Created with its grants by mart-sql/source/003_debezium_role.sql; given a login by the stack. */
export const DEBEZIUM_PG_ROLE = 'ride_cdc_debezium';

/** Reads the secured-mode settings; undefined when the stack runs open (development). */
export function readStackSecurity(r: EnvReader): StackSecurity | undefined {
  if (!r.bool('STACK_SECURE', false)) return undefined;
  const secret = (name: SecretVariable): string => {
    const v = r.optional(name);
    const what = SECRET_VARIABLES.find(([n]) => n === name)?.[1];
    if (v === undefined) {
      r.fail(`${name} is not set: a secured stack needs it (${what}); e.g. ${name}=$(openssl rand -hex 16)`);
      return '';
    }
    // Never echo the value: only why it is refused.
    if (KNOWN_VALUES.includes(v.toLowerCase()))
      r.fail(`${name} is a development default: set ${name} to a secret of your own (${what})`);
    else if (v.length < MIN_LENGTH) r.fail(`${name} is shorter than ${MIN_LENGTH} characters (${what})`);
    else if (/["'\\\s$]/.test(v))
      r.fail(
        `${name} contains a quote, backslash, $ or whitespace: use letters, digits and -_.+/=: (it is embedded in JAAS and properties files)`,
      );
    return v;
  };
  return {
    kafka: {
      admin: { user: KAFKA_SUPER_USER, password: secret('STACK_KAFKA_ADMIN_PASSWORD') },
      connect: { user: KAFKA_CONNECT_USER, password: secret('STACK_KAFKA_CONNECT_PASSWORD') },
      worker: { user: KAFKA_WORKER_USER, password: secret('STACK_KAFKA_WORKER_PASSWORD') },
    },
    connectRest: { user: 'connect-admin', password: secret('STACK_CONNECT_REST_PASSWORD') },
    registry: {
      admin: { user: 'registry-admin', password: secret('STACK_REGISTRY_ADMIN_PASSWORD') },
      connect: { user: 'connect', password: secret('STACK_REGISTRY_CONNECT_PASSWORD') },
      worker: { user: 'ride-cdc-worker', password: secret('STACK_REGISTRY_WORKER_PASSWORD') },
    },
    es: {
      admin: { user: 'elastic', password: secret('STACK_ES_PASSWORD') },
      worker: { user: 'ride-cdc-worker', password: secret('STACK_ES_WORKER_PASSWORD') },
    },
    pg: {
      worker: { user: 'ride_cdc_worker', password: secret('STACK_WORKER_PGPASSWORD') },
      reader: { user: 'reporting_reader', password: secret('STACK_READER_PGPASSWORD') },
      debezium: { user: DEBEZIUM_PG_ROLE, password: secret('STACK_DEBEZIUM_PGPASSWORD') },
      superuserPassword: secret('STACK_PGPASSWORD'),
    },
  };
}

/** Every configured secret, e.g. to scan logs for them. */
export function allSecrets(s: StackSecurity): string[] {
  return [
    s.pg.superuserPassword,
    s.pg.worker.password,
    s.pg.reader.password,
    s.pg.debezium.password,
    ...[s.kafka, s.registry, s.es].flatMap((g) => Object.values(g).map((p: Principal) => p.password)),
    s.connectRest.password,
  ];
}

/** Fresh random values for every secret, as an env file (`stack secrets`). */
export function generateSecretsEnv(random: (bytes: number) => string): string {
  return `${['STACK_SECURE=true', ...SECRET_VARIABLES.map(([n]) => `${n}=${random(18)}`)].join('\n')}\n`;
}
