// The SEA fuse, shared by Redox's own injectors (elf-inject.ts, pe-inject.ts):
// a base Node binary holds the string "<fuse>:0" exactly once, and an injected binary has it
// flipped to ":1" (what postject --sentinel-fuse does). Node runs the blob only when it is blown.
import fs from 'node:fs';
import { RedoxError } from '../../errors';
import { readAt } from './file-bytes';

/** Offsets of `marker` in the file (at most two: one is all a fuse may have), read in chunks
 *  rather than all at once (the binary is over 100 MB, and reading it whole costs ~5x the CPU
 *  here, most of it faulting in the buffer's pages). */
function findAll(fd: number, size: number, marker: Buffer): number[] {
  const found: number[] = [];
  const chunk = Buffer.alloc(8 << 20);
  for (let pos = 0; pos < size && found.length < 2; pos += chunk.length - marker.length) {
    const n = fs.readSync(fd, chunk, 0, chunk.length, pos);
    for (let i = chunk.subarray(0, n).indexOf(marker); i >= 0 && found.length < 2; i = chunk.subarray(0, n).indexOf(marker, i + 1)) {
      if (!found.includes(pos + i)) found.push(pos + i);
    }
    if (n < chunk.length) break;
  }
  return found;
}

/** Where the unblown fuse is; a coded build error when the base has none or several. */
export function findFuse(fd: number, size: number, fuse: string): number {
  const fuses = findAll(fd, size, Buffer.from(fuse + ':0'));
  if (fuses.length !== 1) {
    throw new RedoxError('REDOX_BUILD_INJECT', `the base binary has ${fuses.length === 0 ? 'no' : 'more than one'} unblown SEA fuse ${fuse}`, 'use a plain official Node binary as the base');
  }
  return fuses[0];
}

/** Flips the fuse found at `at` to ":1". */
export function blowFuse(fd: number, at: number, fuse: string): void {
  fs.writeSync(fd, Buffer.from('1'), 0, 1, at + fuse.length + 1);
}

/** Whether a base binary has the fuse, unblown ("<fuse>:0") or blown (":1"). */
export function fuseState(file: string, fuse: string): 'none' | 'unblown' | 'blown' {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const at = findAll(fd, size, Buffer.from(fuse + ':'))[0];
    if (at === undefined) return 'none';
    return readAt(fd, at + fuse.length + 1, 1)[0] === 0x31 ? 'blown' : 'unblown';
  } finally {
    fs.closeSync(fd);
  }
}
