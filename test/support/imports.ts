// A static reading of TypeScript imports, for the layout tests: which modules a source file names
// and which project files those resolve to. Type-only imports are kept apart because they vanish
// when compiled and so never reach a bundle.
import fs from 'node:fs';
import path from 'node:path';

export interface ImportRef {
  specifier: string;
  typeOnly: boolean;
}

// import x from '...', import { a } from '...', import '...', export { a } from '...',
// export * from '...', import type ..., export type ..., plus import('...') and require('...').
const STATIC = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
const DYNAMIC = /(typeof\s+)?\b(import|require)\(\s*['"]([^'"]+)['"]\s*\)(\.)?/g;

/** The modules a source names, in order of appearance (comments are not parsed out, so keep
 *  import-looking text out of comments in the files these tests read). */
export function importsOf(source: string): ImportRef[] {
  const refs: ImportRef[] = [];
  for (const m of source.matchAll(STATIC)) refs.push({ specifier: m[3], typeOnly: m[2] !== undefined });
  // import('x').T and typeof import('x') are types; import('x') alone and require('x') load code.
  for (const m of source.matchAll(DYNAMIC)) refs.push({ specifier: m[3], typeOnly: m[2] === 'import' && (m[1] !== undefined || m[4] !== undefined) });
  return refs;
}

/** The project file a relative specifier names from `fromFile` (.ts, .d.ts or folder index),
 *  or undefined for a package import or a path that names no source file. */
export function resolveImport(fromFile: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(fromFile), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.d.ts`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** Every .ts file under `dir`, recursively. */
export function tsFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...tsFilesUnder(full));
    else if (entry.name.endsWith('.ts')) out.push(full);
  }
  return out;
}
