// `redox build --static DIR`: the folder's files become two SEA assets, an index (path -> offset,
// size, mtime, sha256) and the bytes back to back, so the binary serves them with no files beside
// it. Dot-files are left out (they are never served) and symlinks are followed only when they
// stay inside the folder, as when serving from disk.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RedoxError } from '../../errors';
import type { EmbeddedStaticIndex } from '../../runtime/http/static-files';

export interface CollectedStatic {
  indexFile: string;
  dataFile: string;
  files: number;
  bytes: number;
}

export function collectStatic(dir: string, cwd: string, workDir: string): CollectedStatic {
  const given = path.resolve(cwd, dir);
  let root: string;
  try {
    root = fs.realpathSync(given);
  } catch {
    throw new RedoxError('REDOX_STATIC_DIR', `--static ${dir}: no such folder (looked for ${given})`, 'pass the folder whose files should be embedded, e.g. --static ./public');
  }
  if (!fs.statSync(root).isDirectory()) throw new RedoxError('REDOX_STATIC_DIR', `--static ${dir}: not a folder`, 'pass a folder, e.g. --static ./public');

  const found: { rel: string; real: string }[] = [];
  const walk = (folder: string, rel: string) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(folder, entry.name);
      const real = fs.realpathSync(full);
      if (real !== root && !real.startsWith(root + path.sep)) continue;
      const stat = fs.statSync(real);
      const name = rel ? `${rel}/${entry.name}` : entry.name;
      // Symlinked folders are not walked (they could loop); real ones are.
      if (stat.isDirectory() && !entry.isSymbolicLink()) walk(full, name);
      else if (stat.isFile()) found.push({ rel: name, real });
    }
  };
  walk(root, '');

  const index: EmbeddedStaticIndex = { files: {} };
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const f of found) {
    const data = fs.readFileSync(f.real);
    const mtimeMs = Math.floor(fs.statSync(f.real).mtimeMs / 1000) * 1000;
    index.files[f.rel] = { offset, size: data.length, mtimeMs, sha256: crypto.createHash('sha256').update(data).digest('hex') };
    chunks.push(data);
    offset += data.length;
  }
  const indexFile = path.join(workDir, 'static-index.json');
  const dataFile = path.join(workDir, 'static-data.bin');
  fs.writeFileSync(indexFile, JSON.stringify(index));
  // An empty asset is not worth a special case at runtime: one byte that no file points into.
  fs.writeFileSync(dataFile, offset ? Buffer.concat(chunks, offset) : Buffer.alloc(1));
  return { indexFile, dataFile, files: found.length, bytes: offset };
}
