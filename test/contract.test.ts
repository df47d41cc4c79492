// Features reach core only through the feature contract (core/feature.ts), the one module a
// local feature outside this repository can import too. Tests may also use test/support.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { importsOf, resolveImport, tsFilesUnder } from './support/imports';
import { ROOT } from './support/harness';

const CORE = path.join(ROOT, 'core') + path.sep;
const CONTRACT = path.join(ROOT, 'core', 'feature.ts');

/** The imports in `file` (a file under features/) that reach into core/ past the contract. */
function contractBreaches(file: string, source: string): string[] {
  return importsOf(source)
    .filter((ref) => {
      const target = resolveImport(file, ref.specifier) ?? path.resolve(path.dirname(file), ref.specifier);
      return ref.specifier.startsWith('.') && target.startsWith(CORE) && target !== CONTRACT;
    })
    .map((ref) => `${path.relative(ROOT, file)} imports ${ref.specifier}`);
}

test('no file under features/ imports from core/ other than core/feature', () => {
  const breaches = tsFilesUnder(path.join(ROOT, 'features'))
    .flatMap((file) => contractBreaches(file, fs.readFileSync(file, 'utf8')));
  assert.deepEqual(breaches, [], 'features must import core only through core/feature (export what they need from it)');
});

test('the contract check catches an import past core/feature, type-only or not', () => {
  const file = path.join(ROOT, 'features', 'example', 'index.ts');
  assert.deepEqual(contractBreaches(file, "import { defineFeature } from '../../core/feature';\n"), []);
  assert.deepEqual(contractBreaches(file, "import { parseLimit } from '../../core/runtime/limits';\n"),
    ['features/example/index.ts imports ../../core/runtime/limits']);
  assert.deepEqual(contractBreaches(file, "import type { Logger } from '../../core/runtime/log';\n"),
    ['features/example/index.ts imports ../../core/runtime/log']);
  assert.deepEqual(contractBreaches(file, "const x = require('../../core/lua/host');\n"),
    ['features/example/index.ts imports ../../core/lua/host']);
});
