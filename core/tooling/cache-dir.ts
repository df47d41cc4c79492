// The user's cache folder for Redox's build and development tools (Node bases, compiled addons,
// compiled TypeScript): REDOX_BUILD_CACHE, else $XDG_CACHE_HOME/redox or ~/.cache/redox;
// %LOCALAPPDATA%\redox\cache on Windows; ~/Library/Caches/redox on macOS. And the one switch
// (REDOX_COMPILE_CACHE) for the caches in it that only save time.
import os from 'node:os';
import path from 'node:path';
import { RedoxError } from '../errors';
import { makeWritableDir } from '../make-dirs';

/** Whether the caches of results that only save time are used: compiled TypeScript, LuaLS
 *  annotations, build bundles, precompiled dev Lua. REDOX_COMPILE_CACHE=0 (or false, no, off)
 *  turns them all off. */
export function cachesEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return !['0', 'false', 'no', 'off'].includes((env.REDOX_COMPILE_CACHE ?? '').toLowerCase());
}

/** The build cache, made and proven writable: a build keeps its Node bases, compiled addons and
 *  stripped binaries there, so it cannot go on without it (the caches that only save time skip
 *  a folder they cannot write). */
export function writableBuildCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = buildCacheDir(env);
  try {
    makeWritableDir(dir);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new RedoxError('REDOX_BUILD_CACHE', `cannot write to the build cache ${dir}: ${e.code ?? e.message}`,
      `set ${env.REDOX_BUILD_CACHE ? 'REDOX_BUILD_CACHE' : 'REDOX_BUILD_CACHE (or XDG_CACHE_HOME)'} to a folder you can write (it is created if missing)`);
  }
  return dir;
}

export function buildCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REDOX_BUILD_CACHE) return path.resolve(env.REDOX_BUILD_CACHE);
  if (process.platform === 'win32') return path.join(env.LOCALAPPDATA || path.join(os.homedir(), 'AppData', 'Local'), 'redox', 'cache');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Caches', 'redox');
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'redox');
}
