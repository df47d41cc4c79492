// Measuring a group of contenders under the same load: all servers start first, each gets a
// warm-up, then the rounds are interleaved (A B C, A B C, ...) so a slow drift of the machine
// (thermal, a noisy neighbour) spreads over every contender instead of landing on one.
import { freePort, RunningServer, ServerSpec, startServer } from './server';
import { runWrk, WrkResult } from './wrk';

export interface Contender {
  name: string;
  /** The server to run, or why this contender is skipped. */
  spec: ServerSpec | { skip: string };
  /** Cores the server is pinned to (undefined: not pinned). */
  cores?: string;
  /** Path (and query) wrk requests; "/" when absent. */
  path?: string;
}

export interface Load {
  connections: number;
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  loadCores?: string;
  timeout?: string;
  workdir: string;
}

export interface Row {
  name: string;
  /** Medians over the rounds. */
  rps: number;
  p50: number;
  p99: number;
  /** Peak resident memory of the server's process tree during the rounds, in MiB. */
  rssMiB: number;
  /** Median share of one core the server used during a round (100 = one full core). */
  cpuPct: number;
  /** Requests served per CPU-second of the server: less sensitive than req/s to other work on the machine. */
  reqPerCpuS: number;
  /** Median share of a core wrk used: near 100, the load generator (not the server) was the limit. */
  loadCpuPct: number;
  errors: number;
  requests: number;
  rounds: { rps: number; p50: number; p99: number; cpuPct: number }[];
  startMs: number;
  skipped?: string;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function skippedRow(name: string, why: string): Row {
  return { name, rps: 0, p50: 0, p99: 0, rssMiB: 0, cpuPct: 0, reqPerCpuS: 0, loadCpuPct: 0, errors: 0, requests: 0, rounds: [], startMs: 0, skipped: why };
}

export async function measureGroup(contenders: Contender[], load: Load, say: (t: string) => void): Promise<Row[]> {
  const running = new Map<string, RunningServer>();
  const rows = new Map<string, Row>();
  const results = new Map<string, (WrkResult & { cpu: number })[]>();
  const peaks = new Map<string, number>();
  try {
    for (const c of contenders) {
      if ('skip' in c.spec) {
        rows.set(c.name, skippedRow(c.name, c.spec.skip));
        continue;
      }
      try {
        running.set(c.name, await startServer(c.spec, await freePort(), c.cores));
        results.set(c.name, []);
      } catch (err) {
        rows.set(c.name, skippedRow(c.name, `did not start: ${firstLines((err as Error).message)}`));
        say(`    ${c.name}: did not start:\n${indent((err as Error).message)}\n`);
      }
    }
    for (const [name, srv] of running) {
      say(`    warm-up ${name} (${load.warmupSeconds} s)\n`);
      try {
        await wrk(srv, load, load.warmupSeconds, contenders.find((c) => c.name === name)?.path);
      } catch (err) {
        say(`    ${name} failed in the warm-up:\n${indent((err as Error).message)}\n`);
        rows.set(name, skippedRow(name, `failed under load in the warm-up: ${firstLines((err as Error).message)}`));
        results.delete(name);
        running.delete(name);
        await srv.stop();
      }
    }
    const pathOf = new Map(contenders.map((c) => [c.name, c.path]));
    for (let r = 1; r <= load.rounds; r++) {
      for (const [name, srv] of running) {
        const peak = { v: peaks.get(name) ?? 0 };
        const sampler = setInterval(() => { peak.v = Math.max(peak.v, srv.rss()); }, 250);
        try {
          const cpu0 = srv.cpuSeconds();
          const res = await wrk(srv, load, load.seconds, pathOf.get(name));
          const cpu = srv.cpuSeconds() - cpu0;
          results.get(name)!.push({ ...res, cpu });
          say(`    round ${r}/${load.rounds} ${name.padEnd(28)} ${fmt(res.rps)} req/s  p50 ${res.p50.toFixed(2)} ms  p99 ${res.p99.toFixed(2)} ms  cpu ${((100 * cpu) / res.seconds).toFixed(0)}%  wrk ${res.loadCpuPct.toFixed(0)}%${res.errors ? `  errors ${res.errors}` : ''}\n`);
        } catch (err) {
          // One contender failing (a crash under load) must not cost the others their figures.
          say(`    ${name} failed in round ${r}:\n${indent((err as Error).message)}\n`);
          rows.set(name, skippedRow(name, `failed under load in round ${r}: ${firstLines((err as Error).message)}`));
          results.delete(name);
          running.delete(name);
          await srv.stop();
        } finally {
          clearInterval(sampler);
          peak.v = Math.max(peak.v, srv.rss());
          peaks.set(name, peak.v);
        }
      }
    }
  } finally {
    await Promise.all([...running.values()].map((s) => s.stop()));
  }
  for (const [name, res] of results) {
    rows.set(name, {
      name,
      rps: median(res.map((x) => x.rps)), p50: median(res.map((x) => x.p50)), p99: median(res.map((x) => x.p99)),
      rssMiB: (peaks.get(name) ?? 0) / 1048576,
      cpuPct: median(res.map((x) => (100 * x.cpu) / x.seconds)),
      reqPerCpuS: res.reduce((a, x) => a + x.requests, 0) / Math.max(1e-9, res.reduce((a, x) => a + x.cpu, 0)),
      loadCpuPct: median(res.map((x) => x.loadCpuPct)),
      errors: res.reduce((a, x) => a + x.errors, 0), requests: res.reduce((a, x) => a + x.requests, 0),
      rounds: res.map((x) => ({ rps: round(x.rps, 0), p50: round(x.p50, 3), p99: round(x.p99, 3), cpuPct: round((100 * x.cpu) / x.seconds, 0) })),
      startMs: running.get(name)!.readyMs,
    });
  }
  return contenders.map((c) => rows.get(c.name)!);
}

function wrk(srv: RunningServer, load: Load, seconds: number, path?: string): Promise<WrkResult> {
  return runWrk({ url: path ? new URL(path, srv.url).href : srv.url, connections: load.connections, seconds, cores: load.loadCores, timeout: load.timeout, workdir: load.workdir });
}

export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
export const round = (n: number, digits: number) => Number(n.toFixed(digits));
const firstLines = (s: string) => s.split('\n').slice(0, 3).join(' / ');
const indent = (s: string) => s.split('\n').map((l) => `      ${l}`).join('\n');
