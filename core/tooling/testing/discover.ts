// Which files `redox test` runs: *_test.lua, *.test.lua and *.test.ts under the given paths,
// plus every .lua/.ts file directly inside a folder named test or tests. Files named on the
// command line run whatever their name.
import fs from 'node:fs';
import path from 'node:path';
import { RedoxError } from '../../errors';

const TEST_NAME = /(_test\.lua|\.test\.lua|\.test\.ts)$/;
const TEST_DIRS = new Set(['test', 'tests']);
const SKIP_DIRS = new Set(['node_modules', 'dist', 'build', 'types', '.git']);

function isTestFile(file: string): boolean {
  const base = path.basename(file);
  if (base.endsWith('.d.ts')) return false;
  if (TEST_NAME.test(base)) return true;
  return TEST_DIRS.has(path.basename(path.dirname(file))) && /\.(lua|ts)$/.test(base);
}

function walk(dir: string, out: string[]): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.')) walk(full, out);
    } else if (entry.isFile() && isTestFile(full)) {
      out.push(full);
    }
  }
}

/** Absolute paths of the test files, sorted, without duplicates. */
export function discoverTests(paths: string[], cwd = process.cwd()): string[] {
  const found: string[] = [];
  for (const p of paths.length ? paths : ['.']) {
    const full = path.resolve(cwd, p);
    if (!fs.existsSync(full)) {
      throw new RedoxError('REDOX_TEST_NOT_FOUND', `${p} does not exist`, 'pass test files or folders, or run `redox test` in the service folder');
    }
    if (fs.statSync(full).isDirectory()) walk(full, found);
    else found.push(full);
  }
  return [...new Set(found)];
}
