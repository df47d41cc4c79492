// Things made once per test run and shared by every test file that needs them (built binaries,
// an initialised PostgreSQL cluster): one folder per key in the run's fixture folder.
// `npm test` gives the whole run that folder (REDOX_TEST_BINARIES, deleted at the end); a test
// file run alone gets a private one, deleted when it exits. Concurrent test files take a lock
// per key: one makes the fixture, the others wait for it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The folder of fixture `key`, made by `make` (into that folder) at most once per run. A
 *  failed `make` leaves nothing behind, and the next caller tries again. */
export async function runFixture(key: string, make: (dir: string) => Promise<void>): Promise<string> {
  const entry = path.join(fixturesRoot(), key);
  const lock = entry + '.lock';
  for (;;) {
    if (fs.existsSync(path.join(entry, 'done'))) return entry;
    try {
      fs.mkdirSync(lock);
    } catch {
      // Someone else makes it; take over only if that process is gone.
      let owner = 0;
      try {
        owner = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8')) || 0;
      } catch {
        // not written yet, or already released
      }
      if (owner && !alive(owner)) fs.rmSync(lock, { recursive: true, force: true });
      await pause(200);
      continue;
    }
    try {
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      fs.rmSync(entry, { recursive: true, force: true });
      fs.mkdirSync(entry, { recursive: true });
      await make(entry);
      fs.writeFileSync(path.join(entry, 'done'), '');
      return entry;
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
}
