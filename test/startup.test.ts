// What a `redox` process loads before it does anything: feature folders only for the commands
// that run an app or list the features' flags, and a feature's heavy npm dependencies wait until they are used
// (ioredis on connect, pg on connect, prom-client at the app's first metric, yaml for `redox deploy`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, httpGet, listeningUrl, ROOT, spawnRedox, tempDir } from './support/harness';

const HEAVY = ['ioredis', 'pg', 'prom-client', 'yaml'];

/** The npm packages, the Node built-in modules and Redox's own compiled files (relative to
 *  build/, with /) a `redox` process had loaded when it exited. */
function loaded(args: string[], env: NodeJS.ProcessEnv = {}, dir = tempDir('redox-startup-')): Loaded {
  const { hook, read } = moduleHook(dir);
  const r = spawnSync(process.execPath, ['-r', hook, path.join(ROOT, 'build', 'cli', 'main.js'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return read();
}

interface Loaded { packages: string[]; builtins: string[]; own: string[] }

/** A preload (`node -r hook`) that records what the process loaded by the time it exits. */
function moduleHook(dir: string): { hook: string; read(): Loaded } {
  const hook = path.join(dir, 'list-modules.cjs');
  fs.writeFileSync(hook, `process.on('exit', () => {
    const names = new Set(Object.keys(require.cache).map((f) => (/node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)/.exec(f) || [])[1]).filter(Boolean));
    const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));
    const build = ${JSON.stringify(path.join(ROOT, 'build') + path.sep)};
    const own = Object.keys(require.cache).filter((f) => f.startsWith(build)).map((f) => f.slice(build.length).split(require('path').sep).join('/'));
    require('fs').writeFileSync(${JSON.stringify(path.join(dir, 'loaded.json'))}, JSON.stringify({ packages: [...names], builtins, own }));
  });`);
  return { hook, read: () => JSON.parse(fs.readFileSync(path.join(dir, 'loaded.json'), 'utf8')) };
}

test('redox --version and a run that uses no datastore load none of the heavy dependencies', () => {
  const versionRun = loaded(['--version']);
  const version = versionRun.packages;
  // Tooling commands do not load the runtime (the server, the supervisor, the watchdog thread).
  assert.deepEqual(versionRun.builtins.filter((m) => ['http', 'cluster', 'worker_threads'].includes(m)), []);
  assert.ok(!versionRun.packages.includes('wasmoon'), 'nor the Lua VM');
  assert.ok(version.includes('commander'), `the hook sees npm packages: ${version.join(', ')}`);
  assert.deepEqual(version.filter((p) => HEAVY.includes(p)), []);
  // Feature folders load only for the commands that run an app or list their flags (serve,
  // run, dev, test), so a tooling command loads none, nor their packages.
  assert.ok(versionRun.own.includes('cli/main.js'), `the hook sees Redox's files: ${versionRun.own.join(', ')}`);
  assert.deepEqual(versionRun.own.filter((f) => f.startsWith('features/')), []);
  assert.deepEqual(version.filter((p) => ['uuid', 'better-sqlite3'].includes(p)), []);
  assert.deepEqual(loaded(['features']).own.filter((f) => f.startsWith('features/') || f.startsWith('core/runtime/launch')), []);
  const dir = tempDir('redox-startup-run-');
  fs.writeFileSync(path.join(dir, 'hello.lua'), 'print("hi")\n');
  fs.writeFileSync(path.join(dir, 'id.lua'), 'print(uuid.v4())\n');
  // Datastore features selected: nothing heavy until a connect; uuid loads its package at the
  // first call. (Options go before the script: what follows it is the script's own arguments.)
  const run = loaded(['run', '--features', 'uuid,sqlite,redis,postgres,requests', path.join(dir, 'hello.lua')]);
  assert.ok(run.own.includes('features/uuid/index.js'), `the selected features' folders load: ${run.own.join(', ')}`);
  assert.deepEqual(run.packages.filter((p) => [...HEAVY, 'uuid', 'busboy'].includes(p)), []);
  // A script needs neither the HTTP server nor the watchdog thread.
  assert.deepEqual(run.own.filter((f) => /^core\/runtime\/(server|watchdog)\.js$/.test(f)), []);
  assert.deepEqual(run.builtins.filter((m) => ['http', 'worker_threads'].includes(m)), []);
  assert.ok(loaded(['run', '--features', 'uuid', path.join(dir, 'id.lua')]).packages.includes('uuid'), 'the first uuid call loads it');
  // Without TLS configured, node:https, node:http2 and node:tls wait too (a tenth of a start-up).
  const plain = loaded(['run', '--features', 'uuid,sqlite', path.join(dir, 'hello.lua')]).builtins;
  assert.ok(plain.includes('fs'), `the hook sees built-in modules: ${plain.join(', ')}`);
  assert.deepEqual(plain.filter((m) => ['https', 'http2', 'tls'].includes(m)), []);
  // The features' own flags are still offered where they apply.
  const help = spawnSync(process.execPath, [path.join(ROOT, 'build', 'cli', 'main.js'), 'help', 'serve'], { encoding: 'utf8' });
  assert.match(help.stdout, /--sqlite-any-path/);
});

test('the metrics feature loads prom-client at the first metric (without TLS or zlib), and redox deploy loads yaml', () => {
  const dir = tempDir('redox-startup-metrics-');
  fs.writeFileSync(path.join(dir, 'm.lua'), 'metrics.counter{ name = "jobs_total", help = "jobs" }:inc()\nprint("ok")\n');
  fs.writeFileSync(path.join(dir, 'none.lua'), 'print("no metric")\n');
  const used = loaded(['run', '--features', 'metrics,requests', path.join(dir, 'm.lua')]);
  assert.ok(used.packages.includes('prom-client'));
  // prom-client's index would bring its Pushgateway and with it node:https and node:tls; compression
  // (responses, upstream bodies) waits for the first compressed body.
  assert.deepEqual(used.builtins.filter((m) => ['https', 'tls', 'zlib'].includes(m)), []);
  assert.ok(!loaded(['run', '--features', 'metrics', path.join(dir, 'none.lua')]).packages.includes('prom-client'), 'no metric, no prom-client');
  assert.ok(loaded(['deploy', 'kubernetes', '--name', 'x']).packages.includes('yaml'));
});

test('a server with the metrics feature loads prom-client only when an admin listener can serve /metrics', async () => {
  const dir = tempDir('redox-startup-admin-');
  fs.writeFileSync(path.join(dir, 'app.lua'), 'get("/", function() return "ok" end)\n');
  const serve = async (extra: string[]) => {
    const { hook, read } = moduleHook(dir);
    const p = spawnRedox(['serve', 'app.lua', '--port', '0', '--features', 'metrics', ...extra], { cwd: dir, bin: [process.execPath, '-r', hook, CLI] });
    const url = await listeningUrl(p);
    assert.equal((await httpGet(url + '/')).status, 200);
    const admin = /\(admin (http:\/\/[^)]+)\)/.exec(p.stdout())?.[1];
    const metrics = admin ? (await httpGet(admin + '/metrics')).body : undefined;
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0, p.stderr());
    return { packages: read().packages, metrics };
  };
  // No --admin-port: nothing could read the series, so no registry and no per-request hook.
  assert.ok(!(await serve([])).packages.includes('prom-client'));
  const withAdmin = await serve(['--admin-port', '0']);
  assert.ok(withAdmin.packages.includes('prom-client'));
  assert.match(withAdmin.metrics!, /^redox_http_requests_total\{method="GET",route="[^"]*",status_class="2xx"\} 1$/m);
});

test('redox init loads TypeScript only to render a Lua project\'s annotations the first time', () => {
  const env = { REDOX_BUILD_CACHE: tempDir('redox-startup-cache-') };
  const parent = tempDir('redox-startup-init-');
  const typesOf = (name: string) => Object.fromEntries(fs.readdirSync(path.join(parent, name, 'types')).map((f) => [f, fs.readFileSync(path.join(parent, name, 'types', f), 'utf8')]));
  assert.ok(!loaded(['init', 'ts', '--template', 'typescript'], env, parent).packages.includes('typescript'), 'the TypeScript template copies its declarations');
  assert.ok(loaded(['init', 'first'], env, parent).packages.includes('typescript'), 'the first Lua project renders its annotations');
  assert.ok(!loaded(['init', 'second'], env, parent).packages.includes('typescript'), 'the next one gets them from the cache');
  assert.ok(loaded(['init', 'off'], { ...env, REDOX_COMPILE_CACHE: '0' }, parent).packages.includes('typescript'), 'REDOX_COMPILE_CACHE=0 renders again');
  const first = typesOf('first');
  assert.ok(Object.keys(first).includes('uuid.lua') && first['redox.lua'].startsWith('---@meta'), Object.keys(first).join(', '));
  assert.deepEqual(typesOf('second'), first);
  assert.deepEqual(typesOf('off'), first);
});

// V8 optimises a wasm function once it has run a budget of code; it charges the Lua interpreter's
// ~22 KB loop body at every instruction, so with V8's own budget every boot compiled it with
// TurboFan (100-500 ms of CPU for processes that then ran a few thousand instructions).
const TURBOFAN = /using TurboFan/g;
const turbofanJobs = (p: { stdout(): string }) => (p.stdout().match(TURBOFAN) ?? []).length;

/** Polls until `check` holds (a hang guard, not a timing assertion). */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (const start = Date.now(); !(await check());) {
    if (Date.now() - start > 180_000) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('booting Lua leaves its wasm to V8\'s baseline compiler; real work still gets optimised', async () => {
  const dir = tempDir('redox-startup-tiering-');
  fs.writeFileSync(path.join(dir, 'hello.lua'), 'print("hi")\n');
  fs.writeFileSync(path.join(dir, 'app.lua'), [
    'local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end',
    'get("/", function() return "ok" end)',
    'get("/fib", function() return tostring(fib(18)) end)',
  ].join('\n') + '\n');
  const traced = (nodeFlags: string[] = []) => ({ cwd: dir, bin: [process.execPath, ...nodeFlags, '--trace-wasm-compilation-times', CLI] });

  // A script, and a server (budgets on: the heap counter is calibrated) through its first answer.
  const run = spawnRedox(['run', '--features', 'uuid,sqlite,cache,crypto', 'hello.lua'], traced());
  assert.equal(await run.exited, 0, run.stderr());
  assert.match(run.stdout(), /Compiled function .* using Liftoff/, 'the trace lists the baseline compiles');
  assert.equal(turbofanJobs(run), 0, 'nothing was optimised for a boot and one print');
  const server = spawnRedox(['serve', 'app.lua', '--port', '0', '--features', 'uuid,sqlite'], traced());
  const url = await listeningUrl(server);
  assert.equal((await httpGet(url + '/')).status, 200);
  server.child.kill('SIGTERM');
  await server.exited;
  assert.equal(turbofanJobs(server), 0, 'nothing was optimised for a boot and one answer');

  // Requests that compute: the interpreter is optimised after a few thousand instructions.
  const busy = spawnRedox(['serve', 'app.lua', '--port', '0'], traced());
  const busyUrl = await listeningUrl(busy);
  await until(async () => (await httpGet(busyUrl + '/fib')).body === '2584' && turbofanJobs(busy) > 0, 'TurboFan compiles under load');
  busy.child.kill('SIGTERM');
  await busy.exited;

  // node's own --wasm-tiering-budget wins (V8's default: the boot alone is optimised again).
  const own = spawnRedox(['serve', 'app.lua', '--port', '0'], traced(['--wasm-tiering-budget=1800000']));
  await listeningUrl(own);
  await until(() => turbofanJobs(own) > 0, 'TurboFan compiles of the boot under V8\'s default budget');
  own.child.kill('SIGTERM');
  await own.exited;
});
