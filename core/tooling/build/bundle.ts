// Bundling the generated entry into one CommonJS file with esbuild, from the TypeScript sources.
// The metafile is kept: it is how the size report attributes bytes to features and how the tests
// prove that left-out features left no code behind.
import path from 'node:path';
import type { Metafile, Plugin } from 'esbuild';
import { RedoxError } from '../../errors';
import { ENTRY_FILE } from './entry';
import { optionalRequires } from './optional-requires';

export interface Bundle {
  code: Buffer;
  metafile: Metafile;
}

/** Local features import the contract as `redox/feature`; it resolves to this package's copy so
 *  built-in and local features share one defineFeature. */
export function redoxImports(root: string): Plugin {
  return {
    name: 'redox-imports',
    setup(build) {
      build.onResolve({ filter: /^redox(\/feature)?$/ }, () => ({ path: path.join(root, 'core', 'feature.ts') }));
    },
  };
}

export async function bundleEntry(root: string, entrySource: string): Promise<Bundle> {
  // Loaded here, not at the top: nothing that imports the build pipeline's types pays for esbuild.
  const esbuild = await import('esbuild');
  try {
    const result = await esbuild.build({
      stdin: { contents: entrySource, resolveDir: root, sourcefile: ENTRY_FILE, loader: 'ts' },
      absWorkingDir: root,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      minify: true,
      metafile: true,
      write: false,
      outfile: path.join(root, 'redox-bundle.js'),
      // Inside a SEA, require() sees built-ins only and import() is unreliable (wasmoon uses
      // `await import('module')`): turn dynamic imports into require calls.
      supported: { 'dynamic-import': false },
      nodePaths: [path.join(root, 'node_modules')],
      plugins: [redoxImports(root), optionalRequires()],
      logLevel: 'silent',
    });
    return { code: Buffer.from(result.outputFiles[0].contents), metafile: result.metafile };
  } catch (err) {
    const errors = (err as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors;
    if (!errors) throw err;
    const lines = errors.slice(0, 5).map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text));
    throw new RedoxError('REDOX_BUILD_BUNDLE', `esbuild could not bundle the runtime:\n  ${lines.join('\n  ')}${errors.length > 5 ? `\n  (${errors.length - 5} more)` : ''}`,
      'fix the import or syntax error above; local features must import the contract as `redox/feature`');
  }
}
