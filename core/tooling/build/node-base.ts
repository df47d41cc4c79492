// The base Node binary: `--node PATH`, the Node running redox (`--node-version host`), or an
// official package from the registry (`--node-version 24|26|x.y.z`, `--target`). Checked before
// anything is built: it must be Node 20.12+ (SEA assets) and carry the SEA sentinel fuse, not yet
// blown. The SEA blob comes from the base itself when it runs here, else from the build machine's
// package of the same version (the blob holds no machine code: no code cache, no snapshot).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RedoxError } from '../../errors';
import { NodePackage, Note, obtainNode } from './node-cache';
import { hashFile } from './file-bytes';
import { fuseState } from './sea-fuse';
import { DEFAULT_MAJOR, parseNodeVersion, VersionSpec } from './node-versions';
import { isMachine, machineTarget, parseTarget, runnerFor, stripTool, TargetSpec, TARGETS } from './targets';
import { writeAtomic } from '../write-atomic';

export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface BaseNode {
  file: string;
  version: string;
  platform: NodeJS.Platform;
  arch: string;
  bytes: number;
  sha256: string;
  /** NODE_MODULE_VERSION: the ABI native addons must be built for. */
  abi: string;
  source: 'registry' | 'host' | 'path';
  /** The registry package it came from. */
  package: { name: string; version: string; integrity: string } | null;
  /** The OS/CPU it is for; null for a base the registry has no package type for (macOS). */
  target: TargetSpec | null;
  /** Whether --target named it (binary names then carry it). */
  targetAsked: boolean;
  /** node-gyp --nodedir for this base, when its package carries headers. */
  headers: string | null;
  /** The Node that generates the SEA blob: the base, or the same version for this machine. */
  blobNode: string;
  /** How to run the finished binary here (qemu for another Linux CPU); null when it cannot run. */
  runner: string[] | null;
  /** The strip program for it, null when it is not stripped (not Linux). */
  strip: string | null;
}

const HINT = 'pass --node with an official Node binary (nodejs.org or the node-<os>-<arch> npm packages), v20.12 or later';

function fail(message: string, hint = HINT): never {
  throw new RedoxError('REDOX_BUILD_NODE', message, hint);
}

interface Probed { version: string; platform: NodeJS.Platform; arch: string; abi: string }

function probe(file: string): Probed | string {
  try {
    const out = execFileSync(file, ['-p', 'JSON.stringify([process.version, process.platform, process.arch, typeof process.versions.v8, process.versions.modules])'], {
      encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' },
    });
    const [version, platform, arch, v8, abi] = JSON.parse(out.trim()) as string[];
    if (!/^v\d+\.\d+\.\d+/.test(version) || v8 !== 'string') return 'it did not report a Node version';
    return { version, platform: platform as NodeJS.Platform, arch, abi };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'EACCES') return 'it is not executable';
    if (e.code === 'ENOEXEC') return 'it is not a program for this machine';
    return 'running it as node failed' + (e.stderr ? `: ${String(e.stderr).trim().split('\n')[0]}` : '');
  }
}

/** probe() of a cached registry package, remembered beside its entry under the binary's sha256
 *  (which the cache has just checked): a build then starts no Node just to ask its version. */
export function probeCached(pkg: Pick<NodePackage, 'dir' | 'binary' | 'sha256'>): Probed | string {
  const stamp = `${pkg.dir}.probe.json`;
  try {
    const saved = JSON.parse(fs.readFileSync(stamp, 'utf8')) as { sha256?: string; probed?: Probed };
    if (saved.sha256 === pkg.sha256 && saved.probed) return saved.probed;
  } catch {
    // not probed yet
  }
  const info = probe(pkg.binary);
  if (typeof info !== 'string') {
    try {
      writeAtomic(stamp, JSON.stringify({ sha256: pkg.sha256, probed: info }));
    } catch {
      // a stamp that cannot be written only costs the next build a probe
    }
  }
  return info;
}

