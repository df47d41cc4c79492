// Native addons for a base Node other than the one that ran `npm install`: compiled from the
// npm package's own source with node-gyp against the base's headers (--nodedir), for the
// base's ABI and CPU (a cross g++ for another Linux CPU), and cached per (package version, Node
// ABI, target). Generic over features.json "assets": core never names a feature.
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { RedoxError } from '../../errors';
import { AssetSpec } from '../catalogue/catalogue';
import { Note, verifiedDeep } from './node-cache';
import { buildCacheDir } from '../cache-dir';
import { nodeGypScript } from './npm-tools';
import { BaseNode } from './node-base';
import { isMachine, TargetSpec } from './targets';
import { withLock } from './cache-lock';
import { makeDirs } from '../../make-dirs';

const exec = promisify(execFile);

export interface AddonNeed {
  feature: string;
  asset: string;
  spec: AssetSpec;
  /** The installed package's folder (its source and its build for the development Node). */
  packageDir: string;
}

/** Whether the installed build of an addon fits the base: same ABI and CPU as the Node that
 *  ran npm install. `--node PATH` and `host` keep using the installed build, as before. */
export function installedFits(base: BaseNode): boolean {
  return base.source !== 'registry' || (base.target !== null && isMachine(base.target) && base.abi === process.versions.modules);
}

const canCompile = (need: AddonNeed) => fs.existsSync(path.join(need.packageDir, 'binding.gyp'));

/** Refuses, before any slow step, an addon that cannot be built for the base's target here. */
export function checkAddonsBuildable(base: BaseNode, needs: AddonNeed[]): void {
  if (!installedFits(base)) checkTargetAddons(base.target!, base.version, needs);
}

/** The same check from the target alone (before anything is downloaded for it). */
export function checkTargetAddons(t: TargetSpec, version: string, needs: AddonNeed[]): void {
  const base = { version };
  for (const need of needs) {
    const what = `feature "${need.feature}" needs the native addon ${need.asset} (npm package ${need.spec.package})`;
    const wayOut = `build this binary on ${t.platform === 'win32' ? 'Windows' : `a ${t.name} machine`} (as the CI workflow's ${t.platform === 'win32' ? 'windows-latest' : t.name} job does), or leave the feature out (e.g. --distro minimal, or --features without ${need.feature})`;
    if (need.spec.package === '.' || !canCompile(need)) {
      throw new RedoxError('REDOX_BUILD_ADDON', `${what}, which has no npm package source (binding.gyp) to compile it for ${t.name}, Node ${base.version}`,
        isMachine(t) ? 'build with --node-version host (the Node the addon was compiled for), or --node PATH' : wayOut);
    }
    if (t.platform === 'win32' && !isMachine(t)) {
      throw new RedoxError('REDOX_BUILD_ADDON', `${what}, which cannot be compiled for ${t.name} on this ${process.platform}-${process.arch} machine (it needs the MSVC toolchain and node.lib)`, wayOut);
    }
    if (t.platform !== process.platform) throw new RedoxError('REDOX_BUILD_ADDON', `${what}, which cannot be cross-compiled for ${t.name} here`, wayOut);
  }
}

const sha = (bytes: Buffer) => crypto.createHash('sha256').update(bytes).digest('hex');

/** The Node ABI a compiled addon was built for, from its `node_register_module_v<ABI>` entry
 *  point (NODE_MODULE_INIT, NAN's NODE_MODULE); null when it has none: Node-API addons fit every
 *  ABI, and an old-style one only tells by loading (the build's smoke test does). */
export function addonAbi(bytes: Buffer): string | null {
  const found = /node_register_module_v(\d+)/.exec(bytes.toString('latin1'));
  return found ? found[1] : null;
}

const fitsAbi = (bytes: Buffer, abi: string) => {
  const built = addonAbi(bytes);
  return built === null || built === abi;
};

/** The addon file for the base: the installed one when it fits, else a cached or fresh build. */
export async function addonFor(base: BaseNode, need: AddonNeed, note: Note): Promise<string> {
  if (installedFits(base)) return path.join(need.packageDir, need.spec.path);
  const t = base.target!;
  const version = JSON.parse(fs.readFileSync(path.join(need.packageDir, 'package.json'), 'utf8')).version as string;
  const key = path.join(buildCacheDir(), 'addons', `${need.spec.package}@${version}`, `${t.name}-abi${base.abi}`);
  const file = path.join(key, path.basename(need.spec.path));
  const record = file + '.sha256';
  // The ABI is checked too: a build that took the wrong headers must not be served from the
  // cache ever after (an entry an older redox may have left: see nodeGypRebuild).
  const sound = () => {
    if (!fs.existsSync(file) || !fs.existsSync(record)) return false;
    const bytes = fs.readFileSync(file);
    return fs.readFileSync(record, 'utf8').trim() === sha(bytes) && fitsAbi(bytes, base.abi);
  };
  if (sound()) return file;
  return withLock(key + '.lock', async () => {
    if (sound()) return file; // another build compiled it meanwhile
    if (fs.existsSync(file)) note(`cached ${need.asset} for ${t.name} ABI ${base.abi} is damaged or for another ABI: building it again`);
    return compileInto(base, t, need, version, key, file, record, note);
  });
}

