// Official Node binaries from the npm registry (node-<os>-<arch> packages), fetched once with
// `npm pack`, checked against the registry's sha512 integrity, unpacked into the build cache
// and reused. Every use checks the entry against the record written when it was unpacked (the
// binary by its sha256, re-hashed whenever it changed since its last check: file-stamp.ts), so a
// corrupt or altered entry is fetched again, never used.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { RedoxError } from '../../errors';
import { isNpmFailure, npm } from './npm-tools';
import { describeSpec, pickVersion, VersionSpec, compareVersions, matches } from './node-versions';
import { TargetSpec } from './targets';
import { withLock } from './cache-lock';
import { writeAtomic } from '../write-atomic';
import { matchesSha256 } from './file-stamp';
import { hashFile } from './file-bytes';
import { buildCacheDir } from '../cache-dir';
import { makeDirs } from '../../make-dirs';

const exec = promisify(execFile);
const ENTRY_FILE = 'redox-entry.json';

export interface NodePackage {
  pkg: string;
  version: string;
  /** The registry's integrity of the package tarball (sha512-...). */
  integrity: string;
  /** The unpacked package: bin/node(.exe) and, for Linux, include/node. */
  dir: string;
  binary: string;
  /** sha256 of the binary, as recorded and checked. */
  sha256: string;
  /** A --nodedir for node-gyp, when the package carries headers. */
  headers: string | null;
}

interface EntryRecord {
  pkg: string;
  version: string;
  integrity: string;
  /** sha256 of every unpacked file. */
  files: Record<string, string>;
  sizes?: Record<string, number>;
}

const entryDir = (pkg: string, version: string) => path.join(buildCacheDir(), 'node', `${pkg}-${version}`);

function listFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(r);
      else if (r !== ENTRY_FILE) files.push(r);
    }
  };
  walk('');
  return files.sort();
}

function asPackage(dir: string, rec: EntryRecord, t: TargetSpec): NodePackage {
  const headers = fs.existsSync(path.join(dir, 'include', 'node', 'node_version.h')) ? dir : null;
  return { pkg: rec.pkg, version: rec.version, integrity: rec.integrity, dir, binary: path.join(dir, t.exe), sha256: rec.files[t.exe], headers };
}

/** The cached entry if it is complete and matches its record, otherwise why not. The binary is
 *  checked by its sha256 on every use (hashed again only if it changed since its last check);
 *  the other files (the headers: ~2,800 files, 60-110 ms to list and stat) only when `deep`,
 *  before compiling against them: none, missing or extra, and each hashed. */
export function checkEntry(pkg: string, version: string, t: TargetSpec, deep = false): NodePackage | { problem: string } | null {
  const dir = entryDir(pkg, version);
  if (!fs.existsSync(dir)) return null;
  let rec: EntryRecord;
  try {
    rec = JSON.parse(fs.readFileSync(path.join(dir, ENTRY_FILE), 'utf8'));
  } catch {
    return { problem: `${ENTRY_FILE} is missing or unreadable` };
  }
  if (rec.pkg !== pkg || rec.version !== version || !rec.files?.[t.exe]) return { problem: `it records ${rec.pkg}@${rec.version}, not ${pkg}@${version}` };
  if (deep) {
    for (const f of listFiles(dir)) if (!(f in rec.files)) return { problem: `${f} was not in the package` };
  }
  for (const [f, h] of Object.entries(rec.files)) {
    if (!deep && f !== t.exe) continue;
    const st = fs.statSync(path.join(dir, f), { throwIfNoEntry: false });
    if (!st) return { problem: `${f} is missing` };
    const file = path.join(dir, f);
    const sound = rec.sizes && st.size !== rec.sizes[f] ? false
      : f === t.exe ? matchesSha256(file, h, `${dir}.verified`)
        : hashFile(file) === h;
    if (!sound) return { problem: `${f} does not match its checksum` };
  }
  return asPackage(dir, rec, t);
}

function cachedVersions(pkg: string): string[] {
  const dir = path.join(buildCacheDir(), 'node');
  const prefix = `${pkg}-`;
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length)).filter((v) => /^\d+\.\d+\.\d+$/.test(v)) : [];
}

