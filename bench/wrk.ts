// Runs wrk and reads its figures from a Lua `done` callback that prints one JSON line, so the
// percentiles come from wrk's own HDR histogram instead of parsing its human-readable table.
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { track } from './children';
import { cpuSeconds, pinned } from './machine';

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number; // milliseconds
  p99: number;
  max: number;
  /** Socket errors, timeouts and non-2xx/3xx responses. */
  errors: number;
  /** Share of a core wrk itself used (sampled; near 100 means the load generator was the limit). */
  loadCpuPct: number;
}

const DONE_SCRIPT = String.raw`
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%.0f,"p99_us":%.0f,"max_us":%.0f,"errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.status + e.timeout))
end
`;

export const INSTALL_HINT = 'wrk is not installed: install it with `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk` (macOS)';

export function wrkAvailable(): boolean {
  return spawnSync('wrk', ['--version']).error === undefined;
}

export interface WrkRun {
  url: string;
  connections: number;
  seconds: number;
  cores?: string;
  /** Per-request timeout; wrk's default 2 s would count slow answers as errors. */
  timeout?: string;
  workdir: string;
}

export function runWrk(run: WrkRun): Promise<WrkResult> {
  const script = path.join(run.workdir, 'wrk-done.lua');
  if (!fs.existsSync(script)) fs.writeFileSync(script, DONE_SCRIPT);
  const args = ['-t1', `-c${run.connections}`, `-d${run.seconds}s`, `--timeout`, run.timeout ?? '10s', '-s', script, run.url];
  const [cmd, argv] = pinned(run.cores, 'wrk', args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    // /proc is gone once wrk exits, so keep the last sample of its CPU time.
    const t0 = Date.now();
    let loadCpuPct = 0;
    const sampler = setInterval(() => {
      const cpu = cpuSeconds(child.pid!);
      if (cpu > 0) loadCpuPct = (100 * cpu * 1000) / (Date.now() - t0);
    }, 200);
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', (err) => { clearInterval(sampler); reject(err); });
    child.on('close', (code) => {
      clearInterval(sampler);
      const line = out.split('\n').find((l) => l.startsWith('BENCH_JSON '));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (exit ${code}) on ${run.url}:\n${out.trim()}`));
      const j = JSON.parse(line.slice('BENCH_JSON '.length));
      const seconds = j.duration_us / 1e6;
      resolve({
        requests: j.requests, seconds, rps: j.requests / seconds,
        p50: j.p50_us / 1000, p99: j.p99_us / 1000, max: j.max_us / 1000, errors: j.errors, loadCpuPct,
      });
    });
  });
}
