// Watches a folder tree for changed files by watching each directory (never a file): an atomic
// save or `sed -i` replaces a file with a new inode, which a per-file watch (what Node 20's
// recursive fs.watch does on Linux) stops seeing after the first time.
import fs from 'node:fs';
import path from 'node:path';

export interface TreeWatcher {
  close(): void;
}

/** Calls `onChange` with the path (relative to root, "/"-separated) of every file that changes,
 *  appears or is replaced. `skip` is tested on relative paths of directories and files. */
export function watchTree(root: string, skip: (rel: string) => boolean, onChange: (rel: string) => void): TreeWatcher {
  const watchers = new Map<string, fs.FSWatcher>();
  const watchDir = (dir: string) => {
    if (watchers.has(dir)) return;
    let w: fs.FSWatcher;
    try {
      w = fs.watch(dir, (_event, name) => {
        if (!name) return;
        const full = path.join(dir, name.toString());
        const rel = path.relative(root, full).split(path.sep).join('/');
        if (skip(rel)) return;
        let isDir = false;
        try {
          isDir = fs.statSync(full).isDirectory();
        } catch {
          // Gone (deleted, or the temp file of an atomic save): the rename of the real file follows.
        }
        if (isDir) scan(full);
        else onChange(rel);
      });
    } catch {
      return; // removed between listing and watching
    }
    w.on('error', () => {
      w.close();
      watchers.delete(dir);
    });
    watchers.set(dir, w);
  };
  const scan = (dir: string) => {
    watchDir(dir);
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory() && !skip(path.relative(root, full).split(path.sep).join('/'))) scan(full);
    }
  };
  scan(root);
  return {
    close: () => {
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
