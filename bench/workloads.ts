// The five workloads: who runs, under which load, on which cores.
import path from 'node:path';
import { AppFiles } from './apps';
import { measureColdStarts, ColdRow } from './coldstart';
import { Machine, place } from './machine';
import { Contender, Load, measureGroup, Row } from './measure';
import { BenchOptions, WorkloadId } from './options';
import { Peers } from './peers';
import { Redox } from './redox';
import { freePort, startServer } from './server';
import { calls, seed, tfb } from './engine-workloads';

export interface BenchContext {
  opts: BenchOptions;
  machine: Machine;
  redox: Redox;
  peers: Peers;
  apps: AppFiles;
  root: string;
  say: (t: string) => void;
}

export interface WorkloadResult {
  id: WorkloadId;
  title: string;
  notes: string[];
  /** Throughput workloads. */
  rows?: Row[];
  /** The row the others are compared with. */
  reference?: string;
  /** Cold starts (workload 4). */
  cold?: ColdRow[];
}

/** Connections for the throughput workloads: enough to keep one core busy, few enough for wrk on one core. */
const CONNECTIONS = 64;
const WARN = { REDOX_LOG_LEVEL: 'warn' };

function load(ctx: BenchContext, loadCores: string | undefined, extra: Partial<Load> = {}): Load {
  const o = ctx.opts;
  return { connections: CONNECTIONS, rounds: o.rounds, seconds: o.duration, warmupSeconds: o.warmup, loadCores, workdir: ctx.apps.dir, ...extra };
}

function placementNote(ctx: BenchContext, serverCores: number): string {
  const p = place(ctx.machine, serverCores);
  if (!p.server) return ctx.machine.taskset ? `${ctx.machine.cores} core(s): nothing pinned; server and wrk share the CPU` : 'taskset not found: nothing pinned; server and wrk share the CPUs';
  return `server pinned to core ${p.server}, wrk (1 thread) to core ${p.load}${p.shared ? ' (shared with the server)' : ''}`;
}

/** The peers serving the seed's endpoint, skipped with a reason when not installed. */
function peerContenders(ctx: BenchContext, cores: string | undefined): Contender[] {
  const { peers, apps } = ctx;
  const node = (file: string) => ({ cmd: process.execPath, args: [file], env: { NODE_PATH: peers.nodePath } });
  const missing = (p: string) => ({ skip: `${p} is not installed (see the notes above)` });
  return [
    { name: 'node:http', cores, spec: node(apps.nodeHttp) },
    { name: 'Express', cores, spec: peers.versions.express ? node(apps.express) : missing('express') },
    { name: 'Fastify', cores, spec: peers.versions.fastify ? node(apps.fastify) : missing('fastify') },
    { name: 'Bun', cores, spec: peers.bun ? { cmd: peers.bun, args: [apps.bun] } : missing('bun') },
    {
      name: 'Deno', cores,
      spec: peers.deno ? { cmd: peers.deno, args: ['run', '--allow-net', '--allow-env=PORT', apps.deno], env: { DENO_NO_UPDATE_CHECK: '1', DENO_DIR: path.join(peers.nodePath, '..', 'deno-dir') } } : missing('deno'),
    },
  ];
}

export async function w1(ctx: BenchContext): Promise<WorkloadResult> {
  const p = place(ctx.machine, 1);
  const hello = (flags: string[], env: Record<string, string>) => ctx.redox.serve(ctx.apps.hello, ['uuid'], flags, env);
  const contenders: Contender[] = [
    { name: 'Redox', cores: p.server, spec: hello([], WARN) },
    { name: 'Redox (info logs)', cores: p.server, spec: hello([], { REDOX_LOG_LEVEL: 'info' }) },
    { name: 'Redox (no hooks)', cores: p.server, spec: hello(['--cpu-budget', '0', '--memory-limit', '0'], WARN) },
    ...peerContenders(ctx, p.server),
  ];
  const rows = await measureGroup(contenders, load(ctx, p.load), ctx.say);
  return {
    id: 'w1', title: 'W1: GET / -> {"id":1,"name":"Alice","uuid":<v4>}', rows, reference: 'Redox',
    notes: [
      placementNote(ctx, 1),
      `wrk -t1 -c${CONNECTIONS}; ${ctx.opts.rounds} x ${ctx.opts.duration} s rounds after a ${ctx.opts.warmup} s warm-up, interleaved; medians`,
      'Redox: REDOX_LOG_LEVEL=warn; "info logs" writes one JSON line per request to /dev/null; "no hooks" is --cpu-budget 0 --memory-limit 0',
    ],
  };
}