async function compileInto(base: BaseNode, t: TargetSpec, need: AddonNeed, version: string, key: string, file: string, record: string, note: Note): Promise<string> {
  if (base.package && base.headers) await verifiedDeep(t, base.package.version, note);
  note(`compiling ${need.spec.package}@${version} for ${t.name}, Node ${base.version} (ABI ${base.abi}); cached afterwards`);
  makeDirs(path.dirname(key));
  const work = fs.mkdtempSync(path.join(path.dirname(key), '.build-'));
  try {
    fs.cpSync(need.packageDir, work, { recursive: true, filter: (src) => {
      const rel = path.relative(need.packageDir, src);
      return rel !== 'build' && rel !== 'node_modules';
    } });
    await compile(base, t, work, need);
    const built = path.join(work, need.spec.path);
    if (!fs.existsSync(built)) throw new RedoxError('REDOX_BUILD_ADDON', `node-gyp finished but ${need.spec.path} was not produced for feature "${need.feature}"`);
    const bytes = fs.readFileSync(built);
    if (!fitsAbi(bytes, base.abi)) {
      throw new RedoxError('REDOX_BUILD_ADDON', `node-gyp built ${need.asset} for feature "${need.feature}" for Node ABI ${addonAbi(bytes)}, not ${base.abi} (Node ${base.version}): it compiled against other headers than ${base.headers ?? `Node ${base.version}'s`}`,
        'check the environment for a node-gyp setting that names other headers (npm_config_nodedir, npm_config_target, npm_config_disturl, npm_config_tarball) and unset it');
    }
    const staged = path.join(work, '.out');
    fs.mkdirSync(staged);
    fs.copyFileSync(built, path.join(staged, path.basename(file)));
    fs.writeFileSync(path.join(staged, path.basename(record)), sha(bytes) + '\n');
    fs.rmSync(key, { recursive: true, force: true });
    try {
      fs.renameSync(staged, key);
    } catch (err) {
      if (!fs.existsSync(file)) throw err; // another build won the race with the same result
    }
    return file;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The node-gyp command line and environment that build against the base's headers. */
function nodeGypRebuild(base: BaseNode, t: TargetSpec): { args: string[]; env: NodeJS.ProcessEnv } {
  const args = [nodeGypScript(), 'rebuild', '--release', `--arch=${t.arch}`, `--jobs=${Math.max(1, os.cpus().length)}`];
  // Linux packages carry their headers; on Windows node-gyp fetches headers and node.lib itself.
  args.push(base.headers ? `--nodedir=${base.headers}` : `--target=${base.version.replace(/^v/, '')}`);
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
  // node-gyp lets every npm_config_X variable (and npm_package_config_node_gyp_X) win over its
  // own command line, and npm exports its whole config to the scripts it runs (npm test, npx):
  // an npmrc's nodedir=/usr (set so that `npm install` builds against the machine's Node)
  // would compile the addon for the machine's Node instead of the base's.
  const ours = /^npm_(?:config|package_config_node_gyp)_(nodedir|target|target_arch|arch|jobs|release|debug|dist_url|disturl|tarball|runtime)$/i;
  for (const key of Object.keys(env)) if (ours.test(key)) delete env[key];
  return { args, env };
}

async function compile(base: BaseNode, t: TargetSpec, dir: string, need: AddonNeed): Promise<void> {
  const { args, env } = nodeGypRebuild(base, t);
  if (t.platform === 'linux' && !isMachine(t)) {
    const gxx = `${t.cross}g++`;
    try {
      await exec(gxx, ['--version']);
    } catch {
      throw new RedoxError('REDOX_BUILD_ADDON', `feature "${need.feature}" needs ${need.asset} compiled for ${t.name}, and the cross compiler ${gxx} is not installed`,
        `install it (Debian/Ubuntu: apt-get install g++-${t.cross!.slice(0, -1)}), or leave the feature out`);
    }
    Object.assign(env, { CC: `${t.cross}gcc`, CXX: gxx, LINK: gxx, AR: `${t.cross}ar`, CC_host: 'gcc', CXX_host: 'g++' });
  }
  try {
    await exec(process.execPath, args, { cwd: dir, env, maxBuffer: 64 << 20, timeout: 30 * 60_000 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    const tail = String(e.stderr || e.stdout || e.message).trim().split('\n').slice(-8).join('\n  ');
    throw new RedoxError('REDOX_BUILD_ADDON', `compiling ${need.spec.package} for feature "${need.feature}" (${t.name}, Node ${base.version}) failed:\n  ${tail}`,
      'node-gyp needs python3, make and a C++ compiler (build-essential); or leave the feature out');
  }
}
