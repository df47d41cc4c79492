// Things made once per test run and shared by every test file that needs them (built binaries,
// an initialised PostgreSQL cluster): one folder per key in the run's fixture folder.
// `npm test` gives the whole run that folder (REDOX_TEST_BINARIES, deleted at the end); a test
// file run alone gets a private one, deleted when it exits. Concurrent test files take a lock
// per key (the build cache's withLock): one makes the fixture, the others wait for it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withLock } from '../../core/tooling/build/cache-lock';

let privateRoot: string | undefined;

function fixturesRoot(): string {
  const shared = process.env.REDOX_TEST_BINARIES;
  if (shared) {
    fs.mkdirSync(shared, { recursive: true });
    return shared;
  }
  if (!privateRoot) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redox-test-binaries-'));
    privateRoot = dir;
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return privateRoot;
}

/** The folder of fixture `key`, made by `make` (into that folder) at most once per run. A
 *  failed `make` leaves nothing behind, and the next caller tries again. */
export async function runFixture(key: string, make: (dir: string) => Promise<void>): Promise<string> {
  const entry = path.join(fixturesRoot(), key);
  const done = path.join(entry, 'done');
  if (fs.existsSync(done)) return entry;
  return withLock(entry + '.lock', async () => {
    // Made by another test file while this one waited for the lock.
    if (fs.existsSync(done)) return entry;
    fs.rmSync(entry, { recursive: true, force: true });
    fs.mkdirSync(entry, { recursive: true });
    await make(entry);
    fs.writeFileSync(done, '');
    return entry;
  });
}
