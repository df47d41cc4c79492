// `redox build`: real single-executable binaries (~85 MB each), run from an empty folder with an
// empty environment. Each distinct binary is built once in before() and shared by the tests;
// everything lives in one temp folder deleted at the end.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Metafile } from 'esbuild';
import { exitedWithin, listeningUrl, placeBinary, ROOT, sha256File, spawnRedox, Spawned, tempDir } from './support/harness';
import { startPostgres, startRedis } from './support/servers';
import { builtFixture } from './support/binaries';
import { loadCatalogue, distroFeatures } from '../core/tooling/catalogue/catalogue';
import { BuildManifest } from '../core/tooling/build/manifest';
import { planBuild } from '../core/tooling/build/plan';
import { SizesReport, writeFolderReports } from '../core/tooling/build/sizes';
import { smokeTest } from '../core/tooling/build/smoke';
import { withDefaultCommand } from '../cli/binary-main';

// The isolated runs use `env -i` and POSIX paths; Windows builds are exercised by the workflow.
const skip = process.platform === 'win32' ? 'needs a POSIX shell (env -i)' : false;
const TMP = tempDir('redox-build-test-');
// Output folders of the shared binaries (test/support/binaries.ts), set in before().
let ALL = '';
let CUSTOM = '';
let PROJECT = '';
let PROJECT_OUT = '';
/** A second, independent build of minimal, for the byte-identical check. */
const AGAIN = path.join(TMP, 'again');
/** A fresh folder inside TMP, so after() deletes it with every binary copied there. */
const scratch = (prefix = 'dir-') => fs.mkdtempSync(path.join(TMP, prefix));

