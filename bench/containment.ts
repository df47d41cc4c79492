// `npm run bench` (containment part; alone: `node build/bench/containment.js [--quick]`):
//   1. what containment costs, side by side in one run: the same app with budgets and watchdog
//      off, with the budget hook only (--watchdog-grace 0), and with both (the defaults);
//   2. each runaway case of test/support/runaways.ts against a server with the default 1 s CPU budget: when its
//      request ends (vs budget + 1 s), how fast a concurrent request is answered, and how long a
//      forced stop's VM reboot took.
// Writes bench/containment.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { describeMachine, loadAverage } from './machine';
import { freePort, startServer } from './server';
import { runWrk } from './wrk';
import { RUNAWAY_APP, RUNAWAY_CASES } from '../test/support/runaways';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'build', 'cli', 'main.js');
const say = (t: string) => process.stdout.write(t);
const BUDGET_MS = 1000;

const APPS: Record<string, string> = {
  'seed.lua': 'get("/", function() return json.encode({id = 1, name = "Alice", uuid = uuid.v4()}) end)\n',
  // Lua-heavy: where a count hook costs most (Lua 5.4 traps every instruction while one is set).
  'loop.lua': 'get("/", function() local s = 0 for i = 1, 2000 do s = s + i % 7 end return tostring(s) end)\n',
};

const CONFIGS: { name: string; flags: string[] }[] = [
  { name: 'budgets off, watchdog off', flags: ['--cpu-budget', '0', '--memory-limit', '0'] },
  { name: 'budget hook only', flags: ['--watchdog-grace', '0'] },
  { name: 'budget hook + watchdog (defaults)', flags: [] },
];

interface Args { quick: boolean; skip: boolean }


function parseArgs(argv: string[]): Args {
  const only = argv.indexOf('--only');
  // `npm run bench -- --only w1` passes its options here too: run only when asked for.
  const skip = only >= 0 && !String(argv[only + 1] ?? '').split(',').includes('containment');
  return { quick: argv.includes('--quick'), skip };
}

interface Cost { rps: number; reqPerCpuS: number }

async function costs(workdir: string, quick: boolean): Promise<Record<string, Record<string, Cost>>> {
  const cores = describeMachine().cores >= 2 ? { server: '0', load: '1' } : { server: undefined, load: undefined };
  const rounds = quick ? 1 : 3;
  const seconds = quick ? 3 : 5;
  const out: Record<string, Record<string, Cost>> = {};
  for (const app of Object.keys(APPS)) {
    const runs: Record<string, Cost[]> = {};
    // Rounds interleave the configurations so drift on a shared machine hits all of them alike.
    for (let round = 0; round < rounds; round++) {
      for (const c of CONFIGS) {
        const port = await freePort();
        const server = await startServer({ cmd: process.execPath, args: [cli, 'serve', path.join(workdir, app), '--features', 'uuid', ...c.flags], env: { REDOX_LOG_LEVEL: 'warn' } }, port, cores.server);
        try {
          await runWrk({ url: server.url, connections: 64, seconds: 1, cores: cores.load, workdir });
          const cpu0 = server.cpuSeconds();
          const r = await runWrk({ url: server.url, connections: 256, seconds, cores: cores.load, workdir });
          // Requests per CPU-second of the server: what a core buys, even when other programs
          // take CPU from it (req/s then measures the machine's load more than the server).
          (runs[c.name] ??= []).push({ rps: r.rps, reqPerCpuS: r.requests / Math.max(1e-3, server.cpuSeconds() - cpu0) });
        } finally {
          await server.stop();
        }
      }
    }
    const best: Record<string, Cost> = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, {
      rps: Math.max(...v.map((x) => x.rps)), reqPerCpuS: Math.max(...v.map((x) => x.reqPerCpuS)),
    }]));
    out[app] = best;
    const base = best[CONFIGS[0].name];
    say(`\n${app}: best of ${rounds} rounds; ratios to budgets off\n`);
    say(`  ${''.padEnd(36)} ${'req/s'.padStart(7)} ${'ratio'.padStart(7)} ${'req/CPU-s'.padStart(10)} ${'ratio'.padStart(7)}\n`);
    for (const c of CONFIGS) {
      const b = best[c.name];
      say(`  ${c.name.padEnd(36)} ${Math.round(b.rps).toString().padStart(7)} ${(b.rps / base.rps).toFixed(3).padStart(6)}x ${Math.round(b.reqPerCpuS).toString().padStart(10)} ${(b.reqPerCpuS / base.reqPerCpuS).toFixed(3).padStart(6)}x\n`);
    }
    const hook = best[CONFIGS[1].name];
    const both = best[CONFIGS[2].name];
    say(`  per CPU-second: the budget hook costs ${pct(hook.reqPerCpuS / base.reqPerCpuS)}, the watchdog on top ${pct(both.reqPerCpuS / hook.reqPerCpuS)} ` +
      `(req/s: ${pct(hook.rps / base.rps)}, ${pct(both.rps / hook.rps)})\n`);
  }
  return out;
}

