// Compiled TypeScript apps, kept by the content of everything a compile reads: the TypeScript
// files of the app's folder (TypeScript refuses imports from outside it: rootDir), the npm
// packages installed there (by their lock files), the Redox declarations, the compiler versions
// and Redox's own TypeScript tooling. A hit does not load TypeScript at all (`redox run app.ts` on unchanged
// files: ~0.5 s instead of ~1.8 s). Type errors are kept too, as `tsc -b` keeps them in its
// build info: the same files report the same errors without a compile (~2 s of CPU), worded for
// the folder they were first reported from. REDOX_COMPILE_CACHE=0 turns it off.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildCacheDir, cachesEnabled } from '../cache-dir';
import { isRedoxError, RedoxError } from '../../errors';
import { KeyedCache } from '../keyed-cache';
import { packageVersion } from '../catalogue/packages';
import type { LuaModule } from './bundle';
import type { CompiledApp, CompileOptions } from './compile';
import { allDeclarations, runtimeModuleNames } from './declarations';

/** A compile's result as kept: paths relative to the app's folder. */
export interface CachedCompile {
  lua: string;
  /** The TypeScript files that went in, relative to the app's folder. */
  files: string[];
  modules: LuaModule[];
}

const FORMAT = 1;
const SOURCE = /\.(ts|tsx|mts|cts)$/i;
// A folder this big is not an app folder (a home directory, say): no cache then.
const MAX_FILES = 2000;
const MAX_BYTES = 20 * 1024 * 1024;
// Entries kept; the oldest go first.
const MAX_ENTRIES = 200;

/** The TypeScript files under `dir` (not node_modules or dot folders), or null when there are too many. */
function sourceFiles(dir: string): string[] | null {
  const found: string[] = [];
  let seen = 0;
  const walk = (d: string): boolean => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return true;
    }
    for (const e of entries) {
      if (++seen > MAX_FILES * 5) return false;
      if (e.isDirectory()) {
        if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
        if (!walk(path.join(d, e.name))) return false;
      } else if (e.isFile() && SOURCE.test(e.name)) {
        found.push(path.join(d, e.name));
        if (found.length > MAX_FILES) return false;
      }
    }
    return true;
  };
  return walk(dir) ? found.sort() : null;
}

/** The key of compiling `entry` now, or null when its folder cannot be keyed cheaply. */
export function compileKey(entry: string): string | null {
  const rootDir = path.dirname(entry);
  const files = sourceFiles(rootDir);
  if (files === null) return null;
  const hash = crypto.createHash('sha256');
  const add = (label: string, data: string | Buffer) => {
    hash.update(`${label}\0${Buffer.byteLength(data)}\0`);
    hash.update(data);
  };
  add('format', String(FORMAT));
  add('tools', `typescript-to-lua ${packageVersion('typescript-to-lua')} typescript ${packageVersion('typescript')}`);
  // The plugin, printer and support code decide the output as much as the compiler does.
  for (const name of fs.readdirSync(__dirname).filter((n) => /\.(js|ts)$/.test(n) && !n.endsWith('.d.ts')).sort()) {
    add(`tooling ${name}`, fs.readFileSync(path.join(__dirname, name)));
  }
  add('modules', runtimeModuleNames().join(','));
  for (const d of allDeclarations()) add(`declaration ${d.name}`, fs.readFileSync(d.path));
  add('entry', path.relative(rootDir, entry));
  // What npm installed beside the app (type declarations of packages it imports).
  for (const name of ['package.json', 'package-lock.json', path.join('node_modules', '.package-lock.json')]) {
    const file = path.join(rootDir, name);
    if (fs.existsSync(file)) add(`project ${name}`, fs.readFileSync(file));
  }
  let bytes = 0;
  for (const file of files) {
    const data = fs.readFileSync(file);
    bytes += data.length;
    if (bytes > MAX_BYTES) return null;
    add(`file ${path.relative(rootDir, file).split(path.sep).join('/')}`, data);
  }
  return hash.digest('hex');
}

/** A compile that failed with type errors, as reported. */
export interface CachedFailure {
  failure: { message: string; hint?: string };
}

const isCachedCompile = (e: unknown): e is CachedCompile | CachedFailure => {
  const c = e as (CachedCompile & CachedFailure) | null;
  if (typeof c?.failure?.message === 'string') return true;
  return typeof c?.lua === 'string' && Array.isArray(c.files) && Array.isArray(c.modules);
};

/** Compiles and their type errors (a cache that cannot be written is skipped silently: it only
 *  saves time). */
const compiles = () => new KeyedCache(path.join(buildCacheDir(), 'typescript'), MAX_ENTRIES, isCachedCompile);

/** Where a failure is kept: its message names files relative to the folder it was reported in. */
const failureKey = (key: string, rootDir: string, cwd: string) =>
  crypto.createHash('sha256').update(`${key}\0failure\0${path.relative(cwd, rootDir)}`).digest('hex');

/** compileApp, answered from the cache when nothing it reads has changed. */
export function compileAppCached(file: string, options: CompileOptions = {}): CompiledApp {
  const entry = path.resolve(file);
  const rootDir = path.dirname(entry);
  const key = cachesEnabled() && fs.existsSync(entry) ? compileKey(entry) : null;
  const hit = key ? compiles().read(key) : null;
  if (hit && 'lua' in hit) {
    return { lua: hit.lua, files: hit.files.map((f) => path.join(rootDir, f)), modules: hit.modules, cached: true };
  }
  const failedAt = key ? failureKey(key, rootDir, options.cwd ?? process.cwd()) : null;
  const failed = failedAt ? compiles().read(failedAt) : null;
  if (failed && 'failure' in failed) throw new RedoxError('REDOX_COMPILE', failed.failure.message, failed.failure.hint);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { compileApp } = require('./compile') as typeof import('./compile');
  let compiled: CompiledApp;
  try {
    compiled = compileApp(file, options);
  } catch (err) {
    // Type errors are kept like results; anything else (a missing file, a crash) is not.
    if (failedAt && isRedoxError(err) && err.code === 'REDOX_COMPILE' && compileKey(entry) === key) {
      compiles().write(failedAt, { failure: { message: err.message, hint: err.hint } });
    }
    throw err;
  }
  // Kept only when no file changed while it compiled.
  if (key && compileKey(entry) === key) {
    compiles().write(key, { lua: compiled.lua, files: compiled.files.map((f) => path.relative(rootDir, f)), modules: compiled.modules });
  }
  return compiled;
}
