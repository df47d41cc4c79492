// The cost of the metrics feature on the seed workload: the same app served with and without
// `metrics` (admin listener on in both), measured side by side in one run, alternating A/B
// rounds so machine noise hits both. Run: npx tsc -p tsconfig.json && node build/bench/metrics-cost.js
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startServer } from './server';
import { runWrk } from './wrk';

const SEED = 'get("/", function() return { json = { id = 1, name = "Alice", uuid = uuid.v4() } } end)\n';
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS ?? 8);

/** The metrics observer's own cost per request, in-process (what the feature adds to each one). */
async function observerCost(): Promise<number> {
  const { default: metrics } = await import('../features/metrics/index');
  const { observer } = metrics.operations!({ workerId: 0, luaHeapBytes: () => 0, adminListener: true });
  const routes = ['/', '/users/:id', '/orders', '/orders/:id'];
  const run = (n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      observer!.started!();
      observer!.completed({ method: 'GET', route: routes[i & 3], status: 200, durationMs: 0.4, failed: false });
    }
    return ((performance.now() - t0) * 1000) / n;
  };
  run(100_000); // warm-up
  return Math.min(run(300_000), run(300_000), run(300_000));
}

async function main(): Promise<void> {
  process.stdout.write(`metrics observer: ${(await observerCost()).toFixed(2)} us per request (in-process, best of 3 x 300k)\n`);
  const root = path.resolve(__dirname, '..', '..');
  const cli = path.join(root, 'build', 'cli', 'main.js');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'redox-metrics-cost-'));
  const app = path.join(work, 'seed.lua');
  fs.writeFileSync(app, SEED);
  // Server on one core, wrk on the other (when there are two).
  const cores = os.availableParallelism() >= 2 ? { server: '1', load: '0' } : { server: undefined, load: undefined };
  const variants = [
    { name: 'without metrics', features: 'uuid' },
    { name: 'with metrics', features: 'uuid,metrics' },
  ];
  const results: Record<string, number[]> = {};
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of round % 2 ? [...variants].reverse() : variants) {
        const admin = await freePort();
        const server = await startServer({
          cmd: process.execPath, args: [cli, 'serve', app, '--features', v.features, '--admin-port', String(admin)],
          env: { REDOX_LOG_LEVEL: process.env.REDOX_LOG_LEVEL ?? 'warn' },
        }, await freePort(), cores.server);
        try {
          await runWrk({ url: server.url, connections: 256, seconds: 2, cores: cores.load, workdir: work }); // warm-up
          const r = await runWrk({ url: server.url, connections: 256, seconds: SECONDS, cores: cores.load, workdir: work });
          (results[v.name] ??= []).push(r.rps);
          process.stdout.write(`round ${round + 1} ${v.name.padEnd(16)} ${r.rps.toFixed(0)} req/s (p99 ${r.p99.toFixed(1)} ms, errors ${r.errors})\n`);
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(results['without metrics']);
  const withM = median(results['with metrics']);
  process.stdout.write(`\nmedian: without metrics ${base.toFixed(0)} req/s, with metrics ${withM.toFixed(0)} req/s, ratio ${(withM / base).toFixed(3)} (${((1 - withM / base) * 100).toFixed(1)}% cost)\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
