// Checking a big cached file (a Node binary, a stripped copy) against its recorded sha256
// without hashing ~120 MB on every build: after a file hashes correctly, its size, modification
// time (nanoseconds) and inode are written to a stamp file, and a file that still has exactly
// those is taken as unchanged (git's index makes the same test). Any write to the file (a
// damaged download, an edit in place, a replacement) changes the stamp, and it is hashed again.
import fs from 'node:fs';
import { hashFile } from './file-bytes';
import { writeAtomic } from '../write-atomic';

const stampOf = (st: fs.BigIntStats, sha256: string) => `${st.size} ${st.mtimeNs} ${st.ino} ${sha256}\n`;

/** Whether `file` hashes to `expected` (hex sha256), re-hashing only when it changed since the
 *  last check that passed. */
export function matchesSha256(file: string, expected: string, stampFile = `${file}.verified`): boolean {
  const st = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  if (!st) return false;
  try {
    if (fs.readFileSync(stampFile, 'utf8') === stampOf(st, expected)) return true;
  } catch {
    // no stamp yet
  }
  const actual = hashFile(file);
  if (actual !== expected) return false;
  const after = fs.statSync(file, { bigint: true });
  // Changed while it was being read: report this check, but stamp nothing.
  if (after.mtimeNs !== st.mtimeNs || after.size !== st.size) return true;
  try {
    writeAtomic(stampFile, stampOf(st, expected));
  } catch {
    // a stamp that cannot be written only costs the next check a hash
  }
  return true;
}
