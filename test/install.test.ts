// The install path: `npm pack` ships what the `redox` bin needs, the tarball installs into a
// fresh global prefix (its dependencies come from the npm registry), and the installed command
// works from a folder outside the clone: --version, init, test, build, and the built binary.
// Slow (npm compiles better-sqlite3 from source here), hence the generous hang guards.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { httpGet, listeningUrl, ROOT, spawnRedox, tempDir } from './support/harness';
import pkg from '../package.json';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** better-sqlite3's install script (prebuild-install) downloads a prebuilt addon, which this
 *  offline machine cannot, and then compiles SQLite from source: minutes of CPU that test npm,
 *  not redox. Where the clone holds the same better-sqlite3 built for this Node, it is offered
 *  as a local prebuild (prebuild-install's `local_prebuilds` option, named as the download
 *  would be); otherwise the install compiles as a user's offline install would. */
function localPrebuild(work: string): NodeJS.ProcessEnv {
  const pkgDir = path.join(ROOT, 'node_modules', 'better-sqlite3');
  const addon = path.join(pkgDir, 'build', 'Release', 'better_sqlite3.node');
  const wanted = pkg.dependencies['better-sqlite3'];
  let version = '';
  try {
    version = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version;
  } catch {
    return {};
  }
  if (version !== wanted || !fs.existsSync(addon)) return {};
  const dir = path.join(work, 'prebuilds');
  const stage = path.join(work, 'prebuild-stage');
  fs.mkdirSync(path.join(stage, 'build', 'Release'), { recursive: true });
  fs.mkdirSync(dir);
  fs.copyFileSync(addon, path.join(stage, 'build', 'Release', 'better_sqlite3.node'));
  const libc = process.platform === 'linux' && !(process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime ? 'musl' : '';
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}${libc}-${process.arch}.tar.gz`;
  execFileSync('tar', ['-czf', path.join(dir, name), '-C', stage, 'build']);
  return { npm_config_better_sqlite3_local_prebuilds: dir };
}

describe('npm install of the packed tarball', { timeout: 30 * 60_000 }, () => {
  const work = tempDir('redox-install-');
  const prefix = path.join(work, 'prefix');
  const outside = path.join(work, 'outside');
  const bin = path.join(prefix, 'bin', 'redox');
  let tarball = '';
  // npm and the installed bin see neither the clone nor its node_modules.
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${path.join(prefix, 'bin')}${path.delimiter}${process.env.PATH}`, NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('npm_') || k === 'NODE_PATH' || k === 'INIT_CWD') delete env[k];
  const redox = async (args: string[], cwd: string) => {
    const p = spawnRedox(args, { cwd, env, bin: [bin] });
    const code = await p.exited;
    return { code, stdout: p.stdout(), stderr: p.stderr() };
  };

  before(() => {
    fs.mkdirSync(outside);
    // --ignore-scripts: `npm test` compiled build/ already, and recompiling it here would race
    // the tests running beside this one. `prepare` compiles it for a real pack or publish.
    const packed = execFileSync(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, env, encoding: 'utf8' });
    const info = JSON.parse(packed)[0] as { filename: string; files: { path: string }[] };
    tarball = path.join(work, info.filename);
    const files = new Set(info.files.map((f) => f.path));
    for (const needed of ['cli/redox.cjs', 'build/cli/main.js', 'build/package.json', 'features.json', 'distros/web.json',
      'templates/lua/app_test.lua', 'templates/typescript/app.test.ts', 'core/types/redox.d.ts', 'features/cache/index.ts', 'cli/binary-main.ts']) {
      assert.ok(files.has(needed), `the tarball lacks ${needed}`);
    }
    for (const f of files) assert.doesNotMatch(f, /^(test|bench)\/|^features\/.*\.test\.ts$|^build\/.*\.test\.js$|^build\/(test|bench)\//, `the tarball ships ${f}`);
    // Sources ship for what `redox build` bundles into binaries; tooling ships compiled only.
    assert.ok(files.has('build/core/tooling/build/pipeline.js') && files.has('core/runtime/server.ts'));
    for (const f of files) assert.doesNotMatch(f, /^core\/tooling\/.*\.ts$/, `the tarball ships the tooling source ${f}`);
    // prefer_offline: registry metadata npm already cached is not asked for again.
    const install = spawnSync(NPM, ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', tarball],
      { cwd: outside, env: { ...env, ...localPrebuild(work), npm_config_prefer_offline: 'true' }, encoding: 'utf8', timeout: 25 * 60_000 });
    assert.equal(install.status, 0, `npm install failed:\n${install.stdout}\n${install.stderr}`);
    assert.ok(fs.existsSync(bin), 'npm linked the redox bin');
  });

  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('installs the package under its own name, with the bin called redox', () => {
    assert.equal(pkg.name, 'redox-lua');
    assert.equal(path.basename(tarball), `redox-lua-${pkg.version}.tgz`);
    const installed = path.join(prefix, 'lib', 'node_modules', 'redox-lua', 'package.json');
    assert.equal(JSON.parse(fs.readFileSync(installed, 'utf8')).version, pkg.version);
  });

  it('runs --version, init, test and build from outside the clone; the binary serves the app', async () => {
    const version = await redox(['--version'], outside);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), pkg.version);

    const init = await redox(['init', 'svc'], outside);
    assert.equal(init.code, 0, init.stderr);
    const svc = path.join(outside, 'svc');
    assert.match(fs.readFileSync(path.join(svc, '.github/workflows/build.yml'), 'utf8'), new RegExp(`npm install --global redox-lua@${pkg.version}\\n`));

    const test = await redox(['test'], svc);
    assert.equal(test.code, 0, test.stdout + test.stderr);
    assert.match(test.stdout, /^4 passed, 0 failed, 0 skipped/m);

    const out = path.join(work, 'dist');
    const build = await redox(['build', '--distro', 'web', '--app', 'app.lua', '--out', out], svc);
    assert.equal(build.code, 0, build.stdout + build.stderr);
    const binary = path.join(out, 'redox-web');
    try {
      const alone = tempDir('redox-install-run-');
      const server = spawnRedox(['--port', '0'], { cwd: alone, bin: [binary], env });
      try {
        const url = await listeningUrl(server, 60_000);
        const res = await httpGet(url + '/');
        assert.equal(res.status, 200);
        assert.equal(JSON.parse(res.body).service, 'svc');
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
        fs.rmSync(alone, { recursive: true, force: true });
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
