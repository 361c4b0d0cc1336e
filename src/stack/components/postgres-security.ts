import type pg from 'pg';
import { quoteIdent } from '../../db/pg.js';
import type { StackConfig } from '../config.js';
import { scramSha256Verifier } from '../scram.js';

/**
 * pg_hba.conf of both clusters, secured or not: scram-sha-256 for every connection, over TCP and
 * over the Unix socket alike (initdb's `trust` for local connections would let any local account
 * that reaches the socket directory in as the superuser). Written before every start, so an older
 * data directory is brought in line too.
 */
export const PG_HBA = `# Written by src/stack/components/postgres-security.ts before every start.
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  scram-sha-256
host    all          all   127.0.0.1/32   scram-sha-256
host    all          all   ::1/128        scram-sha-256
local   replication  all                  scram-sha-256
host    replication  all   127.0.0.1/32   scram-sha-256
host    replication  all   ::1/128        scram-sha-256
`;

/**
 * Secured stack, reporting cluster: the least-privilege roles of mart-sql/reporting/003_roles.sql
 * get a login and their passwords, set as SCRAM verifiers (the plain text never reaches the server,
 * so not its log either). Their grants come with the migrations, per database.
 */
export async function provisionReportingRoles(cfg: StackConfig, client: pg.Client): Promise<void> {
  const sec = cfg.security;
  if (!sec) return;
  for (const role of [sec.pg.worker, sec.pg.reader]) {
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role.user]);
    const verb = exists.rowCount === 0 ? 'CREATE' : 'ALTER';
    // A verifier is not a secret in the way a password is, but it is still not logged on purpose:
    // the statement is built here because utility commands take no bind parameters.
    const verifier = scramSha256Verifier(role.password).replaceAll("'", "''");
    await client.query(`${verb} ROLE ${quoteIdent(role.user)} LOGIN PASSWORD '${verifier}'`);
  }
}

/** Reporting connection settings of the worker in the secured stack (its own role). */
export function workerReportingEnv(cfg: StackConfig): Record<string, string> {
  const sec = cfg.security;
  if (!sec) return {};
  return { REPORTING_PGUSER: sec.pg.worker.user, REPORTING_PGPASSWORD: sec.pg.worker.password };
}
