// Creating a folder and its missing parents: every such folder Redox makes, since most paths
// come from the user (--out, -o, REDOX_BUILD_CACHE, REDOX_CACHE_DIR) or lie under one. Node 20's
// fs.mkdirSync(dir, { recursive: true }) never returns for a path under a folder that refuses
// new entries with ENOENT, such as /proc/x (it spins at 100% CPU); one mkdir per missing level
// fails there with that ENOENT instead.
import fs from 'node:fs';
import path from 'node:path';

export function makeDirs(dir: string, mode?: number): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d); d = path.dirname(d)) {
    missing.push(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      fs.mkdirSync(d, mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // made meanwhile by another process
    }
  }
}

/** makeDirs, then proof that this process can create files there (a probe file, removed);
 *  throws the file system's error. */
export function makeWritableDir(dir: string): void {
  makeDirs(dir);
  const probe = path.join(dir, `.redox-write-test-${process.pid}`);
  fs.writeFileSync(probe, '');
  fs.rmSync(probe);
}
