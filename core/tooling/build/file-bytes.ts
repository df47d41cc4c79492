// Reading big files (Node binaries of ~100 MB, built executables, package tarballs) in pieces:
// reading one whole allocates and faults in a buffer its size, which costs about five times the
// CPU of hashing it on the build machines measured. Headers are read where they are; hashes go
// through one reused 1 MB buffer.
import crypto from 'node:crypto';
import fs from 'node:fs';

const CHUNK = 1 << 20;

/** Reads `length` bytes at `position` (fewer at the end of the file). */
export function readAt(fd: number, position: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  const n = fs.readSync(fd, b, 0, length, position);
  return b.subarray(0, n);
}

/** The file's digest, `algorithm` ('sha256', 'sha512') in `encoding` ('hex', 'base64'). */
export function hashFile(file: string, algorithm = 'sha256', encoding: crypto.BinaryToTextEncoding = 'hex'): string {
  const hash = crypto.createHash(algorithm);
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (let n; (n = fs.readSync(fd, buffer, 0, CHUNK, null)) > 0;) hash.update(n === CHUNK ? buffer : buffer.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest(encoding);
}