function write(dir: string, files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

async function redox(args: string[], cwd = TMP): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const p = spawnRedox(args, { cwd, env: { NO_COLOR: '1' } });
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

async function mustBuild(args: string[], cwd = TMP): Promise<string> {
  const r = await redox(['build', ...args], cwd);
  assert.equal(r.code, 0, `redox build ${args.join(' ')} failed:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** The binary alone in a fresh folder, with the given extra files. */
function isolate(binary: string, files: Record<string, string> = {}): { dir: string; bin: string } {
  const dir = scratch('isolated-');
  const bin = path.join(dir, path.basename(binary));
  placeBinary(binary, bin);
  write(dir, files);
  return { dir, bin };
}

/** Runs the binary under `env -i` (plus `env`), so no PATH to node and no NODE_* settings.
 *  Assets are extracted under TMP unless `env` sets REDOX_CACHE_DIR ('' means the default). */
function runIsolated(dir: string, bin: string, args: string[], env: Record<string, string> = {}): Spawned {
  const assignments = Object.entries({ REDOX_CACHE_DIR: path.join(TMP, 'cache'), ...env }).map(([k, v]) => `${k}=${v}`);
  return spawnRedox(args, { cwd: dir, bin: ['env', '-i', ...assignments, `./${path.basename(bin)}`] });
}

async function finish(p: Spawned): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

async function serving<T>(p: Spawned, use: (url: string) => Promise<T>): Promise<T> {
  try {
    return await use(await listeningUrl(p));
  } finally {
    p.child.kill('SIGTERM');
    await p.exited;
  }
}

const manifest = (dir: string, name: string) => JSON.parse(fs.readFileSync(path.join(dir, `${name}.manifest.json`), 'utf8')) as BuildManifest;
const metafile = (dir: string, name: string) => JSON.parse(fs.readFileSync(path.join(dir, `${name}.metafile.json`), 'utf8')) as Metafile;
const inputs = (meta: Metafile) => Object.keys(meta.inputs);

const GEO = {
  'geo/index.ts': String.raw`
import { defineFeature, sync } from 'redox/feature';
const rad = (d: number) => (d * Math.PI) / 180;
export default defineFeature({
  install: () => ({
    functions: {
      distance_km: sync((lat1: number, lon1: number, lat2: number, lon2: number) => {
        const a = Math.sin(rad(lat2 - lat1) / 2) ** 2 + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(rad(lon2 - lon1) / 2) ** 2;
        return Math.round(2 * 6371.0088 * Math.asin(Math.sqrt(a)));
      }),
    },
  }),
});
`,
  'geo/feature.json': JSON.stringify({ description: 'Great-circle distances in km', requires: [], packages: [], assets: {} }),
};

/** The project: a local feature, an app with a module in a subfolder, and redox.json tying them. */
const PROJECT_FILES = {
  ...GEO,
  'app/app.lua': 'local util = require("lib.util")\nlocal app = redox.router()\n' +
    'app:get("/distance", function() return { json = { km = geo.distance_km(48.8566, 2.3522, 51.5074, -0.1278), id_ok = util.check(uuid.v4()) } } end)\n' +
    'return app\n',
  'app/lib/util.lua': 'return { check = function(id) return uuid.validate(id) end }\n',
  'redox.json': JSON.stringify({ features: ['uuid'], with: ['./geo'], app: 'app/app.lua' }),
};

before(async () => {
  if (skip) return;
  // Independent builds run side by side; each distinct binary is built once per test run.
  const [all, custom, project] = await Promise.all([
    // --node-version 26 (the default line, so AGAIN's default build must match it byte for byte):
    // node-base.test.ts checks this `web` binary as its Node 26 one.
    builtFixture({ args: ['--all-distros', '--node-version', '26'] }),
    builtFixture({ args: ['--features', 'sqlite,uuid'] }),
    builtFixture({ args: ['--name', 'svc'], files: PROJECT_FILES }),
    mustBuild(['--distro', 'minimal', '--out', AGAIN]),
  ]);
  ALL = all.out;
  CUSTOM = custom.out;
  PROJECT = project.project;
  PROJECT_OUT = project.out;
});

after(() => {
  fs.rmSync(TMP, { recursive: true, force: true });
});

test('sqlite,uuid: the binary alone serves an app using both features under env -i', { skip }, async () => {
  const { dir, bin } = isolate(path.join(CUSTOM, 'redox-custom'), {
    'app.lua': String.raw`
local db = assert(sqlite.open("data.db"))
assert(db:exec("CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, body TEXT)"))
local app = redox.router()
app:post("/notes", function(req)
  local id = uuid.v4()
  assert(db:run("INSERT INTO notes (id, body) VALUES (?, ?)", id, req:body()))
  return { status = 201, json = { id = id } }
end)
app:get("/notes/:id", function(req)
  local row = db:get("SELECT body FROM notes WHERE id = ?", req.params.id)
  if not row then return { status = 404, json = { error = "not found" } } end
  return { json = { body = row.body, v4 = uuid.version(req.params.id) } }
end)
return app
`,
  });
  assert.deepEqual(fs.readdirSync(dir).sort(), ['app.lua', 'redox-custom']);
  const features = await finish(runIsolated(dir, bin, ['features', '--json']));
  assert.equal(features.code, 0, features.stderr);
  assert.deepEqual(JSON.parse(features.stdout), { distro: null, features: ['sqlite', 'uuid'] });
  const server = runIsolated(dir, bin, ['serve', 'app.lua', '--port', '0'], { REDOX_LOG_LEVEL: 'debug' });
  await serving(server, async (url) => {
    const created = await fetch(url + '/notes', { method: 'POST', body: 'hello from the binary' });
    assert.equal(created.status, 201);
    const { id } = await created.json() as { id: string };
    const read = await fetch(`${url}/notes/${id}`);
    assert.deepEqual(await read.json(), { body: 'hello from the binary', v4: 4 });
  });
  assert.ok(fs.existsSync(path.join(dir, 'data.db')), 'the database is a real file beside the binary');
  // The core and feature Lua came precompiled in the binary: nothing was parsed at boot.
  assert.ok(manifest(CUSTOM, 'redox-custom').assets['redox/lua-chunks.json'], 'precompiled chunks embedded');
  const chunks = JSON.parse(server.stdout().split('\n').find((l) => l.includes('"lua chunks"')) ?? 'null') as { precompiled: number; parsed: number } | null;
  assert.ok(chunks && chunks.precompiled >= 12 && chunks.parsed === 0, `boot: ${JSON.stringify(chunks)}`);
});

test('web minus requests: Lua has no way to open an outbound connection', { skip }, async () => {
  const { dir, bin } = isolate(path.join(CUSTOM, 'redox-custom'), {
    'probe.lua': String.raw`
local ok, err = pcall(require, "requests")
print("require", ok, err)
print("global", pcall(function() return requests.get end))
-- Everything reachable from _G: no socket, process, file or FFI entry point.
local seen, names = {}, {}
local function walk(t, prefix)
  if seen[t] then return end
  seen[t] = true
  for k, v in pairs(t) do
    if type(k) == "string" then
      if type(v) == "function" then names[#names + 1] = prefix .. k end
      if type(v) == "table" and k ~= "loaded" then walk(v, prefix .. k .. ".") end
    end
  end
end
walk(_G, "")
table.sort(names)
print("functions", table.concat(names, " "))
`,
  });
  const r = await finish(runIsolated(dir, bin, ['run', 'probe.lua']));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^require\tfalse\tfeature "requests" is not included in this build \(features: sqlite, uuid\)/m);
  assert.match(r.stdout, /^global\tfalse\t.*feature "requests" is not included/m);
  const fns = /^functions\t(.*)$/m.exec(r.stdout)![1].split(' ');
  for (const f of fns) assert.doesNotMatch(f, /socket|^https?\b|fetch|^requests\.|execute|popen|loadlib|^io\.|^os\.(exit|remove|rename|getenv)/i, f);
  assert.ok(fns.includes('sqlite.open') && fns.includes('uuid.v4'), 'the walk sees the features that are there');
});

test('web: the binary serves an app using sqlite, uuid and requests (to a real upstream)', { skip }, async () => {
  const upstream = http.createServer((req, res) => res.end(JSON.stringify({ upstream: true, path: req.url })));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as AddressInfo).port;
  try {
    const { dir, bin } = isolate(path.join(ALL, 'redox-web'), {
      'app.lua': String.raw`
local db = assert(sqlite.open(":memory:"))
local app = redox.router()
app:get("/", function()
  local res, err = requests.get("http://127.0.0.1:${port}/ping")
  if not res then return { status = 502, json = { error = tostring(err) } } end
  local row = db:get("SELECT 40 + 2 AS answer")
  return { json = { up = res:json(), answer = row.answer, id = uuid.validate(uuid.v7()) } }
end)
return app
`,
    });
    const features = await finish(runIsolated(dir, bin, ['features', '--json']));
    assert.deepEqual(JSON.parse(features.stdout), { distro: 'web', features: ['metrics', 'requests', 'sqlite', 'uuid'] });
    await serving(runIsolated(dir, bin, ['serve', 'app.lua', '--port', '0']), async (url) => {
      const res = await fetch(url + '/');
      assert.deepEqual(await res.json(), { up: { upstream: true, path: '/ping' }, answer: 42, id: true });
    });
  } finally {
    upstream.close();
  }
});

test('service: the binary alone serves an app on PostgreSQL and Redis (real servers) under env -i', { skip }, async () => {
  const [pg, rs] = await Promise.all([startPostgres(), startRedis()]);
  try {
    const { dir, bin } = isolate(path.join(ALL, 'redox-service'), {
      'app.lua': String.raw`
local db = postgres.connect(redox.env("DATABASE_URL"))
local r = redis.connect(redox.env("REDIS_URL"))
assert(db:run("CREATE TABLE IF NOT EXISTS items (id bigserial PRIMARY KEY, name text NOT NULL)"))
local app = redox.router()
app:post("/items", function(req)
  local res = assert(db:run("INSERT INTO items (name) VALUES ($1) RETURNING id", req:body()))
  return { status = 201, json = { id = res.rows[1].id } }
end)
app:get("/items/:id", function(req)
  local key = "item:" .. req.params.id
  local cached = r:get(key)
  if cached then return { json = { name = cached, from = "redis" } } end
  local row = db:get("SELECT name FROM items WHERE id = $1", tonumber(req.params.id))
  if not row then return { status = 404, json = { error = "not found" } } end
  assert(r:set(key, row.name, { ex = 60 }))
  return { json = { name = row.name, from = "postgres", digest = crypto.sha256(row.name) } }
end)
return app
`,
    });
    const server = runIsolated(dir, bin, ['serve', 'app.lua', '--port', '0'], { DATABASE_URL: pg.url, REDIS_URL: rs.url });
    await serving(server, async (url) => {
      const created = await fetch(url + '/items', { method: 'POST', body: 'widget' });
      assert.equal(created.status, 201);
      const { id } = await created.json() as { id: number };
      const first = await (await fetch(`${url}/items/${id}`)).json() as Record<string, string>;
      assert.equal(first.from, 'postgres');
      assert.equal(first.digest, crypto.createHash('sha256').update('widget').digest('hex'));
      assert.deepEqual(await (await fetch(`${url}/items/${id}`)).json(), { name: 'widget', from: 'redis' });
    });
    // Optional packages the clients try to require (supports-color, pg-native) are not looked
    // up on disk, which Node's SEA require would warn about at every start.
    assert.doesNotMatch(server.stderr(), /single-executable|Warning/);
  } finally {
    await Promise.all([pg.close(), rs.close()]);
  }
});

test('minimal: serves a core-only app (also with --workers 2 and no target), and an absent feature fails clearly', { skip }, async () => {
  const { dir, bin } = isolate(path.join(ALL, 'redox-minimal'), {
    'app.lua': 'get("/", function(req) return json.encode({ ok = true, features = #redox.features }) end)\n',
    'needs-uuid.lua': 'local uuid = require("uuid")\nprint(uuid.v4())\n',
    'mod.lua': 'local M = {}\nfunction M.f() end\nreturn M\n',
  });
  // An asset cache folder that cannot be made is a clear error, not a hang (Node 20's recursive
  // mkdir spins forever under /proc).
  const stuck = runIsolated(dir, bin, ['run', 'mod.lua'], { REDOX_CACHE_DIR: '/proc/redox-nope/cache' });
  assert.equal(await exitedWithin(stuck), 1, stuck.stderr());
  assert.match(stuck.stderr(), /cannot use the asset cache folder \/proc\/redox-nope\/cache: ENOENT.*REDOX_ASSET_CACHE/s);
  const module = await finish(runIsolated(dir, bin, ['run', 'mod.lua']));
  assert.deepEqual([module.code, module.stderr], [0, ''], 'a script returning a module table');
  const features = await finish(runIsolated(dir, bin, ['features', '--json']));
  assert.deepEqual(JSON.parse(features.stdout), { distro: 'minimal', features: [] });
  await serving(runIsolated(dir, bin, ['serve', 'app.lua', '--port', '0']), async (url) => {
    assert.deepEqual(await (await fetch(url + '/')).json(), { ok: true, features: 0 });
  });
  // No target: a binary without an embedded app serves app.lua of the folder it runs in.
  await serving(runIsolated(dir, bin, ['serve', '--port', '0', '--workers', '2']), async (url) => {
    assert.deepEqual(await (await fetch(url + '/')).json(), { ok: true, features: 0 });
  });
  const absent = await finish(runIsolated(dir, bin, ['run', 'needs-uuid.lua'], { REDOX_CACHE_DIR: '', TMPDIR: os.tmpdir() }));
  assert.equal(absent.code, 1);
  assert.match(absent.stderr, /feature "uuid" is not included in this build \(features: none\); rebuild with --features uuid/);
  assert.match(absent.stderr, /needs-uuid\.lua:1/);
  // Without REDOX_CACHE_DIR the wasm goes to a private per-user folder under the temp dir.
  const cache = path.join(os.tmpdir(), `redox-cache-${process.getuid!()}`);
  assert.equal(fs.statSync(cache).mode & 0o777, 0o700);
  const wasm = manifest(ALL, 'redox-minimal').assets['redox/glue.wasm'];
  assert.equal(fs.statSync(path.join(cache, `${wasm.sha256.slice(0, 32)}-glue.wasm`)).size, wasm.bytes);
});

test('version and help come from the build info', { skip }, async () => {
  const { dir, bin } = isolate(path.join(ALL, 'redox-web'));
  const v = await finish(runIsolated(dir, bin, ['version', '--json']));
  const info = JSON.parse(v.stdout);
  assert.equal(info.name, 'redox-web');
  assert.equal(info.distro, 'web');
  assert.equal(info.node, manifest(ALL, 'redox-web').node.version); // the base's Node (the default base, see docs/build.md)
  assert.ok(info.packages.undici && info.packages['better-sqlite3'] && info.packages.wasmoon, JSON.stringify(info.packages));
  const help = await finish(runIsolated(dir, bin, ['--help']));
  assert.equal(help.code, 0);
  for (const cmd of ['serve', 'run', 'features', 'version']) assert.match(help.stdout, new RegExp(`^  ${cmd}\\b`, 'm'));
  assert.doesNotMatch(help.stdout, /\bbuild\b/);
});

test('tree shaking: left-out features leave no code or addon behind (metafile and manifest)', { skip }, () => {
  const builds = [[ALL, 'redox-minimal'], [ALL, 'redox-web'], [ALL, 'redox-full'], [CUSTOM, 'redox-custom']] as const;
  for (const [dir, name] of builds) {
    assert.ok(!inputs(metafile(dir, name)).some((p) => /node_modules\/(esbuild|typescript|typescript-to-lua|postject)\//.test(p)), `${name} bundles a build tool`);
    assert.ok(!inputs(metafile(dir, name)).some((p) => /core\/build\/|cli\/(build|ts|catalogue)-commands\.ts|core\/catalogue\/|core\/ts\//.test(p)), `${name} bundles build-time code`);
  }
  const undici = (dir: string, name: string) => inputs(metafile(dir, name)).some((p) => p.includes('node_modules/undici/'));
  assert.equal(undici(ALL, 'redox-minimal'), false);
  assert.equal(undici(CUSTOM, 'redox-custom'), false);
  assert.equal(undici(ALL, 'redox-web'), true, 'the check finds undici where requests is included');
  const nodeAssets = (dir: string, name: string) => Object.keys(manifest(dir, name).assets).filter((k) => k.endsWith('.node'));
  assert.deepEqual(nodeAssets(ALL, 'redox-minimal'), []);
  assert.deepEqual(nodeAssets(CUSTOM, 'redox-custom'), ['redox/assets/better_sqlite3.node']);
  const minimal = manifest(ALL, 'redox-minimal');
  assert.deepEqual(Object.keys(minimal.packages).sort(), ['busboy', 'commander', 'streamsearch', 'wasmoon'], 'core: busboy (req:form) and its streamsearch');
  assert.deepEqual(Object.keys(minimal.sizes.features), []);
  const custom = manifest(CUSTOM, 'redox-custom');
  assert.ok(custom.sizes.features.sqlite.assets > 1_000_000, 'sqlite carries its addon');
  assert.ok(custom.sizes.features.uuid.js > 0 && custom.sizes.features.uuid.assets === 0);
});

test('--all-distros: sizes.json covers every distro and matches SHA256SUMS and the files; every binary has its Lua precompiled', { skip }, async () => {
  const catalogue = loadCatalogue(ROOT);
  const report = JSON.parse(fs.readFileSync(path.join(ALL, 'sizes.json'), 'utf8')) as SizesReport;
  assert.deepEqual(report.binaries.map((b) => b.distro).sort(), [...catalogue.distros.keys()].sort());
  const sums = new Map(fs.readFileSync(path.join(ALL, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => {
    const [hash, file] = l.split(/\s+/);
    return [file, hash] as const;
  }));
  assert.equal(sums.size, report.binaries.length);
  const minimal = report.binaries.find((b) => b.distro === 'minimal')!;
  for (const b of report.binaries) {
    assert.equal(b.sha256, await sha256File(path.join(ALL, b.name)), b.name);
    assert.equal(sums.get(b.name), b.sha256, b.name);
    assert.equal(b.bytes, fs.statSync(path.join(ALL, b.name)).size);
    assert.deepEqual(b.features, distroFeatures(catalogue.distros, b.distro!));
    assert.equal(b.deltaVsMinimal, b.bytes - minimal.bytes);
    assert.ok(b.bundleBytes > 0 && b.assetBytes > 0 && b.node.bytes > 0);
    assert.ok(b.budget && b.bytes <= b.budget.bytes, `${b.name} within its budget`);
    // Built side by side, each still boots a VM of its own to precompile its Lua.
    assert.ok(manifest(ALL, b.name).assets['redox/lua-chunks.json'], `${b.name}: precompiled Lua embedded`);
  }
  const md = fs.readFileSync(path.join(ALL, 'sizes.md'), 'utf8');
  for (const b of report.binaries) assert.match(md, new RegExp(`^\\| ${b.name} \\| ${b.distro} \\|`, 'm'));
  assert.match(md, /\| redox-web \| sqlite \| /);
});

test('the same inputs give a byte-identical binary', { skip }, async () => {
  const again = AGAIN;
  const strip = (m: BuildManifest) => ({ ...m, sha256: '' });
  assert.deepEqual(strip(manifest(again, 'redox-minimal')), strip(manifest(ALL, 'redox-minimal')), 'same build info and sizes');
  assert.equal(await sha256File(path.join(again, 'redox-minimal')), await sha256File(path.join(ALL, 'redox-minimal')), 'byte-identical');
});

test('a binary over its budget fails the build with the figures, and SHA256SUMS and sizes.md drop it', { skip }, async () => {
  // A folder that already holds minimal and web (hard links: no copy of 85 MB files).
  const out = scratch('stale-');
  for (const name of ['redox-minimal', 'redox-web']) {
    fs.linkSync(path.join(ALL, name), path.join(out, name));
    fs.copyFileSync(path.join(ALL, name + '.manifest.json'), path.join(out, name + '.manifest.json'));
  }
  writeFolderReports(out);
  assert.match(fs.readFileSync(path.join(out, 'SHA256SUMS'), 'utf8'), /  redox-minimal\n/);
  const r = await redox(['build', '--distro', 'minimal', '--budget', '50MiB', '--out', out]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /redox-minimal is [\d.]+ MiB \(\d+ bytes\).*over its budget of 50MiB \(52428800 bytes\)/);
  assert.match(r.stderr, /REDOX_BUILD_BUDGET/);
  assert.deepEqual(fs.readdirSync(out).filter((f) => !f.startsWith('.')).sort(),
    ['SHA256SUMS', 'redox-web', 'redox-web.manifest.json', 'sizes.json', 'sizes.md']);
  const sums = fs.readFileSync(path.join(out, 'SHA256SUMS'), 'utf8');
  assert.equal(sums, `${manifest(ALL, 'redox-web').sha256}  redox-web\n`);
  assert.doesNotMatch(fs.readFileSync(path.join(out, 'sizes.md'), 'utf8'), /redox-minimal/);
  assert.deepEqual((JSON.parse(fs.readFileSync(path.join(out, 'sizes.json'), 'utf8')) as SizesReport).binaries.map((b) => b.name), ['redox-web']);
  // The only binary fails too: no reports are left to describe files that are gone.
  const again = await redox(['build', '--distro', 'web', '--budget', '50MiB', '--out', out]);
  assert.equal(again.code, 1, again.stderr);
  assert.deepEqual(fs.readdirSync(out), [], 'no binary, no reports, nothing half-written');
});

test('local feature + embedded app from redox.json: the binary with no arguments serves the app', { skip }, async () => {
  const dist = PROJECT_OUT;
  assert.ok(fs.existsSync(path.join(PROJECT, 'redox.json')));
  assert.deepEqual(manifest(dist, 'svc').features, ['geo', 'uuid']);
  assert.ok(manifest(dist, 'svc').catalogue.includes('geo'));
  const { dir, bin } = isolate(path.join(dist, 'svc'), { 'other.lua': 'get("/", function() return "other app, geo=" .. type(geo) end)\n' });
  await serving(runIsolated(dir, bin, [], { PORT: '0' }), async (url) => {
    assert.deepEqual(await (await fetch(url + '/distance')).json(), { km: 344, id_ok: true });
  });
  await serving(runIsolated(dir, bin, ['--port', '0']), async (url) => {
    assert.equal((await fetch(url + '/distance')).status, 200);
  });
  await serving(runIsolated(dir, bin, ['serve', 'other.lua', '--port', '0']), async (url) => {
    assert.equal(await (await fetch(url + '/')).text(), 'other app, geo=table');
  });
});

test('--with: a local feature joins the selection and is validated like a built-in one', { skip }, async () => {
  const dir = write(scratch(), { ...GEO, 'bad/index.ts': GEO['geo/index.ts'], 'clash/uuid/index.ts': GEO['geo/index.ts'] });
  const plan = await planBuild(ROOT, { cwd: dir, features: ['uuid'], with: ['./geo'] }, dir);
  assert.deepEqual(plan.targets.map((t) => [t.name, t.distro, t.features]), [['redox-custom', null, ['geo', 'uuid']]]);
  const unlisted = await redox(['build', '--with', './bad'], dir);
  assert.equal(unlisted.code, 2);
  assert.match(unlisted.stderr, /--with \S*\/bad: the folder has no feature\.json/);
  const clash = await redox(['build', '--with', './clash/uuid'], dir);
  assert.match(clash.stderr, /"uuid" is a built-in feature/);
  fs.writeFileSync(path.join(dir, 'geo', 'feature.json'), JSON.stringify({ description: 'Great-circle distances in km', requires: ['nope'], packages: [], assets: {} }));
  const badRequires = await redox(['build', '--with', './geo'], dir);
  assert.match(badRequires.stderr, /features\.geo\.requires names "nope", which is not a feature/);
});

test('two processes starting at once extract the wasm and addon once, atomically', { skip }, async () => {
  const { dir, bin } = isolate(path.join(CUSTOM, 'redox-custom'), { 'hello.lua': 'local db = sqlite.open(":memory:")\nprint(db:get("SELECT 1 AS one").one)\n' });
  const cache = path.join(dir, 'cache');
  const runs = await Promise.all([1, 2, 3].map(() => finish(runIsolated(dir, bin, ['run', 'hello.lua'], { REDOX_CACHE_DIR: cache }))));
  for (const r of runs) assert.deepEqual([r.code, r.stdout.trim()], [0, '1'], r.stderr);
  const files = fs.readdirSync(cache).sort();
  assert.equal(files.length, 2, files.join(', '));
  assert.deepEqual(files.map((f) => f.replace(/^[0-9a-f]{32}-/, '')).sort(), ['better_sqlite3.node', 'glue.wasm']);
});

test('the smoke test rejects a binary that lacks a requested feature or has others', { skip }, async () => {
  await assert.rejects(smokeTest(path.join(ALL, 'redox-minimal'), { features: ['uuid'] }, scratch()), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'REDOX_BUILD_SMOKE');
    assert.match(err.message, /its smoke script \(require each feature\) failed[\s\S]*feature uuid did not load/);
    return true;
  });
  await assert.rejects(smokeTest(path.join(ALL, 'redox-web'), { features: ['uuid'] }, scratch()), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'REDOX_BUILD_SMOKE');
    assert.match(err.message, /has the features \{"features":\["metrics","requests","sqlite","uuid"\]\}, expected \{"features":\["uuid"\]\}/);
    return true;
  });
});

test('bad input fails fast with the code and a hint', { skip }, async () => {
  const dir = write(scratch(), {
    'app.ts': 'const n: number = "not a number";\nexport default n;\n', 'fake-node': '#!/bin/sh\nexec ' + process.execPath + ' "$@"\n', 'file': '',
    // A Lua syntax error in the app, and one in a module of its folder that it never requires.
    'broken/app.lua': 'local app = redox.router()\napp:get("/", function(req\n  return { json = {} }\nend)\nreturn app\n',
    'unused/app.lua': 'return redox.router()\n', 'unused/lib/old.lua': 'return { x = }\n',
  });
  fs.chmodSync(path.join(dir, 'fake-node'), 0o755);
  const cases: [string[], number, RegExp][] = [
    [['--features', 'sqlit'], 2, /unknown feature "sqlit" \(did you mean "sqlite"\?\)/],
    [['--distro', 'wbe'], 2, /unknown distro "wbe" \(did you mean "web"\?\)/],
    [['--distro', 'web', '--app', 'missing.lua'], 1, /--app missing\.lua: file not found.*REDOX_APP_NOT_FOUND/s],
    [['--distro', 'web', '--app', 'app.ts'], 1, /app\.ts:1:7 - error TS2322.*REDOX_COMPILE/s],
    [['--distro', 'web', '--app', 'broken/app.lua'], 1, /--app broken\/app\.lua: app\.lua:3: '\)' expected near 'return'\n  hint: fix the syntax error.*REDOX_APP_LOAD/s],
    [['--distro', 'web', '--app', 'unused/app.lua'], 1, /--app unused\/app\.lua: lib\/old\.lua:1: unexpected symbol near '}'\n  hint: fix it, or move lib\/old\.lua out of the app's folder.*REDOX_APP_LOAD/s],
    [['--distro', 'minimal', '--node', 'file'], 1, /--node file is not a Node binary.*REDOX_BUILD_NODE/s],
    [['--distro', 'minimal', '--node', 'fake-node'], 1, /--node fake-node \(Node v[\d.]+\) lacks the SEA fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2/],
    [['--distro', 'minimal', '--node-version', 'host', '--out', 'file/dist'], 1, /cannot write to --out file\/dist .*REDOX_BUILD_OUT/s],
    [[], 2, /nothing to build/],
    [['--all-distros', '--name', 'x'], 2, /--name names one binary/],
  ];
  for (const [args, code, message] of cases) {
    const r = await redox(['build', ...args], dir);
    assert.equal(r.code, code, `build ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, `build ${args.join(' ')}`);
  }
  assert.deepEqual(fs.readdirSync(dir).sort(), ['app.ts', 'broken', 'fake-node', 'file', 'unused'], 'no output folder was created');
  const project = write(scratch(), { 'redox.json': JSON.stringify({ features: ['uuid'], distros: 'web' }) });
  const bad = await redox(['build'], project);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /redox\.json: unknown key "distros" \(allowed: features, distro, with, app\).*REDOX_PROJECT_INVALID/s);
});

test('redox matrix --json lists every distro for a CI matrix', async () => {
  const r = await redox(['matrix', '--json']);
  assert.deepEqual(JSON.parse(r.stdout), { include: [...loadCatalogue(ROOT).distros.keys()].sort().map((distro) => ({ distro })) });
});

test('with an embedded app, no command or only options means serve', () => {
  const argv = ['/bin/x', 'x'];
  assert.deepEqual(withDefaultCommand(argv, true), [...argv, 'serve']);
  assert.deepEqual(withDefaultCommand([...argv, '--port', '8080'], true), [...argv, 'serve', '--port', '8080']);
  assert.deepEqual(withDefaultCommand([...argv, '--help'], true), [...argv, '--help']);
  assert.deepEqual(withDefaultCommand([...argv, 'run', 'x.lua'], true), [...argv, 'run', 'x.lua']);
  assert.deepEqual(withDefaultCommand(argv, false), argv);
});
