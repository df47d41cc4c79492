// redox.json, the project file of a service folder:
//   {"features": ["sqlite"], "distro": "web", "with": ["./geo"], "app": "app.lua"}
// The development CLI reads it: `redox build` for what to build, and `serve`, `run`, `dev` for the
// features and app when no flag names them. Built binaries never read it (their features and
// app are fixed at build). Paths are made absolute against the file's folder.
import fs from 'node:fs';
import path from 'node:path';
import { RedoxError } from '../errors';

export const PROJECT_FILE = 'redox.json';

export interface Project {
  file: string;
  dir: string;
  features?: string[];
  distro?: string;
  /** Local feature folders, absolute. */
  with: string[];
  /** The app file, absolute (a ":attr" suffix is kept). */
  app?: string;
}

function fail(file: string, message: string, hint?: string): never {
  throw new RedoxError('REDOX_PROJECT_INVALID', `${file}: ${message}`,
    hint ?? 'redox.json looks like {"features": ["sqlite"], "distro": "web", "with": ["./geo"], "app": "app.lua"}; every key is optional');
}

/** The project in `dir`, or undefined when it has no redox.json. */
export function loadProject(dir: string): Project | undefined {
  const file = path.join(dir, PROJECT_FILE);
  if (!fs.existsSync(file)) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    fail(file, `is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) fail(file, 'must be a JSON object');
  const obj = data as Record<string, unknown>;
  const allowed = ['$schema', 'features', 'distro', 'with', 'app'];
  for (const key of Object.keys(obj)) if (!allowed.includes(key)) fail(file, `unknown key "${key}" (allowed: ${allowed.slice(1).join(', ')})`);
  const strings = (key: string): string[] | undefined => {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.trim() === '')) fail(file, `"${key}" must be an array of non-empty strings`);
    return v as string[];
  };
  const string = (key: string): string | undefined => {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') fail(file, `"${key}" must be a non-empty string`);
    return v;
  };
  const projectDir = path.dirname(file);
  const app = string('app');
  return {
    file,
    dir: projectDir,
    features: strings('features'),
    distro: string('distro'),
    with: (strings('with') ?? []).map((w) => path.resolve(projectDir, w)),
    app: app === undefined ? undefined : path.resolve(projectDir, app),
  };
}

/** The app a command uses when none is named (serve, dev, test): redox.json's "app", else
 *  app.ts or app.lua in `dir` (the files `redox init` writes). app.ts first: beside it, app.lua
 *  is what `redox compile app.ts` wrote, and serving that would ignore every edit. */
export function defaultAppTarget(dir: string): string | undefined {
  const project = loadProject(dir);
  if (project?.app) return path.relative(dir, project.app) || project.app;
  return ['app.ts', 'app.lua'].find((f) => fs.existsSync(path.join(dir, f)));
}

/** `given`, else the default app of `dir`; a usage error when there is neither (serve, dev). */
export function requireAppTarget(given: string | undefined, dir: string): string {
  const target = given ?? defaultAppTarget(dir);
  if (!target) {
    throw new RedoxError('REDOX_USAGE', 'no app given, and no app.ts or app.lua here',
      'pass a Lua file (app.lua) or a module target (myapp.server:app), or run it in a folder with app.lua, app.ts or a redox.json naming "app"');
  }
  return target;
}
