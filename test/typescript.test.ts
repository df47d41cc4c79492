// TypeScript authoring: `redox compile`, on-the-fly compiling in serve/run, TypeScript positions
// in errors, the declarations (every declared function called from TypeScript), the LuaLS
// annotations rendered from them, and Node/Lua equivalence of a program using the language.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import * as esbuild from 'esbuild';
import * as ts from 'typescript';
import { compileApp } from '../core/tooling/typescript/compile';
import { compileAppCached } from '../core/tooling/typescript/compile-cache';
import { compiledAppSource } from '../core/tooling/dev/target';
import { coreDeclaration, featureDeclarations } from '../core/tooling/typescript/declarations';
import { renderLuaMeta } from '../core/tooling/typescript/luals';
import { startService } from '../core/runtime/launch';
import { resolveLimits } from '../core/runtime/limits';
import { isRedoxError } from '../core/errors';
import { listeningUrl, luaWith, memoryLogger, profileFor, ROOT, spawnRedox, tempDir, withEnv } from './support/harness';
import { startPostgres, startRedis, PostgresServer, RedisServer } from './support/servers';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'ts');

function write(dir: string, files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

async function redox(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const p = spawnRedox(args, { cwd, env: { NO_COLOR: '1', ...env } });
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** The line of the first occurrence of `marker` in a file (1-based). */
function lineOf(file: string, marker: string): number {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(marker));
  assert.ok(i >= 0, `${marker} not in ${file}`);
  return i + 1;
}

describe('redox compile', () => {
  it('reports type errors and what TypeScriptToLua cannot translate as file:line:col, and exits 1', async () => {
    const dir = write(tempDir(), {
      'app.ts': 'const app = redox.router();\nconst port: number = "3000";\napp.get("/", (req) => req.nope);\nconsole.log(/a+/.test("aa"), port);\nexport default app;\n',
    });
    const r = await redox(['compile', 'app.ts'], dir);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /app\.ts:2:7 - error TS2322: Type 'string' is not assignable to type 'number'/);
    assert.match(r.stderr, /app\.ts:3:27 - error TS2339: Property 'nope' does not exist/);
    assert.match(r.stderr, /app\.ts:4:13 - error TSTL: Unsupported node kind RegularExpressionLiteral/);
    assert.match(r.stderr, /REDOX_COMPILE/);
    assert.equal(fs.existsSync(path.join(dir, 'app.lua')), false, 'nothing written on errors');
  });

  it('writes one Lua file, with its local imports, that runs where no TypeScript is', async () => {
    const dir = write(tempDir(), {
      'app.ts': 'import { greet } from "./lib/greet";\nconst app = redox.router();\napp.get("/hi/:name", (req) => greet(req.params.name));\nexport default app;\n',
      'lib/greet.ts': 'export function greet(name: string): string {\n  return `hello ${name}`;\n}\n',
    });
    const r = await redox(['compile', 'app.ts', '-o', 'out/service.lua'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /compiled 2 files to out\/service\.lua/);
    // Alone in an empty folder: no .ts files, no lib/ folder.
    const alone = tempDir();
    fs.copyFileSync(path.join(dir, 'out', 'service.lua'), path.join(alone, 'service.lua'));
    const p = spawnRedox(['serve', 'service.lua', '--port', '0', '--features', 'uuid'], { cwd: alone });
    try {
      const url = await listeningUrl(p);
      const res = await fetch(`${url}/hi/ada`);
      assert.equal(await res.text(), 'hello ada');
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });

  it('parses TypeScript\'s lib files and the Redox declarations once per process, again after a declaration changes', () => {
    const one = write(tempDir(), { 'app.ts': 'export const id: string = uuid.v4();\n' });
    const two = write(tempDir(), { 'app.ts': 'export const n: number = 1;\n' });
    const first = compileApp(path.join(one, 'app.ts'), { cwd: one }).program!;
    const second = compileApp(path.join(two, 'app.ts'), { cwd: two }).program!;
    const lib = first.getSourceFiles().find((f) => /lib\.es5\.d\.ts$/.test(f.fileName))!;
    assert.ok(lib, 'the first program has lib.es5.d.ts');
    const redox = coreDeclaration().path;
    assert.equal(second.getSourceFile(lib.fileName), lib, 'the same parsed lib file');
    assert.equal(second.getSourceFile(redox), first.getSourceFile(redox), 'the same parsed declaration');
    // A declaration whose mtime changed is parsed again (its content is the same, so only the
    // object differs); its original times are put back.
    const st = fs.statSync(redox);
    try {
      fs.utimesSync(redox, st.atime, new Date(st.mtimeMs + 2000));
      const third = compileApp(path.join(two, 'app.ts'), { cwd: two }).program!;
      assert.notEqual(third.getSourceFile(redox), first.getSourceFile(redox));
      assert.equal(third.getSourceFile(lib.fileName), lib);
    } finally {
      fs.utimesSync(redox, st.atime, st.mtime);
    }
  });

  it('refuses a local module named like a Redox module', () => {
    const dir = write(tempDir(), { 'app.ts': 'import { x } from "./uuid";\nconsole.log(x);\n', 'uuid.ts': 'export const x = 1;\n' });
    assert.throws(() => compileApp(path.join(dir, 'app.ts'), { cwd: dir }), (err: unknown) =>
      isRedoxError(err) && err.code === 'REDOX_COMPILE' && /uuid\.ts would be module "uuid"/.test(err.message));
  });

  it('compiles declarations to the right Lua calls: "." for functions, ":" for methods', () => {
    const dir = write(tempDir(), {
      'app.ts': [
        'const app = redox.router();',
        'app.get("/", (req) => {',
        '  const [db] = sqlite.open(":memory:");',
        '  const rows = db?.query("select 1");',
        '  const c = cache.new();',
        '  c.set("k", 1);',
        '  log.info("x", { id: uuid.v4(), body: req.body(), n: json.encode(req.json()) });',
        '  return { json: rows };',
        '});',
        'export default app;',
      ].join('\n'),
    });
    const lua = compileApp(path.join(dir, 'app.ts'), { cwd: dir }).modules.find((m) => m.name === 'app')!.source;
    for (const call of ['redox.router()', 'app:get(', 'sqlite.open(', 'db:query(', 'cache.new()', 'c:set(', 'log.info(', 'uuid.v4()', 'req:body()', 'json.encode(', 'req:json()']) {
      assert.ok(lua.includes(call), `${call} not in:\n${lua}`);
    }
  });
});

describe('compile cache', () => {
  it('answers an unchanged app from the cache, and compiles again when any of its files changes', async () => {
    const dir = write(tempDir(), {
      'app.ts': 'import { greet } from "./lib/greet";\nprint(greet("ada"));\n',
      'lib/greet.ts': 'export function greet(name: string): string {\n  return `hello ${name}`;\n}\n',
    });
    const env = { REDOX_BUILD_CACHE: tempDir() };
    // The cache's rules are checked in this process, on the function `compile`, `run`, `serve`
    // and `build` all call (each real compile in a CLI process would load TypeScript again);
    // the commands themselves are checked on its answers below.
    const compile = (extra: Record<string, string> = {}) => {
      const c = withEnv({ ...env, ...extra }, () => compileAppCached(path.join(dir, 'app.ts'), { cwd: dir }));
      return { lua: c.lua, cached: c.cached === true };
    };
    const first = compile();
    assert.equal(first.cached, false);
    const second = compile();
    assert.equal(second.cached, true);
    assert.equal(second.lua, first.lua);
    // `redox compile` and `redox run` answer from the same cache.
    const cli = await redox(['compile', 'app.ts'], dir, env);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /compiled 2 files to app\.lua in \d+ ms \(unchanged: from the compile cache\)/);
    assert.equal(fs.readFileSync(path.join(dir, 'app.lua'), 'utf8'), first.lua);
    const run = await redox(['run', 'app.ts'], dir, env);
    assert.equal(run.stdout, 'hello ada\n', run.stderr);

    // An imported file changes: a real compile, with the change in it.
    fs.writeFileSync(path.join(dir, 'lib/greet.ts'), 'export function greet(name: string): string {\n  return `hi ${name}`;\n}\n');
    const changed = compile();
    assert.equal(changed.cached, false);
    assert.match(changed.lua, /"hi "/);

    // A type error is kept too: the same files give the same error without loading TypeScript
    // (seen from the CLI); fixing the file finds the earlier entry again.
    const good = fs.readFileSync(path.join(dir, 'app.ts'), 'utf8');
    fs.writeFileSync(path.join(dir, 'app.ts'), good + 'const n: number = "x";\n');
    const entries = () => fs.readdirSync(path.join(env.REDOX_BUILD_CACHE, 'typescript')).sort();
    const kept = entries();
    let reported = '';
    assert.throws(() => compile(), (err: unknown) => isRedoxError(err) && err.code === 'REDOX_COMPILE' && /app\.ts:3:7 - error TS2322/.test(reported = err.message));
    assert.equal(entries().length, kept.length + 1, 'the failure was kept');
    const probe = path.join(dir, '..', 'probe-modules.js');
    const loaded = path.join(dir, '..', 'loaded.txt');
    fs.writeFileSync(probe, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(loaded)}, Object.keys(require.cache).join('\\n')));`);
    const again = await redox(['compile', 'app.ts'], dir, { ...env, NODE_OPTIONS: `--require ${probe}` });
    assert.equal(again.code, 1);
    assert.ok(again.stderr.includes(reported), again.stderr);
    assert.ok(!fs.readFileSync(loaded, 'utf8').includes(`${path.sep}typescript${path.sep}lib${path.sep}`), 'TypeScript was not loaded');
    assert.equal(entries().length, kept.length + 1);
    fs.writeFileSync(path.join(dir, 'app.ts'), good);
    assert.equal(compile().cached, true);

    // REDOX_COMPILE_CACHE=0: always compiled.
    assert.equal(compile({ REDOX_COMPILE_CACHE: '0' }).cached, false);
  });
});

describe('runtime errors in TypeScript apps', () => {
  const dir = tempDir();
  write(dir, {
    'app.ts': [
      'import { parse } from "./lib/parse";',
      'const app = redox.router();',
      '',
      'app.get("/nil", () => {',
      '  const user: any = undefined;',
      '  return user.name; // NIL',
      '});',
      'app.get("/throw", () => {',
      '  throw new Error("broken"); // THROW',
      '});',
      'app.get("/lib", () => String(parse("x")));',
      'app.get("/hoisted", hoisted);',
      '',
      '// Declared after its use: TypeScriptToLua hoists it, the line numbers still hold.',
      'function hoisted(): string {',
      '  const n: any = {};',
      '  return n.a.b; // HOISTED',
      '}',
      'export default app;',
    ].join('\n'),
    'lib/parse.ts': 'export function parse(s: string): number {\n  const v: any = null;\n  return v.length + s.length; // LIB\n}\n',
    'script.ts': 'const items = [1, 2, 3];\nconsole.log("before");\nconst missing: any = items[10];\nmissing.call(); // SCRIPT\n',
    'load.ts': 'const app = redox.router();\nconst config: any = undefined;\nconst port = config.port; // LOAD\nexport default app;\n',
  });
  let url = '';
  let close: () => Promise<void> = async () => undefined;
  const log = memoryLogger();

  before(async () => {
    const { app } = compiledAppSource('app.ts', dir);
    const service = await startService(profileFor([]), app, { host: '127.0.0.1', port: 0, limits: resolveLimits({}), log, dev: true });
    url = service.url;
    close = () => service.close();
  });
  after(() => close());

  const cases: [string, string, string, string][] = [
    ['an error raised by Lua', '/nil', 'app.ts', 'NIL'],
    ['a thrown Error', '/throw', 'app.ts', 'THROW'],
    ['an error in an imported module', '/lib', 'lib/parse.ts', 'LIB'],
    ['an error in a hoisted function', '/hoisted', 'app.ts', 'HOISTED'],
  ];
  for (const [what, route, file, marker] of cases) {
    it(`reports ${what} at its TypeScript line (${route})`, async () => {
      const res = await fetch(url + route);
      assert.equal(res.status, 500);
      const body = await res.json() as { error: string; traceback: string };
      const where = `${file}:${lineOf(path.join(dir, file), marker)}:`;
      assert.ok(body.traceback.includes(where), `${where} not in ${body.traceback}`);
      log.flush();
      assert.ok(log.lines.some((l) => l.includes('handler failed') && l.includes(where)), `${where} not in the log`);
    });
  }

  it('names the TypeScript line of an error in a script run by `redox run`', async () => {
    const r = await redox(['run', 'script.ts'], dir);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'before\n');
    assert.match(r.stderr, new RegExp(`script\\.ts:${lineOf(path.join(dir, 'script.ts'), 'SCRIPT')}: attempt to index a nil value`));
  });

  it('names the TypeScript line of an error while the app loads', async () => {
    const r = await redox(['serve', 'load.ts', '--port', '0'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`load\\.ts:${lineOf(path.join(dir, 'load.ts'), 'LOAD')}: attempt to index a nil value`));
    assert.match(r.stderr, /REDOX_APP_LOAD/);
  });
});

/** Function names declared in a .d.ts: methods, function-typed properties, functions. */
/** Each declared function, and how code calls it: a top-level `declare function` bare
 *  (`get(`), a member or namespace function qualified (`db.get(`, `uuid.v4(`). */
function declaredCalls(file: string, options: { skipTsOnly?: boolean } = {}): { name: string; qualified: boolean }[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ESNext, true);
  const calls = new Map<string, { name: string; qualified: boolean }>();
  const add = (name: string, qualified: boolean) => calls.set(`${name}/${qualified}`, { name, qualified });
  const visit = (node: ts.Node) => {
    if (options.skipTsOnly && ts.getJSDocTags(node).some((t) => t.tagName.text === 'tsonly')) return;
    if (ts.isFunctionDeclaration(node) && node.name) add(node.name.getText(), node.parent !== source);
    if (ts.isMethodSignature(node) && node.name) add(node.name.getText(), true);
    if (ts.isPropertySignature(node) && node.type && ts.isFunctionTypeNode(node.type)) add(node.name.getText(), true);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return [...calls.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function declaredFunctions(file: string, options: { skipTsOnly?: boolean } = {}): string[] {
  return [...new Set(declaredCalls(file, options).map((c) => c.name))].sort();
}

/** The program that runs every API fixture (`<name>_api.ts`, core first), written beside them:
 *  fixtures are found, not listed, so a new feature only adds its own file. */
function renderApiMain(dir: string): string {
  const names = fs.readdirSync(dir).filter((f) => f.endsWith('_api.ts')).map((f) => f.slice(0, -'_api.ts'.length))
    .sort((a, b) => (a === 'core' ? -1 : b === 'core' ? 1 : a.localeCompare(b)));
  return [
    '// Generated by test/typescript.test.ts from the *_api.ts files beside it.',
    ...names.map((n) => `import * as ${n}Api from './${n}_api';`),
    ...names.map((n) => `${n}Api.run();\nconsole.log('ok ${n}');`),
    '',
  ].join('\n');
}

/** The calls of `decl` that `text` lacks. */
function missingCalls(calls: { name: string; qualified: boolean }[], text: string): string[] {
  return calls.filter(({ name, qualified }) => !new RegExp(`${qualified ? '\\.' : '(^|[^\\w.])'}${name}\\s*[(<]`, 'm').test(text))
    .map(({ name, qualified }) => (qualified ? '.' : '') + name);
}

describe('declarations', () => {
  let echo: http.Server;
  let echoUrl = '';
  // The postgres and redis API programs need real servers.
  let pg: PostgresServer | undefined;
  let rs: RedisServer | undefined;
  before(async () => {
    [pg, rs] = await Promise.all([startPostgres(), startRedis()]);
    echo = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(req.method === 'HEAD' ? '' : JSON.stringify({ method: req.method, url: req.url, body }));
      });
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
  });
  after(async () => {
    await Promise.all([pg?.close(), rs?.close()]);
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  const apiDir = path.join(FIXTURES, 'api');
  // Each declaration file has its own fixture, so a name declared in several files (get, delete,
  // json, ...) must be called in each one's fixture.
  const fixtureOf = (decl: { feature?: string }) => path.join(apiDir, `${decl.feature ?? 'core'}_api.ts`);

  it('a program calling every declared function compiles and runs (core and every feature with a .d.ts)', async () => {
    // A copy, so the generated main.ts never lands in the source tree.
    const dir = tempDir();
    fs.cpSync(apiDir, dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'main.ts'), renderApiMain(dir));
    const r = await redox(['run', 'main.ts', 'first-arg', echoUrl], dir, {
      REDOX_API_TEST: 'yes', REDOX_LOG_LEVEL: 'debug', REDOX_API_POSTGRES_URL: pg!.url, REDOX_API_REDIS_URL: rs!.url,
    }).finally(() => fs.rmSync(dir, { recursive: true, force: true }));
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const expected = ['core', ...featureDeclarations().map((d) => d.feature!)];
    for (const name of expected) assert.match(r.stdout, new RegExp(`^ok ${name}$`, 'm'), `no "ok ${name}" in:\n${r.stdout}`);
    // print keeps Lua's tabs; console.log formats like Node, tables as JSON.
    assert.match(r.stdout, /^print\t1\ttrue$/m);
    assert.match(r.stdout, /^console\.log 1\.5 \{"a":1\}$/m);
    for (const msg of ['debug line', 'info line', 'warn line', 'error line', 'console.warn', 'console.error']) {
      assert.ok(r.stderr.includes(`"msg":"${msg}"`), `log line ${msg} missing:\n${r.stderr}`);
    }
  });

  it('a test file calling every function of the redox test API compiles and passes', async () => {
    const r = await redox(['test', 'testing.test.ts', '--app', 'testing_app.ts', '--features', 'uuid'], apiDir, {});
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^3 passed, 0 failed, 1 skipped \(1 file, /m);
  });

  it('the call check tells a bare call from a qualified one, so one file\'s call cannot cover another\'s', () => {
    const calls = [{ name: 'get', qualified: true }, { name: 'get', qualified: false }];
    assert.deepEqual(missingCalls(calls, 'get("/", h)\n'), ['.get']);
    assert.deepEqual(missingCalls(calls, 'db.get("SELECT 1")\n'), ['get']);
    assert.deepEqual(missingCalls(calls, 'get("/", h)\nconst row = db.get<Row>("SELECT 1")\n'), []);
  });

  for (const decl of [coreDeclaration(), ...featureDeclarations()]) {
    it(`the API program calls every function of ${decl.name}`, () => {
      const fixture = fixtureOf(decl);
      // redox.d.ts also declares the `redox test` API (t, test, describe, ...): testing.test.ts calls those.
      const extra = decl.feature ? '' : fs.readFileSync(path.join(apiDir, 'testing.test.ts'), 'utf8');
      const missing = missingCalls(declaredCalls(decl.path), fs.readFileSync(fixture, 'utf8') + '\n' + extra);
      assert.deepEqual(missing, [], `extend ${path.relative(ROOT, fixture)} to call: ${missing.join(', ')}`);
    });
  }
});

describe('LuaLS annotations', () => {
  const decls = [coreDeclaration(), ...featureDeclarations()];
  const meta = renderLuaMeta(decls.map((d) => ({ name: d.name, text: fs.readFileSync(d.path, 'utf8'), module: d.feature })));
  const byName = new Map(meta.map((m) => [m.name, m.text]));

  it('are valid Lua, one ---@meta file per declaration file', async () => {
    assert.deepEqual(meta.map((m) => m.name).sort(), decls.map((d) => d.name.replace(/\.d\.ts$/, '.lua')).sort());
    const lua = await luaWith([]);
    try {
      for (const m of meta) {
        assert.match(m.text, /^---@meta/);
        const ok = await lua.run(`local f, err = load(${JSON.stringify(m.text)}, "=${m.name}") return f ~= nil or err`);
        assert.equal(ok, true, `${m.name}: ${ok}`);
      }
    } finally {
      await lua.close();
    }
  });

  it('give free functions no self, methods a self, and nil, err returns two values', () => {
    const core = byName.get('redox.lua')!;
    assert.match(core, /^---@field encode fun\(value: any, options\?: json\.Options\): string/m);
    assert.match(core, /^---@field get fun\(self: redox\.Router, path: string, handler: redox\.Handler\): redox\.Router/m);
    assert.match(core, /^---@field json fun\(self: redox\.Request\): any/m);
    assert.match(core, /^---@alias redox\.Handler fun\(req: redox\.Request\): redox\.Response$/m);
    assert.doesNotMatch(core, /^(console|arg) = /m, 'TypeScript-only declarations stay out');
    const sqlite = byName.get('sqlite.lua');
    if (sqlite) {
      assert.match(sqlite, /^---@meta sqlite$/m);
      assert.match(sqlite, /^---@field open fun\(path: string, opts\?: SqliteOpenOptions\): SqliteDatabase\?, SqliteError\?/m);
      assert.match(sqlite, /^---@field query fun\(self: SqliteDatabase, sql: string, \.\.\.: any\): SqliteRow\[\]\?, SqliteError\?/m);
      assert.match(sqlite, /^return sqlite$/m);
    }
  });

  it('cover every function the TypeScript declarations have', () => {
    for (const d of decls) {
      const text = byName.get(d.name.replace(/\.d\.ts$/, '.lua'))!;
      // @tsonly declarations (print, console, arg) are Lua's own or exist only in TypeScript.
      const missing = declaredFunctions(d.path, { skipTsOnly: true }).filter((name) => !new RegExp(`(---@field ${name}\\??|function ${name}\\()`).test(text));
      assert.deepEqual(missing, [], `${d.name}: not annotated: ${missing.join(', ')}`);
    }
  });
});

describe('TypeScript semantics', () => {
  it('a program using classes, closures, destructuring, templates, Map/Set, array and string methods, optional chaining, try/catch and JSON prints the same under Node and redox run', async () => {
    const file = path.join(FIXTURES, 'equivalence', 'program.ts');
    const js = esbuild.transformSync(fs.readFileSync(file, 'utf8'), { loader: 'ts', format: 'cjs', target: 'node20' }).code;
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'program.js'), js);
    const node = spawnRedox([path.join(dir, 'program.js')], { bin: [process.execPath] });
    assert.equal(await node.exited, 0, node.stderr());
    const lua = await redox(['run', file], dir);
    assert.equal(lua.code, 0, lua.stderr);
    assert.ok(node.stdout().split('\n').length > 50, 'the program prints its results');
    assert.equal(lua.stdout, node.stdout());
  });

  it('String/Array methods TypeScriptToLua lacks (lastIndexOf, at, findLast, ...) compile and match Node', async () => {
    const program = [
      'const s = "a,b,a";',
      'const a = [3, 1, 2, 1];',
      'const tuple: [number, string] = [1, "x"];',
      'const own = { lastIndexOf: (x: string) => x.length };',
      'const results: unknown[] = [',
      '  s.lastIndexOf("a"), s.lastIndexOf("a", 3), s.lastIndexOf("z"), s.lastIndexOf(""), "abc".lastIndexOf("", 1), s.lastIndexOf("a", -5),',
      '  s.at(-1), s.at(0), "é".codePointAt(0), "A".codePointAt(0), s.localeCompare("b"), "B".localeCompare("A"), "x".localeCompare("x"),',
      '  "AbC".toLocaleLowerCase(), s.toLocaleUpperCase(), s.isWellFormed(),',
      '  a.lastIndexOf(1), a.lastIndexOf(1, 2), a.lastIndexOf(1, -2), a.lastIndexOf(9), tuple.lastIndexOf("x"),',
      '  a.findLast((x) => x > 1), a.findLastIndex((x) => x > 5), a.findLastIndex((_x, i) => i === 0), own.lastIndexOf("four"),',
      '];',
      'console.log(JSON.stringify(results));',
    ].join('\n');
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'methods.ts'), program);
    fs.writeFileSync(path.join(dir, 'methods.js'), esbuild.transformSync(program, { loader: 'ts', format: 'cjs', target: 'node20' }).code);
    const node = spawnRedox([path.join(dir, 'methods.js')], { bin: [process.execPath] });
    assert.equal(await node.exited, 0, node.stderr());
    const lua = await redox(['run', 'methods.ts'], dir);
    assert.equal(lua.code, 0, lua.stderr);
    assert.equal(lua.stdout, node.stdout());
  });
});
