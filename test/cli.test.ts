// The real CLI as a child process: serve targets, load failures, run exit codes, signals,
// and the catalogue commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { exitedWithin, listeningUrl, spawnRedox, tempDir } from './support/harness';
import { helpOptions } from './support/help';
import { LIMIT_SPECS, resolveLimits } from '../core/runtime/limits';
import { defaultAppTarget } from '../core/tooling/project';

function write(dir: string, files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

async function serveAndGet(args: string[], cwd: string, urlPath = '/'): Promise<{ status: number; text: string; stdout: string }> {
  const p = spawnRedox(['serve', ...args, '--port', '0'], { cwd });
  try {
    const url = await listeningUrl(p);
    const res = await fetch(url + urlPath);
    return { status: res.status, text: await res.text(), stdout: p.stdout() };
  } finally {
    p.child.kill('SIGTERM');
    await p.exited;
  }
}

test('the seed example serves as written (global get, json.encode); serve with no target serves app.lua', async () => {
  const dir = write(tempDir(), {
    'app.lua': 'local function index() return json.encode({id = 1, name = "Alice"}) end\nget("/", index)\n',
  });
  const r = await serveAndGet([], dir);
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.text), { id: 1, name: 'Alice' });
  assert.match(r.stdout, /^listening on http:\/\/127\.0\.0\.1:\d+$/m);
});

test('a file returning a plain function(req) serves every path', async () => {
  const dir = write(tempDir(), { 'fn.lua': 'return function(req) return "you asked for " .. req.path end\n' });
  const r = await serveAndGet(['fn.lua'], dir, '/x/y');
  assert.equal(r.text, 'you asked for /x/y');
});

test('module:attr targets map dots to folders; attr defaults to app; require finds sibling modules', async () => {
  const dir = write(tempDir(), {
    'myapp/server.lua': [
      'local util = require("myapp.util")',
      'local M = {}',
      'M.app = redox.router():get("/", function() return util.greet("app") end)',
      'M.admin = redox.router():get("/", function() return util.greet("admin") end)',
      'return M',
    ].join('\n'),
    'myapp/util.lua': 'return { greet = function(who) return "hello from " .. who end }\n',
  });
  assert.equal((await serveAndGet(['myapp.server'], dir)).text, 'hello from app');
  assert.equal((await serveAndGet(['myapp.server:admin'], dir)).text, 'hello from admin');
});

test('an app that fails to load prints the Lua error with file:line and exits 1, no host stack', async () => {
  const dir = write(tempDir(), {
    'syntax.lua': 'local x = = 1\n',
    'toplevel.lua': '\n\nerror("bad config")\n',
    'nothing.lua': 'local x = 1\n',
  });
  for (const [file, pattern] of [
    ['syntax.lua', /syntax\.lua:1: unexpected symbol near '='/],
    ['toplevel.lua', /toplevel\.lua:3: bad config/],
    ['nothing.lua', /returned nothing and registered no routes/],
    ['missing.lua', /app file missing\.lua not found/],
  ] as const) {
    const p = spawnRedox(['serve', file, '--port', '0'], { cwd: dir });
    const code = await p.exited;
    assert.equal(code, 1, file);
    assert.match(p.stderr(), pattern, file);
    assert.doesNotMatch(p.stderr(), /at .*\.js:\d+/, `${file}: no host stack trace`);
  }
});

test('redox run: arg holds the arguments, return value is the exit code, errors exit 1 with file:line', async () => {
  const dir = write(tempDir(), {
    'ok.lua': 'print("args", #arg, arg[0], arg[1], arg[2])\nreturn 0\n',
    'code.lua': 'return 3\n',
    'fail.lua': 'local function f()\n  error("job failed")\nend\nf()\n',
    'sleep.lua': 'redox.sleep(20)\nprint("slept")\n',
  });
  const ok = spawnRedox(['run', 'ok.lua', 'one', '--two'], { cwd: dir });
  assert.equal(await ok.exited, 0);
  assert.equal(ok.stdout(), 'args\t2\tok.lua\tone\t--two\n');
  const code = spawnRedox(['run', 'code.lua'], { cwd: dir });
  assert.equal(await code.exited, 3);
  const fail = spawnRedox(['run', 'fail.lua'], { cwd: dir });
  assert.equal(await fail.exited, 1);
  assert.match(fail.stderr(), /fail\.lua:2: job failed/);
  assert.match(fail.stderr(), /stack traceback/);
  const sleep = spawnRedox(['run', 'sleep.lua'], { cwd: dir });
  assert.equal(await sleep.exited, 0);
  assert.equal(sleep.stdout(), 'slept\n');
});