const pct = (ratio: number) => `${((1 - ratio) * 100).toFixed(1)}%`;

interface CaseTiming { name: string; status: number | string; endMs: number; withinBudgetPlus1s: boolean; concurrentMs: number; concurrentStatus: number | string; rebootMs?: number; firstOkAfterMs?: number }

async function runaways(workdir: string): Promise<CaseTiming[]> {
  fs.writeFileSync(path.join(workdir, 'runaway.lua'), RUNAWAY_APP);
  const port = await freePort();
  const child = spawn(process.execPath, [cli, 'serve', 'runaway.lua', '--features', 'sqlite', '--port', String(port)], { cwd: workdir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  const get = async (p: string, init?: RequestInit) => {
    const t = performance.now();
    try {
      const r = await fetch(url + p, init);
      await r.text();
      return { status: r.status as number | string, ms: performance.now() - t };
    } catch {
      return { status: 'error' as number | string, ms: performance.now() - t };
    }
  };
  try {
    for (let i = 0; ; i++) {
      if ((await get('/ok')).status === 200) break;
      if (i > 300) throw new Error(`the runaway server did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const rows: CaseTiming[] = [];
    for (const c of RUNAWAY_CASES) {
      const reboots = (log.match(/"Lua VM rebooted"/g) ?? []).length;
      const runaway = get(c.path, { method: c.method ?? 'GET', body: c.body });
      await new Promise((r) => setTimeout(r, 100));
      const concurrent = await get('/ok');
      const end = await runaway;
      // After a forced stop: the first 200 once the stopped request was answered.
      const after = await get('/ok');
      await new Promise((r) => setTimeout(r, 50));
      const rebootLines = [...log.matchAll(/"msg":"Lua VM rebooted","reboot_ms":([\d.]+)/g)];
      const rebooted = rebootLines.length > reboots ? Number(rebootLines[rebootLines.length - 1][1]) : undefined;
      const row: CaseTiming = {
        name: c.name, status: end.status, endMs: Math.round(end.ms), withinBudgetPlus1s: end.ms <= BUDGET_MS + 1000,
        concurrentMs: Math.round(concurrent.ms), concurrentStatus: concurrent.status,
        ...(rebooted !== undefined ? { rebootMs: rebooted, firstOkAfterMs: Math.round(after.ms) } : {}),
      };
      rows.push(row);
      say(`  ${c.name.padEnd(56)} ${String(row.status).padEnd(4)} ${String(row.endMs).padStart(5)} ms ${row.withinBudgetPlus1s ? '(<= budget+1s)' : '(LATE)        '}  concurrent ${row.concurrentStatus} in ${String(row.concurrentMs).padStart(4)} ms` +
        `${rebooted !== undefined ? `  forced stop, reboot ${rebooted} ms, next 200 in ${row.firstOkAfterMs} ms` : ''}\n`);
    }
    return rows;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/** Runs both parts and writes bench/containment.json (bench/run.ts calls this on full runs). */
export async function runContainmentBench(quick: boolean): Promise<void> {
  const args = { quick };
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'redox-bench-containment-'));
  try {
    for (const [name, text] of Object.entries(APPS)) fs.writeFileSync(path.join(workdir, name), text);
    const load = loadAverage();
    say(`== containment ==\nload average before: ${load.toFixed(2)}\ncost (wrk -t1 -c256, server pinned to one core, REDOX_LOG_LEVEL=warn):\n`);
    const cost = await costs(workdir, args.quick);
    say(`\nrunaway cases (default ${BUDGET_MS} ms CPU budget, 300 ms watchdog grace):\n`);
    const cases = await runaways(workdir);
    const data = { generated: new Date().toISOString(), quick: args.quick, loadAverageBefore: Math.round(load * 100) / 100, machine: describeMachine(), cost, cases };
    fs.writeFileSync(path.join(root, 'bench', 'containment.json'), JSON.stringify(data, null, 2) + '\n');
  } finally {
    fs.rmSync(workdir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const args = parseArgs(process.argv.slice(2));
  if (!args.skip) {
    runContainmentBench(args.quick).catch((err) => {
      process.stderr.write(`${(err as Error).stack ?? err}\n`);
      process.exitCode = 1;
    });
  }
}
