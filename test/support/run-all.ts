// `npm test`: runs node's test runner on exactly the compiled *.test.js files whose .ts source
// still exists (Node 20 would otherwise also run every .js under a test/ folder, and stale
// output of deleted tests). Cross-platform, unlike a shell glob.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..', '..');
const out = path.join(root, 'build');
const files: string[] = [];
const walk = (dir: string) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.test.js') && fs.existsSync(path.join(root, path.relative(out, p)).replace(/\.js$/, '.ts'))) files.push(p);
  }
};
for (const top of ['features', 'test']) walk(path.join(out, top));
files.sort();
// One cache of built binaries for the whole run (test/support/binaries.ts), deleted at the end.
const binaries = fs.mkdtempSync(path.join(os.tmpdir(), 'redox-test-binaries-'));
try {
  const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...process.argv.slice(2), ...files], {
    stdio: 'inherit', env: { ...process.env, REDOX_TEST_BINARIES: binaries },
  });
  process.exitCode = result.status ?? 1;
} finally {
  fs.rmSync(binaries, { recursive: true, force: true });
}
