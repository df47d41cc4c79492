// `node build/bench/hostcalls.js`: what one call from Lua into the host costs, per function, in
// microseconds. Each case runs a Lua loop in one coroutine; the time of the same loop with no
// call in it is subtracted. Also what one request costs the engine without HTTP (engine.serve:
// routing, the Lua run, the response read back), per response shape. Part of `npm run bench`
// (workload "calls"). CPU time of this process, best of 7: steadier than req/s under wrk.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCatalogue } from '../core/tooling/catalogue/catalogue';
import { devProfile } from '../core/tooling/dev/profile';
import { projectRoot } from '../core/tooling/catalogue/packages';
import { createEngine } from '../core/runtime/launch';
import type { Engine } from '../core/runtime/engine';
import { FileModules } from '../core/runtime/modules';
import { createLogger } from '../core/runtime/log';

export interface CallCost {
  name: string;
  /** Microseconds per call (loop overhead subtracted). */
  us: number;
}

const SETUP = String.raw`
db = sqlite.open(":memory:")
db:exec("CREATE TABLE world (id INTEGER PRIMARY KEY, randomNumber INTEGER NOT NULL)")
db:exec("BEGIN")
for i = 1, 10000 do db:run("INSERT INTO world (id, randomNumber) VALUES (?, ?)", i, (i * 7919) % 10000 + 1) end
db:exec("COMMIT")
sample = { id = 1, name = "Alice", uuid = "1b4e28ba-2fa1-11d2-883f-0016d3cca427" }
`;

/** Lua bodies run N times; "loop" is the baseline. */
const CASES: [string, string][] = [
  ['loop', 'local x = i'],
  ['uuid.v4()', 'local x = uuid.v4()'],
  ['json.encode({id, name, uuid})', 'local x = json.encode(sample)'],
  ['db:get (one row by id)', 'local x = db:get("SELECT id, randomNumber FROM world WHERE id = ?", i % 10000 + 1)'],
  ['db:query (one row by id)', 'local x = db:query("SELECT id, randomNumber FROM world WHERE id = ?", i % 10000 + 1)'],
  ['db:get x20 (one queries(20) request)', 'for j = 1, 20 do local x = db:get("SELECT id, randomNumber FROM world WHERE id = ?", (i + j) % 10000 + 1) end'],
  ['redox.now()', 'local x = redox.now()'],
];

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** CPU milliseconds of the fastest of 7 runs of `fn`, after one warm-up run (JIT on the host
 *  side). CPU time of this process: on a busy machine, wall time mostly measures the neighbours. */
async function bestCpuMs(fn: () => unknown): Promise<number> {
  await fn();
  let best = Infinity;
  for (let r = 0; r < 7; r++) {
    const t0 = cpuMs();
    await fn();
    best = Math.min(best, cpuMs() - t0);
  }
  return best;
}

/** An engine with these features and main chunk, in a scratch folder, for the length of `use`. */
async function withEngine<T>(features: string[], main: { source: Buffer; chunkName: string }, use: (engine: Engine) => Promise<T>): Promise<T> {
  const profile = devProfile(loadCatalogue(projectRoot()), { distro: null, features }, 'bench');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redox-calls-'));
  const log = createLogger({ level: 'warn', write: () => undefined });
  const engine = await createEngine(profile, { modules: new FileModules(dir), main }, { log });
  try {
    return await use(engine);
  } finally {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function measureHostCalls(iterations = 20_000): Promise<CallCost[]> {
  return withEngine(['sqlite', 'uuid'], { source: Buffer.from(''), chunkName: 'main.lua' }, async (engine) => {
    const run = (code: string) => engine.runScript({ source: Buffer.from(code), chunkName: 'calls.lua' }, []);
    await run(SETUP);
    const results: CallCost[] = [];
    let loop = 0;
    for (const [name, body] of CASES) {
      const code = `for i = 1, ${iterations} do ${body} end`;
      const us = ((await bestCpuMs(() => run(code))) * 1000) / iterations;
      if (name === 'loop') loop = us;
      else results.push({ name, us: Math.max(0, us - loop) });
    }
    return results;
  });
}

const DISPATCH_APP = String.raw`
local app = redox.router()
app:get("/empty", function() end)
app:get("/text", function() return "Hello, World!" end)
app:get("/body", function() return { body = "Hello, World!" } end)
app:get("/encode", function() return json.encode({ message = "Hello, World!" }) end)
app:get("/json", function() return { json = { message = "Hello, World!" } } end)
app:get("/uuid", function() return uuid.v4() end)
app:get("/seed", function() return json.encode({ id = 1, name = "Alice", uuid = uuid.v4() }) end)
return app
`;

const DISPATCH_CASES: [string, string][] = [
  ['handler returns nothing (204)', '/empty'],
  ['a string', '/text'],
  ['{body = string}', '/body'],
  ['json.encode(t) as the body', '/encode'],
  ['{json = t}', '/json'],
  ['uuid.v4() as the body', '/uuid'],
  ['the seed handler', '/seed'],
];

/** Microseconds of CPU per engine.serve() of a GET, by response shape (no HTTP, no budgets). */
export function measureDispatch(requests = 20_000): Promise<CallCost[]> {
  const main = { source: Buffer.from(DISPATCH_APP), chunkName: 'app.lua' };
  return withEngine(['uuid'], main, async (engine) => {
    await engine.loadApp(main);
    const results: CallCost[] = [];
    const get = (route: string) => ({ method: 'GET', path: route, query: '', rawHeaders: ['Host', 'localhost'], body: undefined, id: 'bench' });
    for (const [name, route] of DISPATCH_CASES) {
      const req = get(route);
      const serveAll = () => {
        for (let i = 0; i < requests; i++) {
          if (engine.serve(req) instanceof Promise) throw new Error(`${route} waited on the host`);
        }
      };
      results.push({ name, us: ((await bestCpuMs(serveAll)) * 1000) / requests });
    }
    // The seed handler right after a system call, as in a server (a socket read before each
    // run): the call's own cost subtracted, what remains is the run starting cold. Why the
    // server runs handlers in batches (core/runtime/http/dispatch-batch.ts).
    const seed = get('/seed');
    const fd = fs.openSync(os.devNull, 'r');
    try {
      const callsOnly = await bestCpuMs(() => { for (let i = 0; i < requests; i++) fs.fstatSync(fd); });
      const both = await bestCpuMs(() => {
        for (let i = 0; i < requests; i++) {
          fs.fstatSync(fd);
          engine.serve(seed);
        }
      });
      results.push({ name: 'the seed handler, a system call before each', us: ((both - callsOnly) * 1000) / requests });
    } finally {
      fs.closeSync(fd);
    }
    return results;
  });
}

if (require.main === module) {
  (async () => {
    for (const r of await measureHostCalls()) process.stdout.write(`${r.name.padEnd(36)} ${r.us.toFixed(2)} us/call\n`);
    for (const r of await measureDispatch()) process.stdout.write(`dispatch: ${r.name.padEnd(26)} ${r.us.toFixed(2)} us/request\n`);
  })().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 1;
  });
}
