// `npm run bench`: Redox against its peers on this machine, in one run. Prints the tables and
// the speed targets (bench/targets.ts) with PASS/MISS, writes bench/results.json and bench/chart.svg. See bench/README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeApps } from './apps';
import { renderChart } from './chart';
import { runContainmentBench } from './containment';
import { describeMachine, loadAverage } from './machine';
import { round } from './measure';
import { parseOptions, WORKLOADS, BenchOptions } from './options';
import { ensurePeers } from './peers';
import { prepareRedox } from './redox';
import { renderTargets, renderWorkload } from './report';
import { checkTargets } from './targets';
import { BenchContext, RUNNERS, WorkloadResult } from './workloads';
import { INSTALL_HINT, wrkAvailable } from './wrk';

const root = path.resolve(__dirname, '..', '..');
const benchDir = path.join(root, 'bench');
const say = (t: string) => process.stdout.write(t);
// Piped into `head`: keep measuring (and writing the files) when the reader goes away.
process.stdout.on('error', () => undefined);

async function main(): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const selected = WORKLOADS.filter((id) => opts.only.has(id));
  if (selected.some((id) => id !== 'w4') && !wrkAvailable()) {
    process.stderr.write(`${INSTALL_HINT}\n(only the cold-start workload runs without it: npm run bench -- --only w4)\n`);
    return 1;
  }
  const started = Date.now();
  const machine = describeMachine();
  say(`Redox bench: ${selected.join(', ')}; ${opts.rounds} x ${opts.duration} s rounds${opts.quick ? ' (--quick)' : ''}\n`);
  say(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.os}, node ${machine.node}, taskset ${machine.taskset ? 'yes' : 'no'}\n`);
  const loadBefore = loadAverage();
  if (loadBefore > 0.5) say(`note: the machine is busy (load average ${loadBefore.toFixed(2)} before the bench); other processes compete for the cores, so req/s will be noisy. The CPU % and req/CPU-s columns show how much of a core each server got.\n`);

  const needsPeers = selected.includes('w1') || selected.includes('w4');
  const peers = needsPeers ? ensurePeers(benchDir, !opts.noInstall, say) : { nodePath: '', versions: {}, notes: [] };
  for (const n of peers.notes) say(`note: ${n}\n`);
  const redox = prepareRedox(root, selected.includes('w3'), say);
  say(`redox: ${redox.describe}\n`);
  say(`peers: ${Object.entries(peers.versions).map(([n, v]) => `${n} ${v}`).join(', ') || '(none needed)'}\n\n`);

  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'redox-bench-'));
  process.on('exit', () => fs.rmSync(workdir, { recursive: true, force: true }));
  const ctx: BenchContext = { opts, machine, redox, peers, apps: writeApps(workdir), root, say };
  const results: WorkloadResult[] = [];
  for (const id of selected) {
    say(`== ${id} ==\n`);
    try {
      const r = await RUNNERS[id](ctx);
      results.push(r);
      say(`\n${renderWorkload(r)}\n`);
    } catch (err) {
      say(`${id} failed: ${(err as Error).stack ?? err}\n\n`);
      results.push({ id, title: `${id}: failed`, notes: [`failed: ${(err as Error).message.split('\n')[0]}`] });
    }
  }

  const targets = checkTargets(results, machine.cores);
  const minutes = (Date.now() - started) / 60000;
  say(`==== summary (${minutes.toFixed(1)} min; load average before: ${loadBefore.toFixed(2)}) ====\n\n${results.map(renderWorkload).join('\n')}\n${renderTargets(targets)}`);

  const partial = selected.length < WORKLOADS.length;
  const when = new Date().toISOString();
  const data = {
    generated: when, quick: opts.quick, partial, workloads: selected,
    settings: { rounds: opts.rounds, seconds: opts.duration, warmupSeconds: opts.warmup, coldRuns: opts.coldRuns },
    machine, loadAverageBefore: round(loadBefore, 2), redox: redox.describe, peers: peers.versions,
    results: results.map(compact), targets,
  };
  fs.writeFileSync(path.join(benchDir, 'results.json'), layout(data) + '\n');
  const subtitle = `${when.slice(0, 10)} · ${machine.cpuModel} · ${machine.cores} cores · node ${machine.node}` +
    `${opts.quick ? ' · --quick' : ''}${partial ? ` · only ${selected.join(',')}` : ''}`;
  fs.writeFileSync(path.join(benchDir, 'chart.svg'), renderChart(results, subtitle));
  say(`\nwrote bench/results.json and bench/chart.svg\n`);
  // Issue 10's containment figures: cost of the budget hook and of the watchdog, runaway timings.
  if (!partial) {
    await runContainmentBench(opts.quick);
    say('wrote bench/containment.json\n');
  }
  return 0;
}

/** Figures rounded so the committed results.json stays small and diffable. */
function compact(w: WorkloadResult): unknown {
  return {
    ...w,
    rows: w.rows?.map((r) => ({
      ...r, rps: round(r.rps, 0), p50: round(r.p50, 3), p99: round(r.p99, 3), rssMiB: round(r.rssMiB, 1), cpuPct: round(r.cpuPct, 0),
      reqPerCpuS: round(r.reqPerCpuS, 0), loadCpuPct: round(r.loadCpuPct, 0), startMs: round(r.startMs, 0),
    })),
    cold: w.cold?.map((c) => ({ ...c, medianMs: round(c.medianMs, 1), minMs: round(c.minMs, 1), maxMs: round(c.maxMs, 1) })),
  };
}

/** JSON with small values on one line each: short, and a diff shows which figure moved. */
function layout(v: unknown, indent = ''): string {
  const flat = JSON.stringify(v);
  if (flat === undefined || flat.length <= 110 || v === null || typeof v !== 'object') return flat ?? 'null';
  const inner = indent + '  ';
  if (Array.isArray(v)) return `[\n${v.map((x) => inner + layout(x, inner)).join(',\n')}\n${indent}]`;
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${layout(x, inner)}`).join(',\n')}\n${indent}}`;
}

main().then((code) => { process.exitCode = code; }, (err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
