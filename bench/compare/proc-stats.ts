import { readFileSync } from 'node:fs';

/**
 * CPU time and peak resident memory of processes, read from /proc (Linux). A sampler polls while
 * a peer runs, because a JVM or worker that exits takes its /proc entry with it: the last sample
 * before exit is what is reported (CPU to within one poll interval).
 */

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export interface ProcSample {
  cpuSeconds: number;
  /** VmHWM: the process's peak resident set so far, in bytes. */
  peakRssBytes: number;
}

export function readProc(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return { cpuSeconds, peakRssBytes: hwm ? Number(hwm[1]) * 1024 : 0 };
  } catch {
    return null; // gone
  }
}

/** Polls a set of pids; `stop()` returns the summed CPU and the summed peak RSS of their last samples. */
export function sampleProcesses(pids: () => readonly number[], intervalMs = 250) {
  const last = new Map<number, ProcSample>();
  const poll = () => {
    for (const pid of pids()) {
      const s = readProc(pid);
      if (s) last.set(pid, s);
    }
  };
  poll();
  const timer = setInterval(poll, intervalMs);
  return {
    stop(): ProcSample {
      poll();
      clearInterval(timer);
      let cpuSeconds = 0;
      let peakRssBytes = 0;
      for (const s of last.values()) {
        cpuSeconds += s.cpuSeconds;
        peakRssBytes += s.peakRssBytes;
      }
      return { cpuSeconds, peakRssBytes };
    },
  };
}

/** This process's own CPU seconds so far (user + system). */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
