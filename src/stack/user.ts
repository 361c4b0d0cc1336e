import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * PostgreSQL and Elasticsearch refuse to run as root. When the stack is started by root (CI, this
 * dev machine) they run as an unprivileged system account, created on first use; as a normal user
 * everything runs as that user and no account is touched.
 */
export interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

let cached: RunAs | null | undefined;

export function serviceAccount(name: string): RunAs | undefined {
  if (cached !== undefined) return cached ?? undefined;
  if (process.getuid?.() !== 0) {
    cached = null;
    return undefined;
  }
  // stderr is not inherited: on a new machine the first probe fails by design ("no such user").
  const idOf = (flag: string) =>
    Number(execFileSync('id', [flag, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim());
  try {
    cached = { uid: idOf('-u'), gid: idOf('-g'), name };
  } catch {
    execFileSync(
      'useradd',
      ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', name],
      {
        stdio: 'ignore',
      },
    );
    cached = { uid: idOf('-u'), gid: idOf('-g'), name };
  }
  return cached;
}

/** Hands a directory tree to the service account (no-op when not root). */
export function chownTree(path: string, runAs: RunAs | undefined): void {
  if (!runAs) return;
  execFileSync('chown', ['-R', `${runAs.uid}:${runAs.gid}`, path]);
}

/**
 * Whether an unrelated account can reach `path`: every ancestor directory must be searchable by
 * "others" (o+x). A checkout under /root is not, and PostgreSQL/Elasticsearch running as the
 * service account could then not read their binaries or data.
 */
export function othersCanTraverse(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      if ((statSync(dir).mode & 0o001) === 0) return false;
    } catch {
      // not created yet: its parent decides
    }
    if (dirname(dir) === dir) return true;
  }
}
