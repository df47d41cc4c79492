// Hashing big files (Node binaries of ~100 MB, built executables, package tarballs) in chunks
// through one reused buffer: reading such a file whole allocates and faults in a buffer its size,
// which costs about five times the CPU of the hashing itself on the build machines measured.
import crypto from 'node:crypto';
import fs from 'node:fs';

const CHUNK = 1 << 20;

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
