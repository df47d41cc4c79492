// The engine's workloads: the seed handler against plain node:http with default and
// warn logging, the TechEmpower-style types against node:http + better-sqlite3, and the cost of
// one host call from Lua.
import fs from 'node:fs';
import path from 'node:path';
import { measureDispatch, measureHostCalls } from './hostcalls';
import { place } from './machine';
import { peerNodeFor } from './peer-node';
import { Contender, measureGroup, Row } from './measure';
import { ServerSpec } from './server';
import { geometricMean, TFB_TYPES, writeTfbApps } from './tfb';
import type { BenchContext, WorkloadResult } from './workloads';

const SEED_LUA = 'get("/", function() return json.encode({id=1, name="Alice", uuid=uuid.v4()}) end)\n';
const WARN = { REDOX_LOG_LEVEL: 'warn' };
const INFO = { REDOX_LOG_LEVEL: 'info' };
// 256: with 64 the servers sat at about half a core here (shared/notes/dependencies.md).
const CONNECTIONS = 256;

function loadFor(ctx: BenchContext, loadCores: string | undefined) {
  const o = ctx.opts;
  return { connections: CONNECTIONS, rounds: o.rounds, seconds: o.duration, warmupSeconds: o.warmup, loadCores, workdir: ctx.apps.dir };
}

/** The seed workload: `return json.encode({...})` with uuid.v4(), vs node:http returning the same JSON. */
export async function seed(ctx: BenchContext): Promise<WorkloadResult> {
  const p = place(ctx.machine, 1);
  const app = path.join(ctx.apps.dir, 'seed.lua');
  fs.writeFileSync(app, SEED_LUA);
  const baseline = ctx.opts.baseline;
  const peer = peerNodeFor(ctx.redox.webBinary);
  const before = (env: Record<string, string>): ServerSpec => ({ cmd: baseline!, args: ['serve', app], env });
  const contenders: Contender[] = [
    { name: 'node:http', cores: p.server, spec: { cmd: peer.node, args: [ctx.apps.nodeHttp] } },
    ...(peer.node !== process.execPath ? [{ name: `node:http on ${process.version}`, cores: p.server, spec: { cmd: process.execPath, args: [ctx.apps.nodeHttp] } }] : []),
    { name: 'Redox (defaults: info logs)', cores: p.server, spec: ctx.redox.serve(app, ['uuid'], [], INFO) },
    { name: 'Redox (warn)', cores: p.server, spec: ctx.redox.serve(app, ['uuid'], [], WARN) },
    ...(baseline ? [
      { name: 'before (defaults: info logs)', cores: p.server, spec: before(INFO) },
      { name: 'before (warn)', cores: p.server, spec: before(WARN) },
    ] : []),
  ];
  const rows = await measureGroup(contenders, loadFor(ctx, p.load), ctx.say);
  return {
    id: 'seed', title: 'SEED: get("/", function() return json.encode({id=1, name="Alice", uuid=uuid.v4()}) end)', rows, reference: 'node:http',
    notes: [
      p.server ? `server pinned to core ${p.server}, wrk (1 thread) to core ${p.load}` : 'nothing pinned',
      `node:http runs on ${peer.version}, the binary's Node (the reference for the ratios)${peer.note ? `; ${peer.note}` : ''}`,
      `wrk -t1 -c${CONNECTIONS}; ${ctx.opts.rounds} x ${ctx.opts.duration} s rounds, interleaved; medians. Budgets on (defaults) in every Redox row; info logs go to /dev/null`,
      ...(baseline ? [`"before" rows: ${baseline}`] : ['pass --baseline <older redox-web binary> to measure an earlier build beside this one']),
      ...ratioNotes(rows, 'node:http'),
    ],
  };
}

function ratioNotes(rows: Row[], reference: string): string[] {
  const ref = rows.find((r) => r.name === reference && !r.skipped);
  if (!ref) return [];
  return rows.filter((r) => !r.skipped && r !== ref).map((r) =>
    `${r.name}: ${(r.rps / ref.rps).toFixed(2)}x req/s, ${(r.reqPerCpuS / ref.reqPerCpuS).toFixed(2)}x req/CPU-s of ${reference}`);
}

