// The machine: how many cores, whether `taskset` can pin, which cores the servers and the load
// generator get, and how much memory a server's process tree holds.
import fs from 'node:fs';
import os from 'node:os';
import { spawnSync } from 'node:child_process';

export interface Machine {
  cores: number;
  cpuModel: string;
  taskset: boolean;
  node: string;
  os: string;
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  const taskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  return {
    cores: os.availableParallelism(), cpuModel: cpus[0]?.model.trim() ?? 'unknown', taskset,
    node: process.version, os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

export interface Placement {
  /** Cores for the server under test ("0" or "0,1"); undefined: not pinned. */
  server?: string;
  /** Cores for wrk and the other helpers (upstream server). */
  load?: string;
  /** True when the load generator shares a core with the server. */
  shared: boolean;
}

/** Server on the first `serverCores` cores, load on the next one when there is one. */
export function place(m: Machine, serverCores: number): Placement {
  if (!m.taskset || m.cores < 2) return { shared: true };
  const server = Array.from({ length: Math.min(serverCores, m.cores) }, (_, i) => i);
  const load = server.length < m.cores ? server.length : m.cores - 1;
  return { server: server.join(','), load: String(load), shared: server.includes(load) };
}

/** Prefix a command with `taskset -c CORES` when pinning applies. */
export function pinned(cores: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return cores === undefined ? [cmd, args] : ['taskset', ['-c', cores, cmd, ...args]];
}

/** Resident memory of a process and all its descendants, in bytes (Linux /proc; 0 elsewhere). */
export function treeRss(pid: number): number {
  let total = 0;
  for (const p of [pid, ...descendants(pid)]) total += rssOf(p);
  return total;
}

/** CPU time (user + system) used so far by a process and its live descendants, in seconds. */
export function treeCpuSeconds(pid: number): number {
  return [pid, ...descendants(pid)].reduce((sum, p) => sum + cpuSeconds(p), 0);
}

/** CPU time of one process (all its threads), in seconds; 0 when it is gone or not on Linux. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / clockTicks(); // utime, stime (fields 14 and 15)
  } catch {
    return 0;
  }
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    ticksPerSecond = Number(r.stdout?.trim()) || 100;
  }
  return ticksPerSecond;
}

/** The 1-minute load average: other work on the machine skews every figure. */
export function loadAverage(): number {
  return os.loadavg()[0];
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function descendants(root: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const e of entries) {
    try {
      // Field 4 of /proc/PID/stat is the parent; the name (field 2) may hold spaces, so cut after ')'.
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(e)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const out: number[] = [];
  const walk = (p: number) => { for (const c of children.get(p) ?? []) { out.push(c); walk(c); } };
  walk(root);
  return out;
}
