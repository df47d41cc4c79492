// Writing a file completely or not at all: written beside it under a name of this process, then
// renamed over it, so a reader (another build, a concurrent CLI process) sees the old file or
// the new one, never half of one.
import fs from 'node:fs';
import path from 'node:path';
import { makeDirs } from '../make-dirs';

export function writeAtomic(file: string, data: string | Uint8Array, options: { mkdir?: boolean } = {}): void {
  if (options.mkdir) makeDirs(path.dirname(file));
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}
