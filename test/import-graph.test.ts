// The line between what ships in a binary and what does not, read statically (no build). Code
// under core/tooling/ (the builder, the catalogue, TypeScriptToLua, the development runner, deploy
// renderers, the test runner) and the development CLI must never be reachable from the entry
// `redox build` generates, or it would bloat every binary and widen its attack surface; and
// runtime code (core/ outside core/tooling/) never imports tooling, not even for a type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { renderEntry } from '../core/tooling/build/entry';
import { importsOf, resolveImport, tsFilesUnder } from './support/imports';
import { ROOT } from './support/harness';

const TOOLING = 'core/tooling/';
// The binary's own command line: the runtime commands it shares with `redox serve/run`.
const BINARY_CLI = ['cli/binary-main.ts', 'cli/runtime-commands.ts', 'cli/options.ts', 'cli/program.ts', 'cli/report.ts'];

const rel = (file: string) => path.relative(ROOT, file).split(path.sep).join('/');

/** Project files reachable from `source` (as if it were the file `from`) through imports that
 *  survive compilation, each with the chain that reached it. */
function reachable(from: string, source: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const queue: [string, string, string[]][] = [[from, source, []]];
  while (queue.length > 0) {
    const [file, text, chain] = queue.shift()!;
    for (const ref of importsOf(text)) {
      if (ref.typeOnly) continue;
      const target = resolveImport(path.join(ROOT, file), ref.specifier);
      if (!target || !target.endsWith('.ts')) continue;
      const name = rel(target);
      if (seen.has(name)) continue;
      seen.set(name, [...chain, name]);
      queue.push([name, fs.readFileSync(target, 'utf8'), [...chain, name]]);
    }
  }
  return seen;
}

/** The entry a build of every catalogue feature generates, as `redox build` renders it. */
function fullEntry(): string {
  const catalogue = JSON.parse(fs.readFileSync(path.join(ROOT, 'features.json'), 'utf8')) as { features: Record<string, { description: string; requires?: string[] }> };
  return renderEntry(Object.entries(catalogue.features).map(([name, e]) => ({
    name, description: e.description, requires: e.requires ?? [], specifier: `./features/${name}/index`,
  })));
}

function buildTime(file: string): boolean {
  return file.startsWith(TOOLING) || (file.startsWith('cli/') && !BINARY_CLI.includes(file));
}

test('nothing under core/tooling/ (or the development CLI) is reachable from the binary entry', () => {
  const graph = reachable('redox-entry.ts', fullEntry());
  assert.ok(graph.has('core/runtime/engine.ts') && graph.has('core/lua/host.ts') && graph.has('features/sqlite/index.ts'), 'the walk follows imports into the runtime and the features');
  assert.deepEqual(BINARY_CLI.filter((f) => !graph.has(f)), [], 'every file of the binary CLI list is in the binary (keep the list exact)');
  const leaks = [...graph.entries()].filter(([file]) => buildTime(file)).map(([, chain]) => chain.join(' -> '));
  assert.deepEqual(leaks, [], 'build-time modules reachable from the binary entry');
});

test('runtime code never imports tooling, not even a type', () => {
  const runtime = tsFilesUnder(path.join(ROOT, 'core')).map(rel).filter((f) => !f.startsWith(TOOLING) && !f.startsWith('core/types/'));
  assert.ok(runtime.includes('core/runtime/server.ts') && runtime.includes('core/lua/vm.ts') && runtime.includes('core/feature.ts'));
  const breaches: string[] = [];
  for (const file of runtime) {
    for (const ref of importsOf(fs.readFileSync(path.join(ROOT, file), 'utf8'))) {
      const target = resolveImport(path.join(ROOT, file), ref.specifier);
      if (target && rel(target).startsWith(TOOLING)) breaches.push(`${file} imports ${ref.specifier}`);
    }
  }
  assert.deepEqual(breaches, [], 'runtime files importing core/tooling/');
});

test('the walk sees a leak: the development CLI reaches the builder', () => {
  const graph = reachable('cli/main.ts', fs.readFileSync(path.join(ROOT, 'cli/main.ts'), 'utf8'));
  assert.ok([...graph.keys()].some((f) => f.startsWith(`${TOOLING}build/`)), 'cli/main.ts should reach core/tooling/build');
});
