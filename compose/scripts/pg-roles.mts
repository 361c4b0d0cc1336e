/**
 * compose one-shot of the secured stack (docker-compose.secure.yml), after `migrate`: the
 * least-privilege roles the migrations create NOLOGIN get their logins and passwords, with the
 * native secured stack's own code (src/stack/components/postgres-security.ts):
 *   source-db     ride_cdc_debezium (REPLICATION; SELECT on the captured tables) — Debezium
 *   reporting-db  ride_cdc_worker (writes mart), reporting_reader (views and facts, read-only)
 * The superuser `user` logs in with STACK_PGPASSWORD. Idempotent: a re-run sets the same passwords.
 * Runs with `node --import tsx` inside the ride-cdc image, mounted at /app/compose/scripts.
 */
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { setRoleLogins } from '../../src/stack/components/postgres-security.js';
import type { Principal } from '../../src/stack/security.js';

interface Cluster {
  host: string;
  database: string;
  roles: Principal[];
  replication: boolean;
}

/** Both clusters and their roles from the environment; a missing variable fails before any login. */
export function pgRolesPlan(env: NodeJS.ProcessEnv): { superuserPassword: string; clusters: Cluster[] } {
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new Error(`${name} is not set`);
    return v;
  };
  return {
    superuserPassword: need('STACK_PGPASSWORD'),
    clusters: [
      {
        host: need('SOURCE_PGHOST'),
        database: need('SOURCE_PGDB'),
        roles: [{ user: 'ride_cdc_debezium', password: need('STACK_DEBEZIUM_PGPASSWORD') }],
        replication: true,
      },
      {
        host: need('REPORTING_PGHOST'),
        database: need('REPORTING_PGDB'),
        roles: [
          { user: 'ride_cdc_worker', password: need('STACK_WORKER_PGPASSWORD') },
          { user: 'reporting_reader', password: need('STACK_READER_PGPASSWORD') },
        ],
        replication: false,
      },
    ],
  };
}

async function main(): Promise<void> {
  const plan = pgRolesPlan(process.env);
  for (const c of plan.clusters) {
    const client = new pg.Client({
      host: c.host,
      port: 5432,
      database: c.database,
      user: 'user',
      password: plan.superuserPassword,
    });
    await client.connect();
    try {
      await setRoleLogins(client, c.roles, { replication: c.replication });
    } finally {
      await client.end();
    }
    console.log(`pg-roles: ${c.host}: ${c.roles.map((r) => r.user).join(', ')} can log in`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: Error) => {
    console.error(`pg-roles: ${err.message}`);
    process.exit(1);
  });
}
