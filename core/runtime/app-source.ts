// Turns what the user typed (`app.lua`, `svc/app.lua:router`, `myapp.server:app`) into the
// main chunk, the folder `require` searches, and the attribute to serve.
import fs from 'node:fs';
import path from 'node:path';
import { RedoxError } from '../errors';
import { FileModules, ModuleFile, ModuleSource } from './modules';

export interface AppSource {
  modules: ModuleSource;
  main: ModuleFile;
  /** Name after ':' in the target; for module targets it defaults to "app". */
  attr?: string;
}

const ATTR = /^[A-Za-z_]\w*$/;

export function splitTarget(target: string): { spec: string; attr?: string } {
  const colon = target.lastIndexOf(':');
  // "C:\app.lua" is a Windows drive, not an attribute.
  if (colon > 1 && ATTR.test(target.slice(colon + 1))) return { spec: target.slice(0, colon), attr: target.slice(colon + 1) };
  return { spec: target };
}

export function appFromTarget(target: string, cwd = process.cwd()): AppSource {
  if (!target) throw new RedoxError('REDOX_USAGE', 'no app given', 'pass a Lua file (app.lua) or a module target (myapp.server:app)');
  const { spec, attr } = splitTarget(target);
  const looksLikeFile = /\.lua$/i.test(spec) || spec.includes('/') || spec.includes('\\');
  if (looksLikeFile) {
    const file = path.resolve(cwd, spec);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
      throw new RedoxError('REDOX_APP_NOT_FOUND', `app file ${spec} not found (looked in ${path.dirname(file)})`,
        'check the path, or create one with `redox init`');
    }
    const root = path.dirname(file);
    return { modules: new FileModules(root), main: { source: fs.readFileSync(file), chunkName: path.basename(file) }, attr };
  }
  const modules = new FileModules(cwd);
  const found = modules.read(spec);
  if (typeof found === 'string') {
    throw new RedoxError('REDOX_APP_NOT_FOUND', found, 'module targets are dotted paths under the current folder: myapp.server:app loads myapp/server.lua');
  }
  return { modules, main: found, attr: attr ?? 'app' };
}