/** Checks a base this machine can run (--node PATH, host). */
export function checkBaseNode(given: string, source: 'host' | 'path' = 'path'): BaseNode {
  const file = path.resolve(given);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    fail(`--node ${given}: no such file`);
  }
  if (!st.isFile()) fail(`--node ${given} is not a file`);
  const info = probe(file);
  const fuse = fuseState(file, SEA_FUSE);
  if (typeof info === 'string') {
    fail(`--node ${given} is not a Node binary (${info})`,
      fuse !== 'none' ? 'the base binary must run on this machine: it also generates the SEA blob' : HINT);
  }
  if (fuse === 'none') fail(`--node ${given} (Node ${info.version}) lacks the SEA fuse ${SEA_FUSE}: it cannot become a single executable`, HINT);
  if (fuse === 'blown') fail(`--node ${given} is already a single executable (its SEA fuse is blown)`, 'use a plain Node binary as the base');
  const [major, minor] = info.version.slice(1).split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 12) || (major === 21 && minor < 7)) {
    fail(`--node ${given} is Node ${info.version}; single-executable assets need v20.12+ or v21.7+`);
  }
  const target = machineTarget(info.platform, info.arch);
  const spec = target ? TARGETS[target] : null;
  return {
    file, ...info, bytes: st.size, sha256: hashFile(file), source, package: null,
    target: spec, targetAsked: false, headers: null, blobNode: file, runner: [], strip: spec ? stripTool(spec) : null,
  };
}

function checkFuse(file: string, label: string): void {
  if (fuseState(file, SEA_FUSE) !== 'unblown') fail(`${label} has no usable SEA fuse`, 'the registry package is not a plain official Node binary; report it');
}

export interface BaseRequest {
  node?: string;
  nodeVersion?: string;
  target?: string;
}

const usage = (message: string, hint?: string) => new RedoxError('REDOX_USAGE', message, hint);

/** The base a build request means. Defaults: this machine's target and the default LTS line,
 *  or the running Node where the registry has no package for this machine (macOS). */
export async function resolveBase(request: BaseRequest, note: Note): Promise<BaseNode> {
  const asked = request.target !== undefined;
  const target = asked ? parseTarget(request.target!) : (machineTarget() ? TARGETS[machineTarget()!] : null);
  if (request.node) {
    if (request.nodeVersion) throw usage('--node and --node-version both choose the base Node', 'pass one of them');
    if (asked && !isMachine(target!)) throw usage(`--node PATH gives a base that must run here; it cannot be combined with --target ${request.target}`, `use --node-version with --target ${request.target}`);
    return checkBaseNode(request.node, 'path');
  }
  const spec: VersionSpec = request.nodeVersion ? parseNodeVersion(request.nodeVersion) : target ? { kind: 'major', major: DEFAULT_MAJOR } : { kind: 'host' };
  if (spec.kind === 'host') {
    if (asked && !isMachine(target!)) throw usage(`--node-version host builds for this machine only, not --target ${request.target}`, 'pick a registry version (--node-version 24 or 26) for another target');
    return checkBaseNode(process.execPath, 'host');
  }
  if (!target) {
    throw new RedoxError('REDOX_BUILD_TARGET', `the npm registry has no Node package for this machine (${process.platform}-${process.arch})`,
      'build with --node-version host (the Node running redox, e.g. a supported LTS from nodejs.org), or for --target linux-x64|linux-arm64|win-x64');
  }
  const pkg = await obtainNode(target, spec, note);
  const label = `${pkg.pkg}@${pkg.version}`;
  let blobPkg = pkg;
  if (!isMachine(target!)) {
    const here = machineTarget();
    if (!here) throw new RedoxError('REDOX_BUILD_TARGET', `building for ${target!.name} needs Node ${pkg.version} for this machine to generate the SEA blob, and the registry has no package for ${process.platform}-${process.arch}`, 'build on Linux or Windows (x64 or arm64)');
    blobPkg = await obtainNode(TARGETS[here], { kind: 'exact', version: pkg.version }, note);
  }
  const blobNode = blobPkg.binary;
  const info = probeCached(blobPkg);
  if (typeof info === 'string') fail(`${label} does not run here (${info})`, 'delete the build cache folder and retry');
  if (info.version !== `v${pkg.version}`) fail(`${label} reports ${info.version}`, 'delete the build cache folder and retry');
  // Linux builds check the fuse as they inject (elf-inject.ts), without reading the base twice.
  if (target!.platform !== 'linux') checkFuse(pkg.binary, label);
  return {
    file: pkg.binary, version: info.version, platform: target!.platform, arch: target!.arch, bytes: fs.statSync(pkg.binary).size,
    sha256: pkg.sha256, abi: info.abi, source: 'registry',
    package: { name: pkg.pkg, version: pkg.version, integrity: pkg.integrity }, target, targetAsked: asked,
    headers: pkg.headers, blobNode, runner: runnerFor(target!), strip: stripTool(target!),
  };
}
