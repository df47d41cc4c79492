// Where the TypeScript declarations of the Redox API live: the core API, each feature's
// `<name>.d.ts`, and TypeScriptToLua's language extensions (LuaMultiReturn, LuaTable, ...).
import fs from 'node:fs';
import path from 'node:path';
import { packageDir, projectRoot } from '../catalogue/packages';

export interface Declaration {
  /** File name a project gets in its types/ folder. */
  name: string;
  path: string;
  /** The feature it declares, if any. */
  feature?: string;
}

export function coreDeclaration(root = projectRoot()): Declaration {
  return { name: 'redox.d.ts', path: path.join(root, 'core', 'types', 'redox.d.ts') };
}

export function languageExtensions(): Declaration {
  return { name: 'language-extensions.d.ts', path: path.join(packageDir('@typescript-to-lua/language-extensions'), 'index.d.ts') };
}

/** The `.d.ts` of every feature folder that has one, sorted by feature name. */
export function featureDeclarations(root = projectRoot()): Declaration[] {
  const dir = path.join(root, 'features');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).sort().flatMap((name) => {
    const file = path.join(dir, name, `${name}.d.ts`);
    return fs.existsSync(file) ? [{ name: `${name}.d.ts`, path: file, feature: name }] : [];
  });
}

/** Everything an app is compiled against. */
export function allDeclarations(root = projectRoot()): Declaration[] {
  return [languageExtensions(), coreDeclaration(root), ...featureDeclarations(root)];
}

/** Names `require` resolves inside the runtime rather than in the app folder. */
export function runtimeModuleNames(root = projectRoot()): string[] {
  const features = fs.existsSync(path.join(root, 'features'))
    ? fs.readdirSync(path.join(root, 'features')).filter((n) => fs.statSync(path.join(root, 'features', n)).isDirectory())
    : [];
  return ['json', 'log', 'logger', 'redox', 'redox_ts', 't', ...features];
}
