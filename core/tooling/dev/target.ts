// Targets ending in .ts: compiled on the fly for `redox serve app.ts` and `redox run script.ts`.
// Other targets go to core's appFromTarget unchanged. Loads TypeScript only when needed.
import path from 'node:path';
import { AppSource, appFromTarget, splitTarget } from '../../runtime/app-source';
import { FileModules } from '../../runtime/modules';
import type { CompiledApp } from '../typescript/compile';

export function isTypeScriptTarget(target: string): boolean {
  return /\.ts$/i.test(splitTarget(target).spec);
}

/** The app for a target; TypeScript is compiled first (REDOX_COMPILE on type errors). */
export function appForTarget(target: string, cwd = process.cwd()): AppSource {
  if (!isTypeScriptTarget(target)) return appFromTarget(target, cwd);
  return compiledAppSource(target, cwd).app;
}

export function compiledAppSource(target: string, cwd = process.cwd(), previous?: CompiledApp): { app: AppSource; compiled: CompiledApp } {
  const { spec, attr } = splitTarget(target);
  const file = path.resolve(cwd, spec);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { compileAppCached } = require('../typescript/compile-cache') as typeof import('../typescript/compile-cache');
  const compiled = compileAppCached(file, { previous, cwd });
  return {
    compiled,
    app: {
      // Plain .lua modules beside the app stay reachable with require().
      modules: new FileModules(path.dirname(file)),
      main: { source: Buffer.from(compiled.lua), chunkName: path.basename(file) },
      attr,
    },
  };
}
