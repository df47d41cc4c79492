// `node build/bench/node-bases.js [--rounds N] [--seconds S] [--cold N]`: the `web` binary on
// each base Node (host, 24, 26), side by side in one run: size, build time, cold start (exec to
// the first 200) and req/s of the seed workload (JSON with a fresh UUID v4), rounds interleaved.
// The numbers behind the default base in docs/build.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from '../core/tooling/build/pipeline';
import { projectRoot } from '../core/tooling/catalogue/packages';
import { measureColdStarts } from './coldstart';
import { Contender, fmt, measureGroup, round } from './measure';

const SEED = 'local app = redox.router()\n' +
  'app:get("/", function() return { json = { id = 1, name = "Alice", uuid = uuid.v4() } } end)\n' +
  'return app\n';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const rounds = flag('--rounds', 3);
  const seconds = flag('--seconds', 5);
  const coldRuns = flag('--cold', 10);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'redox-bench-bases-'));
  process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));
  fs.writeFileSync(path.join(work, 'app.lua'), SEED);
  const say = (t: string) => process.stdout.write(t);
  const contenders: Contender[] = [];
  const rows: string[] = [];
  for (const version of ['host', '24', '26']) {
    const t0 = Date.now();
    const r = await build(projectRoot(), { cwd: work, distro: 'web', nodeVersion: version, name: `web-${version}`, out: 'dist', project: false });
    const m = r.manifests[0];
    rows.push(`| ${version} | ${m.node.version} | ${fmt(m.sizes.node)} | ${fmt(m.sizes.nodeStripped)} | ${fmt(m.bytes)} | ${((Date.now() - t0) / 1000).toFixed(1)} s |`);
    contenders.push({ name: `${version} (${m.node.version})`, spec: { cmd: path.join(work, 'dist', m.file), args: ['serve', 'app.lua'], cwd: work, env: { REDOX_CACHE_DIR: path.join(work, 'cache'), REDOX_LOG_LEVEL: 'warn' } } });
  }
  say('\n| base | node | base bytes | stripped | redox-web bytes | build (warm cache) |\n|---|---|---:|---:|---:|---:|\n' + rows.join('\n') + '\n\n');
  say(`cold start, ${coldRuns} interleaved runs:\n`);
  const cold = await measureColdStarts(contenders, coldRuns, say);
  say(`\nseed workload, wrk -t1 -c256, ${rounds} x ${seconds} s interleaved:\n`);
  const load = await measureGroup(contenders, { connections: 256, rounds, seconds, warmupSeconds: 2, workdir: work }, say);
  const base = load[0].rps;
  say('\n| base | cold start median (min-max) | req/s | vs host | p99 ms | req per CPU-s |\n|---|---:|---:|---:|---:|---:|\n');
  for (let i = 0; i < contenders.length; i++) {
    const c = cold[i];
    const l = load[i];
    say(`| ${contenders[i].name} | ${c.skipped ?? `${round(c.medianMs, 0)} ms (${round(c.minMs, 0)}-${round(c.maxMs, 0)})`} | ${l.skipped ?? fmt(l.rps)} | ${(l.rps / base).toFixed(2)}x | ${round(l.p99, 1)} | ${fmt(l.reqPerCpuS)} |\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
