// Locating npm packages and the files they ship, for development runs and for the builder.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RedoxError } from '../../errors';

/** The folder of an installed npm package, resolved from the redox package itself. */
export function packageDir(name: string): string {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    throw new RedoxError('REDOX_FEATURE_INVALID', `npm package "${name}" is not installed`, 'run `npm install` in the redox folder');
  }
}

export function packageVersion(name: string): string {
  return JSON.parse(fs.readFileSync(path.join(packageDir(name), 'package.json'), 'utf8')).version;
}

/** The Lua VM's wasm file. */
export function luaWasmPath(): string {
  return path.join(packageDir('wasmoon'), 'dist', 'glue.wasm');
}

let wasmSha256: string | undefined;
/** Its sha256 (hex): what precompiled Lua bytecode is keyed by (core/lua/chunks.ts). */
export function luaWasmSha256(): string {
  return (wasmSha256 ??= crypto.createHash('sha256').update(fs.readFileSync(luaWasmPath())).digest('hex'));
}

/** The redox package root (where features.json and distros/ live). */
export function projectRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'features.json')) && fs.existsSync(path.join(dir, 'distros'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the redox package root (features.json) above ' + __dirname);
    dir = parent;
  }
}
