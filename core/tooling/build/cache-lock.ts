// One build at a time fetches a given Node package or compiles a given addon: parallel builds
// (a CI matrix on one runner, parallel test files) wait for the first instead of repeating
// minutes of work. A lock is a folder holding its owner's pid; a dead owner's lock is taken over.
import fs from 'node:fs';
import path from 'node:path';
import { makeDirs } from '../../make-dirs';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export async function withLock<T>(lockDir: string, fn: () => Promise<T>): Promise<T> {
  makeDirs(path.dirname(lockDir));
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = NaN;
      try {
        owner = Number(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8'));
      } catch { /* being created or removed: look again */ }
      const age = Date.now() - (fs.statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if ((Number.isInteger(owner) && owner > 0 && !alive(owner)) || (Number.isNaN(owner) && age > 60_000)) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}