export async function w2(ctx: BenchContext): Promise<WorkloadResult> {
  const p = place(ctx.machine, 1);
  const port = await freePort();
  const upstream = await startServer({ cmd: process.execPath, args: [ctx.apps.upstream] }, port, p.load);
  const url = `http://127.0.0.1:${port}/`;
  try {
    const contenders: Contender[] = [
      { name: 'Redox', cores: p.server, spec: ctx.redox.serve(ctx.apps.upstreamLua(url), ['requests'], [], WARN) },
      { name: 'node:http + fetch', cores: p.server, spec: { cmd: process.execPath, args: [ctx.apps.nodeUpstream], env: { UPSTREAM: url } } },
      // wrk straight to a second copy of the upstream, on the load core: what this harness can reach at all.
      { name: 'upstream alone (ceiling)', cores: p.load, spec: { cmd: process.execPath, args: [ctx.apps.upstream] } },
    ];
    // A longer warm-up: 500 upstream connections and the VM's coroutine pool must fill first.
    const warmupSeconds = Math.max(ctx.opts.warmup, ctx.opts.quick ? 3 : 5);
    const rows = await measureGroup(contenders, load(ctx, p.load, { connections: 500, timeout: '10s', warmupSeconds }), ctx.say);
    return {
      id: 'w2', title: 'W2: handler waits on a 100 ms upstream, 500 connections (ideal 5,000 req/s)', rows, reference: 'Redox',
      notes: [placementNote(ctx, 1), `the upstream (node:http, answers after 100 ms) runs on the load core${p.load ? ` ${p.load}` : ''}; wrk -t1 -c500; ${warmupSeconds} s warm-up`],
    };
  } finally {
    await upstream.stop();
  }
}

export async function w3(ctx: BenchContext): Promise<WorkloadResult> {
  const p = place(ctx.machine, 1);
  const small = 1_000;
  const big = 1_000_000;
  const serve = (n: number) => ({ ...ctx.redox.serve(ctx.apps.cacheLua(n), ['cache'], [], WARN), readyTimeoutMs: 180_000 });
  const contenders: Contender[] = [
    { name: 'Redox, 1,000 entries', cores: p.server, spec: serve(small) },
    { name: 'Redox, 1,000,000 entries', cores: p.server, spec: serve(big) },
  ];
  ctx.say('    (filling 1,000,000 entries at load takes a few seconds)\n');
  const rows = await measureGroup(contenders, load(ctx, p.load), ctx.say);
  return {
    id: 'w3', title: 'W3: cache read of a random key, 1,000 vs 1,000,000 entries (~200 bytes each)', rows, reference: 'Redox, 1,000 entries',
    notes: [placementNote(ctx, 1), 'named cache filled at app load; each request reads one random key (c:get) and returns its 200-byte value'],
  };
}

export async function w4(ctx: BenchContext): Promise<WorkloadResult> {
  const p = place(ctx.machine, 1);
  const cli = path.join(ctx.root, 'build', 'cli', 'main.js');
  const peers = peerContenders(ctx, p.server);
  const contenders: Contender[] = [
    ...(ctx.redox.kind === 'binary' ? [{ name: 'Redox binary', cores: p.server, spec: ctx.redox.serve(ctx.apps.hello, ['uuid'], [], WARN) }] : []),
    // --baseline: an earlier build's binary, started the same way, interleaved with this one.
    ...(ctx.opts.baseline ? [{ name: 'Redox binary (before)', cores: p.server, spec: { cmd: ctx.opts.baseline, args: ['serve', ctx.apps.hello], env: WARN } }] : []),
    { name: 'Redox CLI', cores: p.server, spec: { cmd: process.execPath, args: [cli, 'serve', ctx.apps.hello, '--features', 'uuid'], env: WARN } },
    ...peers,
  ];
  const cold = await measureColdStarts(contenders, ctx.opts.coldRuns, ctx.say);
  return {
    id: 'w4', title: `W4: cold start, exec to first 200 (median of ${ctx.opts.coldRuns})`, cold,
    notes: [
      `${p.server ? `server pinned to core ${p.server}; ` : ''}polled every 2 ms with a new connection; one unrecorded run first (page cache, asset unpacking)`,
      '"Redox CLI" is `node build/cli/main.js serve hello.lua --features uuid` (development mode)',
    ],
  };
}

export async function w5(ctx: BenchContext): Promise<WorkloadResult> {
  const one = place(ctx.machine, 1);
  const two = place(ctx.machine, 2);
  const hello = (workers: number) => ctx.redox.serve(ctx.apps.hello, ['uuid'], ['--workers', String(workers)], WARN);
  // Same load cores for both rows, so only the server side changes.
  const contenders: Contender[] = [
    { name: 'Redox, 1 worker', cores: one.server, spec: hello(1) },
    { name: 'Redox, 2 workers', cores: two.server, spec: hello(2) },
  ];
  const rows = await measureGroup(contenders, load(ctx, two.load), ctx.say);
  const notes = [`1 worker: server on core ${one.server ?? '(any)'}; 2 workers: server on cores ${two.server ?? '(any)'}; wrk on core ${two.load ?? '(any)'}`];
  if (two.shared) {
    notes.push(`with ${ctx.machine.cores} cores wrk shares a core with the second worker, so the 2-worker figure is NOT the ` +
      'target\'s condition (load generator off the workers\' cores); it understates what 2 workers give on a machine with a spare core');
  }
  return { id: 'w5', title: 'W5: workload 1 with --workers 2 vs 1 worker', rows, reference: 'Redox, 1 worker', notes };
}

export const RUNNERS: Record<WorkloadId, (ctx: BenchContext) => Promise<WorkloadResult>> = { w1, w2, w3, w4, w5, seed, tfb, calls };

