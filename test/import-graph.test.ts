// What ships in a binary, read statically: the modules reachable at run time from the entry
// `redox build` generates (core/build/entry.ts: cli/binary-main plus the selected feature
// folders, here all of them). Build-time code (esbuild, the catalogue, TypeScriptToLua, deploy
// renderers, the test runner) and the development CLI must never be reachable, or they would
// bloat every binary and widen its attack surface. The folders are not yet split into
// runtime/tooling trees; this test is the line until they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { BINARY_MAIN } from '../core/build/entry';
import { importsOf, resolveImport } from './support/imports';
import { ROOT } from './support/harness';

const TOOLING = ['core/build/', 'core/catalogue/', 'core/ts/', 'core/deploy/', 'core/testing/', 'cli/'];
// The binary's own command line: the runtime commands it shares with `redox serve/run`.
const BINARY_CLI = ['cli/binary-main.ts', 'cli/runtime-commands.ts', 'cli/program.ts', 'cli/report.ts', 'cli/split-list.ts'];

/** Project files reachable from `roots` through imports that survive compilation, each with the
 *  chain that reached it. */
function reachable(roots: string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>(roots.map((r) => [r, [r]]));
  const queue = [...roots];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const ref of importsOf(fs.readFileSync(path.join(ROOT, file), 'utf8'))) {
      if (ref.typeOnly) continue;
      const target = resolveImport(path.join(ROOT, file), ref.specifier);
      if (!target || !target.endsWith('.ts')) continue;
      const rel = path.relative(ROOT, target).split(path.sep).join('/');
      if (seen.has(rel)) continue;
      seen.set(rel, [...seen.get(file)!, rel]);
      queue.push(rel);
    }
  }
  return seen;
}

function tooling(file: string): boolean {
  return TOOLING.some((dir) => file.startsWith(dir)) && !BINARY_CLI.includes(file);
}

test('nothing build-time is reachable from the binary entry', () => {
  const features = fs.readdirSync(path.join(ROOT, 'features'), { withFileTypes: true })
    .filter((d) => d.isDirectory()).map((d) => `features/${d.name}/index.ts`);
  const graph = reachable([BINARY_MAIN.replace(/^\.\//, '') + '.ts', ...features]);
  assert.ok(graph.has('core/runtime/engine.ts') && graph.has('core/lua/host.ts'), 'the walk follows imports into the runtime');
  const leaks = [...graph.entries()].filter(([file]) => tooling(file)).map(([, chain]) => chain.join(' -> '));
  assert.deepEqual(leaks, [], 'build-time modules reachable from the binary entry');
});

test('the walk sees a leak: the development CLI reaches the builder', () => {
  const graph = reachable(['cli/main.ts']);
  assert.ok([...graph.keys()].some((f) => f.startsWith('core/build/')), 'cli/main.ts should reach core/build');
});
