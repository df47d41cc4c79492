// Creating a folder and its missing parents for a path the user gave (--out, -o). Node 20's
// fs.mkdirSync(dir, { recursive: true }) never returns for a path under a folder that refuses
// new entries with ENOENT, such as /proc/x (it spins at 100% CPU); one mkdir per missing level
// fails there with that ENOENT instead.
import fs from 'node:fs';
import path from 'node:path';

export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d); d = path.dirname(d)) {
    missing.push(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      fs.mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // made meanwhile by another process
    }
  }
}