test('redox run: a script returning a module table (functions and all) exits 0, not 70', async () => {
  const dir = write(tempDir(), { 'mod.lua': 'local M = {}\nfunction M.hello() return "hi" end\nM.nested = { f = print }\nreturn M\n', 'str.lua': 'return "done"\n' });
  for (const file of ['mod.lua', 'str.lua']) {
    const p = spawnRedox(['run', file], { cwd: dir });
    assert.equal(await p.exited, 0, `${file}: ${p.stderr()}`);
    assert.equal(p.stderr(), '', file);
  }
});

test('build --features takes one value per flag: a stray word is a usage error, not a feature', async () => {
  const dir = tempDir();
  const p = spawnRedox(['build', '--features', 'uuid', '--features', 'sqlite', 'stray', '--out', 'x'], { cwd: dir });
  assert.equal(await p.exited, 2);
  assert.match(p.stderr(), /too many arguments for 'build'/);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('SIGTERM finishes the request in flight, then exits 0', async () => {
  const dir = write(tempDir(), { 'app.lua': 'get("/slow", function() print("arrived") redox.sleep(500) return "finished" end)\n' });
  const p = spawnRedox(['serve', 'app.lua', '--port', '0'], { cwd: dir });
  const url = await listeningUrl(p);
  const pending = fetch(url + '/slow');
  // The signal comes once the request is inside its handler, however slow the machine.
  for (let i = 0; i < 800 && !p.stdout().includes('arrived\n'); i++) await new Promise((r) => setTimeout(r, 25));
  p.child.kill('SIGTERM');
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'finished');
  assert.equal(await p.exited, 0);
  await assert.rejects(fetch(url + '/slow'), 'no longer accepting');
});

test('--port in use is a clear error', async () => {
  const dir = write(tempDir(), { 'app.lua': 'get("/", function() return "x" end)\n' });
  const first = spawnRedox(['serve', 'app.lua', '--port', '0'], { cwd: dir });
  const url = await listeningUrl(first);
  const port = new URL(url).port;
  const second = spawnRedox(['serve', 'app.lua', '--port', port], { cwd: dir });
  assert.equal(await second.exited, 1);
  assert.match(second.stderr(), new RegExp(`port ${port} is already in use`));
  first.child.kill('SIGTERM');
  await first.exited;
});

test('bad flags exit 2 with a message', async () => {
  const p = spawnRedox(['serve', 'app.lua', '--port', 'abc']);
  assert.equal(await p.exited, 2);
  assert.match(p.stderr(), /--port must be a port number/);
  const q = spawnRedox(['serve', 'app.lua', '--max-body', 'lots']);
  assert.equal(await q.exited, 2);
  assert.match(q.stderr(), /--max-body must be 1048576, 512KiB or 2MiB/);
  const r = spawnRedox(['nonsense']);
  assert.equal(await r.exited, 2);
  // commander's own parse errors end like every other error: a hint and the code.
  assert.match(r.stderr(), /error: unknown command 'nonsense'\n  hint: run with --help for usage\n  \(REDOX_USAGE: the command line is invalid\)\n$/);
  const bare = spawnRedox(['deploy']);
  assert.equal(await bare.exited, 2, 'a command that needs a subcommand');
  assert.match(bare.stderr(), /Usage: redox deploy[\s\S]*\(REDOX_USAGE: /);
  // No target and nothing to default to: serve and dev say where they looked.
  const empty = tempDir();
  for (const command of ['serve', 'dev']) {
    const none = spawnRedox([command], { cwd: empty });
    assert.equal(await none.exited, 2, command);
    assert.match(none.stderr(), /no app given, and no app\.ts or app\.lua here\n  hint: .*a redox\.json naming "app"/, command);
  }
});

test('a reader that goes away (redox distros | head -0) ends nothing in a crash: exit 0, no stack', async () => {
  const p = spawnRedox(['distros']);
  p.child.stdout!.destroy(); // closed long before the child has booted and prints
  assert.equal(await p.exited, 0, p.stderr());
  assert.doesNotMatch(p.stderr(), /EPIPE|at /);
});

test('the default app: redox.json\'s "app", else app.ts before app.lua (app.lua beside app.ts is compiled output)', () => {
  const dir = write(tempDir(), { 'app.lua': '', 'app.ts': '' });
  assert.equal(defaultAppTarget(dir), 'app.ts');
  fs.rmSync(path.join(dir, 'app.ts'));
  assert.equal(defaultAppTarget(dir), 'app.lua');
  write(dir, { 'redox.json': JSON.stringify({ app: 'src/main.lua' }), 'src/main.lua': '' });
  assert.equal(defaultAppTarget(dir), path.join('src', 'main.lua'));
  assert.equal(defaultAppTarget(tempDir()), undefined);
});

test('limits that cannot work are usage errors: --handler-timeout 0, --memory-limit under 1MiB (0 still means no limit)', () => {
  assert.throws(() => resolveLimits({ handlerTimeoutMs: '0' }), { code: 'REDOX_USAGE', message: '--handler-timeout must be at least 1ms, got "0": every handler would time out at once' });
  assert.throws(() => resolveLimits({}, { REDOX_MEMORY_LIMIT: '10' }), { code: 'REDOX_USAGE', message: /^REDOX_MEMORY_LIMIT must be at least 1MiB \(or 0 for no limit\), got "10"/ });
  assert.equal(resolveLimits({ memoryBytes: '0' }).memoryBytes, 0);
  assert.throws(() => resolveLimits({ memoryBytes: '0.4' }), /at least 1MiB/, 'rounds to 0 but is not the 0 that means no limit');
  // Node's timers fire after 1 ms beyond 2^31-1 ms: such a handler timeout would time out at once.
  assert.throws(() => resolveLimits({ handlerTimeoutMs: '40000m' }), { code: 'REDOX_USAGE', message: /--handler-timeout must be at most 24d \(2147483647 ms\), got "40000m"/ });
  assert.equal(resolveLimits({ memoryBytes: '1MiB', handlerTimeoutMs: '1ms' }).memoryBytes, 1024 * 1024);
});

// Node 20's recursive mkdir spins forever under /proc; the time limit turns a regression into a failure.
test('an output or cache path where no folder can be made (/proc/x) is a clear error, not a hang: build --out, deploy --out, init, REDOX_BUILD_CACHE', {
  skip: process.platform !== 'linux' && 'needs /proc', timeout: 120_000,
}, async () => {
  const cases: [string[], RegExp, Record<string, string>?][] = [
    [['build', '--features', 'uuid', '--node-version', 'host', '--out', '/proc/redox-nope/dist'], /cannot write to --out \/proc\/redox-nope\/dist .*ENOENT.*REDOX_BUILD_OUT/s],
    [['deploy', 'kubernetes', '--out', '/proc/redox-nope'], /cannot write the manifests to \/proc\/redox-nope: ENOENT.*REDOX_BUILD_OUT/s],
    [['init', '/proc/redox-nope/svc'], /cannot write the project to \/proc\/redox-nope\/svc .*ENOENT.*REDOX_BUILD_OUT/s],
    [['build', '--features', 'uuid', '--node-version', 'host'], /cannot write to the build cache \/proc\/redox-nope\/cache: ENOENT\n  hint: set REDOX_BUILD_CACHE .*REDOX_BUILD_CACHE/s,
      { REDOX_BUILD_CACHE: '/proc/redox-nope/cache' }],
  ];
  for (const [args, message, env] of cases) {
    const p = spawnRedox(args, { cwd: tempDir(), env });
    assert.equal(await exitedWithin(p), 1, `${args.join(' ')}: ${p.stderr()}`);
    assert.match(p.stderr(), message, args.join(' '));
  }
});

test('redox features and distros list the catalogue, as text and JSON', async () => {
  const f = spawnRedox(['features', '--json']);
  assert.equal(await f.exited, 0);
  const list = JSON.parse(f.stdout()) as { name: string; description: string }[];
  assert.ok(list.some((x) => x.name === 'uuid' && x.description.length > 0));
  const d = spawnRedox(['distros', '--json']);
  assert.equal(await d.exited, 0);
  const distros = JSON.parse(d.stdout()) as { name: string; features: string[] }[];
  assert.deepEqual(distros.find((x) => x.name === 'web')!.features, ['metrics', 'requests', 'sqlite', 'uuid']);
  assert.deepEqual(distros.find((x) => x.name === 'minimal')!.features, []);
  const text = spawnRedox(['distros']);
  await text.exited;
  assert.match(text.stdout(), /^web: /m);
});

test('an unknown feature suggests the nearest name and exits 2', async () => {
  const dir = write(tempDir(), { 'app.lua': 'get("/", function() return "x" end)\n' });
  const p = spawnRedox(['serve', 'app.lua', '--features', 'sqlit'], { cwd: dir });
  assert.equal(await p.exited, 2);
  assert.match(p.stderr(), /unknown feature "sqlit" \(did you mean "sqlite"\?\)/);
  const q = spawnRedox(['run', '--distro', 'wbe', 'app.lua'], { cwd: dir });
  assert.equal(await q.exited, 2);
  assert.match(q.stderr(), /unknown distro "wbe" \(did you mean "web"\?\)/);
});

test('--features runs with exactly that set: other features are absent with a clear message', async () => {
  const dir = write(tempDir(), { 'job.lua': 'print(uuid ~= nil)\nlocal ok, err = pcall(require, "sqlite")\nprint(err)\n' });
  const p = spawnRedox(['run', '--features', 'uuid', 'job.lua'], { cwd: dir });
  assert.equal(await p.exited, 0, p.stderr());
  assert.match(p.stdout(), /^true\n/);
  assert.match(p.stdout(), /feature "sqlite" is not included in this build \(features: uuid\); rebuild with --features sqlite/);
});

// Shared options (cli/options.ts): one definition each, so every command documents and parses
// them alike. The binary's serve and run use the same definitions (test/new-feature.test.ts).
async function helpOf(command: string): Promise<Map<string, string>> {
  const p = spawnRedox([command, '--help']);
  assert.equal(await p.exited, 0, p.stderr());
  return helpOptions(p.stdout());
}

test('serve, run, dev, test and build offer the shared options with one text', async () => {
  const helps = new Map<string, Map<string, string>>();
  for (const c of ['serve', 'run', 'dev', 'test', 'build']) helps.set(c, await helpOf(c));
  const same = (flag: string, commands: string[], cut?: RegExp) => {
    const texts = commands.map((c) => {
      const text = helps.get(c)!.get(flag);
      assert.ok(text, `redox ${c} lacks ${flag}`);
      return cut ? text.replace(cut, '') : text;
    });
    assert.equal(new Set(texts).size, 1, `${flag} differs between ${commands.join(', ')}:\n${texts.join('\n')}`);
  };
  // Selection everywhere (build states its own default: it has no "every feature" fallback).
  same('--features', ['serve', 'run', 'dev', 'test']);
  same('--features', ['serve', 'run', 'dev', 'test', 'build'], / \[default: .*\]$/);
  same('--distro', ['serve', 'run', 'dev', 'test', 'build']);
  // Listening and limits wherever an app is served.
  for (const flag of ['--port', '--host', ...LIMIT_SPECS.map((l) => l.flag)]) same(flag, ['serve', 'dev']);
  same('--data-dir', ['serve', 'run', 'dev']);
  assert.match(helps.get('serve')!.get('--features')!, /^--features <list> {2}exactly these features \(comma-separated, repeatable;/);
});

test('--features is a comma list, repeatable, never swallowing the app, in serve, run, dev and test', async () => {
  const present = [
    'local function present()',
    '  local out = {}',
    '  for _, n in ipairs({"cache", "crypto", "sqlite", "uuid"}) do if pcall(require, n) then out[#out + 1] = n end end',
    '  return table.concat(out, ",")',
    'end',
  ].join('\n');
  const dir = write(tempDir(), {
    'app.lua': `${present}\nget("/", function() return present() end)\n`,
    'job.lua': `${present}\nprint(present())\n`,
    'features_test.lua': `${present}\ntest("features", function() t.eq(present(), "cache,crypto,uuid") end)\n`,
  });
  const selection = ['--features', 'uuid,crypto', '--features', 'cache'];
  try {
    const run = spawnRedox(['run', ...selection, 'job.lua'], { cwd: dir });
    assert.equal(await run.exited, 0, run.stderr());
    assert.equal(run.stdout(), 'cache,crypto,uuid\n');

    for (const command of ['serve', 'dev']) {
      const p = spawnRedox([command, ...selection, 'app.lua', '--port', '0'], { cwd: dir });
      try {
        const res = await fetch(await listeningUrl(p, 30_000));
        assert.equal(await res.text(), 'cache,crypto,uuid', `redox ${command}`);
      } finally {
        p.child.kill('SIGTERM');
        assert.equal(await p.exited, 0, `redox ${command} drains and exits 0 on SIGTERM: ${p.stderr()}`);
      }
    }

    const t = spawnRedox(['test', ...selection, '--no-app', 'features_test.lua'], { cwd: dir });
    assert.equal(await t.exited, 0, t.stdout() + t.stderr());

    // build reads the list the same way: the third name is checked as a feature of its own.
    const b = spawnRedox(['build', '--features', 'uuid,crypto', '--features', 'nosuch', '--out', 'x'], { cwd: dir });
    assert.equal(await b.exited, 2);
    assert.match(b.stderr(), /unknown feature "nosuch"/);
    assert.ok(!fs.existsSync(path.join(dir, 'x')), 'nothing is built');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
