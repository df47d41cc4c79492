// `--app FILE[:attr]`: the app file and every other .lua file of its folder (recursively) become
// the binary's embedded modules, so `require("lib.util")` works as it does from disk. A .ts app
// is compiled to Lua first (core/tooling/typescript).
import fs from 'node:fs';
import path from 'node:path';
import { RedoxError } from '../../errors';
import { splitTarget } from '../../runtime/app-source';
import { EmbeddedApp } from '../../runtime/sea/embedded';
import { luaWasmPath } from '../catalogue/packages';

const SKIP_DIRS = new Set(['node_modules', 'dist', '.git']);

function luaFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      // Symlinked folders are not followed: they could lead out of the app or loop.
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) walk(full);
      } else if (entry.name.endsWith('.lua') && fs.statSync(full).isFile()) {
        out.push(full);
      }
    }
  };
  walk(root);
  return out;
}

/** A TypeScript app compiled to one Lua chunk by core/tooling/typescript (loaded only for .ts apps: a
 *  compile pulls in the TypeScript compiler, unless the compile cache has it). */
function compileTypeScript(file: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { compileAppCached } = require('../typescript/compile-cache') as typeof import('../typescript/compile-cache');
  return compileAppCached(file).lua;
}

export function collectApp(target: string, cwd: string): EmbeddedApp {
  const { spec, attr } = splitTarget(target);
  const file = path.resolve(cwd, spec);
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
    throw new RedoxError('REDOX_APP_NOT_FOUND', `--app ${spec}: file not found (looked in ${path.dirname(file)})`,
      'pass the path of your app\'s main Lua file, e.g. --app app.lua');
  }
  const typescript = /\.tsx?$/i.test(file);
  if (!typescript && !/\.lua$/i.test(file)) throw new RedoxError('REDOX_USAGE', `--app ${spec}: expected a .lua or .ts file`);
  const root = path.dirname(file);
  const files: Record<string, string> = {};
  for (const f of luaFiles(root).sort()) files[path.relative(root, f).split(path.sep).join('/')] = fs.readFileSync(f, 'utf8');
  // A TypeScript app keeps its .ts name as the chunk name, as `redox serve app.ts` does, so
  // errors point at app.ts (core/tooling/typescript keeps the line numbers).
  const main = path.basename(file);
  files[main] = typescript ? compileTypeScript(file) : fs.readFileSync(file, 'utf8');
  return { main, attr: attr ?? null, files };
}

/** Every embedded Lua file must parse, checked before the slow steps: a syntax error would
 *  otherwise ship in a binary that fails only when started (or when the module is required),
 *  where `redox serve` and `redox test` refuse the same app at once. */
export async function checkAppSyntax(app: EmbeddedApp, target: string): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { LuaVM } = require('../../lua/vm') as typeof import('../../lua/vm');
  const vm = await LuaVM.create(luaWasmPath());
  try {
    for (const [name, source] of Object.entries(app.files)) {
      try {
        vm.unref(vm.compile(source, '@' + name));
      } catch (err) {
        throw new RedoxError('REDOX_APP_LOAD', `--app ${splitTarget(target).spec}: ${(err as Error).message}`,
          name === app.main ? 'fix the syntax error (redox serve and redox test report it too)'
            : `fix it, or move ${name} out of the app's folder: every .lua file under it is embedded in the binary`);
      }
    }
  } finally {
    vm.close();
  }
}
