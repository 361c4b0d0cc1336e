import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunAs } from './user.js';

/**
 * Detached service processes with pid files. Each service is started in its own process group
 * (detached: true), so stopping signals the whole group: the Elasticsearch CLI launcher and the
 * server JVM it forks, or the postmaster and its backends, go down together and nothing is orphaned.
 */

export interface PidRecord {
  pid: number;
  /** A substring of /proc/<pid>/cmdline: guards against a recycled pid after a reboot. */
  match: string;
  startedAt: string;
}

export interface StartSpec {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logFile: string;
  pidFile: string;
  match: string;
  runAs?: RunAs;
}

export async function startDetached(spec: StartSpec): Promise<PidRecord> {
  await mkdir(dirname(spec.logFile), { recursive: true });
  await mkdir(dirname(spec.pidFile), { recursive: true });
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
      ...(spec.runAs ? { uid: spec.runAs.uid, gid: spec.runAs.gid } : {}),
    });
    const pid = await new Promise<number>((res, rej) => {
      child.once('spawn', () => res(child.pid as number));
      child.once('error', rej);
    });
    child.unref();
    const rec: PidRecord = { pid, match: spec.match, startedAt: new Date().toISOString() };
    await writeFile(spec.pidFile, `${JSON.stringify(rec)}\n`);
    return rec;
  } finally {
    closeSync(fd);
  }
}

export function readPid(pidFile: string): PidRecord | undefined {
  if (!existsSync(pidFile)) return undefined;
  try {
    return JSON.parse(readFileSync(pidFile, 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
}

function cmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

function isZombie(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Alive and still the process we started (not a recycled pid, not a zombie). */
export function isOurs(rec: PidRecord | undefined): rec is PidRecord {
  if (!rec) return false;
  const cmd = cmdline(rec.pid);
  return cmd !== undefined && cmd.includes(rec.match) && !isZombie(rec.pid);
}

interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
}

function procTable(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after "(comm)": state ppid pgrp ...; comm may contain spaces, so split after ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (rest[0] !== 'Z') out.push({ pid: Number(entry), ppid: Number(rest[1]), pgid: Number(rest[2]) });
    } catch {
      // the process exited while we were looking
    }
  }
  return out;
}

/**
 * Every live process of a service: its process group plus all descendants. PostgreSQL children
 * call setsid() and leave the postmaster's group, so the group alone would miss them.
 */
export function groupMembers(pgid: number): number[] {
  const table = procTable();
  const members = new Set(table.filter((p) => p.pgid === pgid).map((p) => p.pid));
  for (let grew = true; grew;) {
    grew = false;
    for (const p of table) {
      if (!members.has(p.pid) && members.has(p.ppid)) {
        members.add(p.pid);
        grew = true;
      }
    }
  }
  return [...members];
}

/** Resident memory of the service's processes, in bytes (shared pages counted per process). */
export function groupRss(pgid: number): number {
  let kb = 0;
  for (const pid of groupMembers(pgid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      kb += m ? Number(m[1]) : 0;
    } catch {
      // exited meanwhile
    }
  }
  return kb * 1024;
}

/**
 * Signals the group, waits up to `timeoutMs` for every member to exit, then SIGKILLs whatever is
 * left. Returns how it ended so `down` can say so.
 */
export async function stopGroup(
  rec: PidRecord,
  signal: NodeJS.Signals,
  timeoutMs: number,
): Promise<'not-running' | 'stopped' | 'killed'> {
  const r: PidRecord = rec; // isOurs() narrows `rec` away in the branch below
  if (!isOurs(rec)) {
    // The leader is gone, but a child it forked may live on in the group (the ES server JVM
    // after its launcher died): stop those that still name our config, never anything else.
    const strays = groupMembers(r.pid).filter((pid) => cmdline(pid)?.includes(r.match));
    for (const pid of strays) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    return strays.length > 0 ? 'killed' : 'not-running';
  }
  try {
    process.kill(-rec.pid, signal);
  } catch {
    return 'not-running';
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (groupMembers(rec.pid).length === 0) return 'stopped';
    await sleep(200);
  }
  // The group and every descendant that left it (PostgreSQL backends call setsid()).
  for (const pid of groupMembers(rec.pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const killDeadline = Date.now() + 5000;
  while (Date.now() < killDeadline && groupMembers(rec.pid).length > 0) await sleep(100);
  return 'killed';
}

export async function removePid(pidFile: string): Promise<void> {
  await rm(pidFile, { force: true });
}