/** The TechEmpower-style types, each measured side by side against node:http + better-sqlite3. */
export async function tfb(ctx: BenchContext): Promise<WorkloadResult> {
  const p = place(ctx.machine, 1);
  const files = writeTfbApps(ctx.apps.dir);
  const nodeModules = path.join(ctx.root, 'node_modules');
  const peer = peerNodeFor(ctx.redox.webBinary);
  // The installed better-sqlite3 fits the bench's Node; on the binary's Node, its cached build.
  const onBinaryNode = peer.node === process.execPath || peer.sqliteAddon !== undefined;
  const peerNode = onBinaryNode ? peer.node : process.execPath;
  const addonEnv: Record<string, string> = peer.sqliteAddon ? { TFB_SQLITE_ADDON: peer.sqliteAddon } : {};
  const rows: Row[] = [];
  const ratios: { id: string; rps: number; cpu: number }[] = [];
  for (const type of TFB_TYPES) {
    ctx.say(`  -- ${type.id} (${type.path})\n`);
    const redoxName = `${type.id}: Redox`;
    const nodeName = `${type.id}: node:http`;
    const contenders: Contender[] = [
      { name: nodeName, cores: p.server, path: type.path, spec: { cmd: peerNode, args: [files.node], env: { NODE_PATH: nodeModules, TFB_DB: files.nodeDb, ...addonEnv } } },
      { name: redoxName, cores: p.server, path: type.path, spec: ctx.redox.serve(files.lua, ['sqlite'], [], { ...WARN, TFB_DB: files.luaDb }) },
    ];
    const measured = await measureGroup(contenders, loadFor(ctx, p.load), ctx.say);
    rows.push(...measured);
    const [n, r] = measured;
    if (!n.skipped && !r.skipped && n.rps > 0) ratios.push({ id: type.id, rps: r.rps / n.rps, cpu: r.reqPerCpuS / n.reqPerCpuS });
  }
  const notes = [
    p.server ? `server pinned to core ${p.server}, wrk (1 thread) to core ${p.load}` : 'nothing pinned',
    'the same app written as a user would, in Lua (sqlite feature) and on node:http + better-sqlite3, each on its own copy of the database; Redox with REDOX_LOG_LEVEL=warn, budgets on',
    `node:http + better-sqlite3 runs on ${onBinaryNode ? peer.version : `${process.version} (no better-sqlite3 build for the binary's Node ${peer.version} in the build cache)`}`,
    ...ratios.map((x) => `${x.id}: Redox ${x.rps.toFixed(2)}x node:http (req/CPU-s ${x.cpu.toFixed(2)}x)`),
  ];
  if (ratios.length === TFB_TYPES.length) {
    notes.push(`geometric mean: ${geometricMean(ratios.map((x) => x.rps)).toFixed(2)}x req/s, ${geometricMean(ratios.map((x) => x.cpu)).toFixed(2)}x req/CPU-s`);
  }
  return { id: 'tfb', title: 'TFB: TechEmpower-style types, Redox vs node:http + better-sqlite3', rows, notes };
}

/** Microseconds per host call from Lua, in this process (no HTTP). */
export async function calls(ctx: BenchContext): Promise<WorkloadResult> {
  const costs = await measureHostCalls(ctx.opts.quick ? 5_000 : 20_000);
  const dispatch = await measureDispatch(ctx.opts.quick ? 5_000 : 20_000);
  return {
    id: 'calls', title: 'CALLS: one host call from Lua, microseconds (a Lua loop in one coroutine, loop cost subtracted); one request through the engine without HTTP', rows: undefined,
    notes: [
      ...costs.map((c) => `${c.name}: ${c.us.toFixed(2)} us`),
      ...dispatch.map((c) => `engine.serve, ${c.name}: ${c.us.toFixed(2)} us`),
    ],
  };
}