export type Note = (message: string) => void;

const offlineHint = 'connect to the npm registry once (the package is cached afterwards), or build with --node-version host (the Node running redox) or --node PATH';

/** Downloads, verifies and unpacks pkg@version into the cache. */
async function fetchEntry(pkg: string, version: string, t: TargetSpec, note: Note): Promise<NodePackage> {
  const root = path.join(buildCacheDir(), 'node');
  makeDirs(root);
  const tmp = fs.mkdtempSync(path.join(root, '.fetch-'));
  try {
    note(`fetching ${pkg}@${version} from the npm registry`);
    let integrity: string;
    let tgz: string;
    try {
      integrity = JSON.parse(await npm(['view', `${pkg}@${version}`, 'dist.integrity', '--json'], tmp));
      const packed = JSON.parse(await npm(['pack', `${pkg}@${version}`, '--pack-destination', tmp, '--json', '--ignore-scripts'], tmp)) as { filename: string }[];
      tgz = path.join(tmp, packed[0].filename);
    } catch (err) {
      if (!isNpmFailure(err)) throw err;
      throw new RedoxError('REDOX_NODE_DOWNLOAD', `could not download ${pkg}@${version}: ${err.detail}`, err.offline ? offlineHint : 'check the npm registry configuration (npm config get registry)');
    }
    const actual = 'sha512-' + hashFile(tgz, 'sha512', 'base64');
    if (typeof integrity !== 'string' || actual !== integrity) {
      throw new RedoxError('REDOX_NODE_INTEGRITY', `${pkg}@${version} as downloaded has integrity ${actual}, but the registry lists ${integrity}`,
        'the download was altered or truncated on the way; retry, and check any proxy or registry mirror in your npm configuration');
    }
    const out = path.join(tmp, 'x');
    fs.mkdirSync(out);
    const wanted = ['package/' + t.exe, ...(t.platform === 'win32' ? [] : ['package/include'])];
    try {
      await exec('tar', ['-xzf', tgz, '-C', out, ...wanted], { maxBuffer: 16 << 20 });
    } catch (err) {
      throw new RedoxError('REDOX_NODE_DOWNLOAD', `could not unpack ${pkg}@${version}: ${(err as Error).message.split('\n')[0]}`, 'tar must be on PATH (it is on Linux, macOS and Windows 10+)');
    }
    const dir = path.join(out, 'package');
    fs.chmodSync(path.join(dir, t.exe), 0o755);
    const names = listFiles(dir);
    const rec: EntryRecord = {
      pkg, version, integrity,
      files: Object.fromEntries(names.map((f) => [f, hashFile(path.join(dir, f))])),
      sizes: Object.fromEntries(names.map((f) => [f, fs.statSync(path.join(dir, f)).size])),
    };
    fs.writeFileSync(path.join(dir, ENTRY_FILE), JSON.stringify(rec, null, 2) + '\n');
    const dest = entryDir(pkg, version);
    fs.rmSync(dest, { recursive: true, force: true });
    try {
      fs.renameSync(dir, dest);
    } catch (err) {
      // Another build unpacked the same package meanwhile: use it if it is sound.
      const other = checkEntry(pkg, version, t);
      if (other && !('problem' in other)) return other;
      throw err;
    }
    return asPackage(dest, rec, t);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function use(pkg: string, version: string, t: TargetSpec, note: Note, deep = false): Promise<NodePackage> {
  const first = checkEntry(pkg, version, t, deep);
  if (first && !('problem' in first)) return first;
  return withLock(entryDir(pkg, version) + '.lock', async () => {
    const cached = checkEntry(pkg, version, t, deep); // another build may have fetched it meanwhile
    if (cached && !('problem' in cached)) return cached;
    if (cached) note(`cached ${pkg}@${version} is damaged (${cached.problem}): fetching it again`);
    return fetchEntry(pkg, version, t, note);
  });
}

/** The package with every file hashed (before compiling against its headers); fetched again
 *  if anything changed since it was unpacked. */
export const verifiedDeep = (t: TargetSpec, version: string, note: Note) => use(t.pkg, version, t, note, true);

/** How long the registry's list of releases is reused before it is asked again. */
const VERSIONS_TTL_MS = 10 * 60_000;
const versionsFile = (pkg: string) => path.join(buildCacheDir(), 'node', `${pkg}.versions.json`);

/** The release list fetched less than VERSIONS_TTL_MS ago, or null. */
function recentVersions(pkg: string): string[] | null {
  try {
    const rec = JSON.parse(fs.readFileSync(versionsFile(pkg), 'utf8')) as { at: number; versions: string[] };
    const age = Date.now() - rec.at;
    return age >= 0 && age < VERSIONS_TTL_MS && Array.isArray(rec.versions) ? rec.versions : null;
  } catch {
    return null;
  }
}

/** The registry versions of `pkg`, or null when the registry cannot be reached. */
async function registryVersions(pkg: string, t: TargetSpec): Promise<string[] | null> {
  let versions: string[];
  try {
    const out = JSON.parse(await npm(['view', pkg, 'versions', '--json'], os.tmpdir(), 120_000));
    versions = Array.isArray(out) ? out : [out];
  } catch (err) {
    if (!isNpmFailure(err)) throw err;
    if (err.notFound) throw new RedoxError('REDOX_BUILD_TARGET', `the npm registry has no package ${pkg} for target ${t.name}`, 'check the registry (npm config get registry); official Node packages are published as node-<os>-<arch>');
    if (err.offline) return null;
    throw new RedoxError('REDOX_NODE_DOWNLOAD', `npm view ${pkg} failed: ${err.detail}`, offlineHint);
  }
  try {
    writeAtomic(versionsFile(pkg), JSON.stringify({ at: Date.now(), versions }), { mkdir: true });
  } catch {
    // unwritable cache: the next build asks the registry again
  }
  return versions;
}

/** The Node package `spec` means for target `t`: an exact version already cached is used
 *  without asking the registry; a major line asks for the newest release, and falls back to
 *  the newest cached one when the registry is unreachable. */
export async function obtainNode(t: TargetSpec, spec: VersionSpec, note: Note): Promise<NodePackage> {
  if (spec.kind === 'host') throw new Error('obtainNode: host is not a registry version');
  if (spec.kind === 'exact') {
    const cached = checkEntry(t.pkg, spec.version, t);
    if (cached && !('problem' in cached)) return cached;
  }
  // A list fetched in the last minutes answers without spawning npm, unless it lacks the release.
  const recent = recentVersions(t.pkg);
  const recentPick = recent ? pickVersion(recent, spec) : null;
  if (recentPick) return use(t.pkg, recentPick, t, note);
  const versions = await registryVersions(t.pkg, t);
  if (!versions) {
    const fallback = cachedVersions(t.pkg).filter((v) => matches(v, spec)).sort(compareVersions).reverse();
    for (const v of fallback) {
      const c = checkEntry(t.pkg, v, t);
      if (c && !('problem' in c)) {
        note(`the npm registry is unreachable: using cached ${t.pkg}@${v}`);
        return c;
      }
    }
    throw new RedoxError('REDOX_NODE_DOWNLOAD', `the npm registry is unreachable and the build cache (${buildCacheDir()}) holds no ${t.pkg} ${describeSpec(spec)}`, offlineHint);
  }
  const version = pickVersion(versions, spec);
  if (!version) {
    const lines = [...new Set(versions.filter((v) => /^\d+\.\d+\.\d+$/.test(v)).map((v) => v.split('.')[0]))].slice(-4);
    const newest = spec.kind === 'exact' ? pickVersion(versions, { kind: 'major', major: Number(spec.version.split('.')[0]) }) : null;
    throw new RedoxError('REDOX_NODE_VERSION', `the registry's ${t.pkg} has no Node ${describeSpec(spec)} for target ${t.name}`,
      newest ? `the newest ${spec.kind === 'exact' ? spec.version.split('.')[0] : ''}.x it has is ${newest}: pass --node-version ${newest}, or just the major line` : `its newest lines are ${lines.join(', ')}; pick another --node-version or --target`);
  }
  return use(t.pkg, version, t, note);
}
