import type pg from 'pg';
import { quoteIdent } from '../../db/pg.js';
import type { StackConfig } from '../config.js';
import { scramSha256Verifier } from '../scram.js';
import type { Principal } from '../security.js';

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
 * Secured stack: the least-privilege roles a cluster's migrations create NOLOGIN get a login and
 * their passwords, set as SCRAM verifiers (the plain text never reaches the server, so not its log
 * either). Their grants come with the migrations, per database:
 *   reporting  ride_cdc_worker, reporting_reader   (mart-sql/reporting/003_roles.sql)
 *   source     ride_cdc_debezium, with REPLICATION (mart-sql/source/003_debezium_role.sql)
 */
export function loginRoles(cfg: StackConfig, cluster: 'source' | 'reporting'): Principal[] {
  const sec = cfg.security;
  if (!sec) return [];
  return cluster === 'source' ? [sec.pg.debezium] : [sec.pg.worker, sec.pg.reader];
}

export async function provisionLoginRoles(
  cfg: StackConfig,
  cluster: 'source' | 'reporting',
  client: pg.Client,
): Promise<void> {
  await setRoleLogins(client, loginRoles(cfg, cluster), { replication: cluster === 'source' });
}

/**
 * Gives each role a login and its password (as a SCRAM verifier); also used by compose's pg-roles
 * job (compose/scripts/pg-roles.mts). `replication`: the roles keep the REPLICATION attribute the
 * migration gave them (stated again: a role that lost it fails the connector less obviously).
 */
export async function setRoleLogins(
  client: pg.Client,
  roles: Principal[],
  opts: { replication: boolean },
): Promise<void> {
  for (const role of roles) {
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role.user]);
    const verb = exists.rowCount === 0 ? 'CREATE' : 'ALTER';
    // A verifier is not a secret in the way a password is, but it is still not logged on purpose:
    // the statement is built here because utility commands take no bind parameters.
    const verifier = scramSha256Verifier(role.password).replaceAll("'", "''");
    await client.query(
      `${verb} ROLE ${quoteIdent(role.user)} LOGIN${opts.replication ? ' REPLICATION' : ''} PASSWORD '${verifier}'`,
    );
  }
}

/** Reporting connection settings of the worker in the secured stack (its own role). */
export function workerReportingEnv(cfg: StackConfig): Record<string, string> {
  const sec = cfg.security;
  if (!sec) return {};
  return { REPORTING_PGUSER: sec.pg.worker.user, REPORTING_PGPASSWORD: sec.pg.worker.password };
}
