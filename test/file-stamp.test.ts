// The build cache's check of big files (core/tooling/build/file-stamp.ts): hashed once, then
// trusted while size, modification time and inode are unchanged; any write means a new hash.
// And what a cached Node base reports about itself, kept under its sha256 (node-base.ts).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './support/harness';
import { matchesSha256 } from '../core/tooling/build/file-stamp';
import { probeCached } from '../core/tooling/build/node-base';

const TMP = tempDir('redox-file-stamp-');
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

const sha = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex');

test('a matching file is stamped; a changed one is hashed again and refused', () => {
  const file = path.join(TMP, 'base');
  const good = crypto.randomBytes(4096);
  fs.writeFileSync(file, good);
  assert.equal(matchesSha256(file, sha(good)), true);
  assert.ok(fs.existsSync(file + '.verified'), 'stamp written after a passing hash');
  assert.equal(matchesSha256(file, sha(good)), true);
  // One byte changed in place (same size): the stamp no longer matches, the hash decides.
  const bad = Buffer.from(good);
  bad[100] ^= 0xff;
  fs.writeFileSync(file, bad);
  assert.equal(matchesSha256(file, sha(good)), false);
  // Put back: passes again.
  fs.writeFileSync(file, good);
  assert.equal(matchesSha256(file, sha(good)), true);
});

test('the stamp is what skips the hash: a change with size and time restored is not re-read', () => {
  // This pins down the trade-off the cache makes (git's index makes the same one): a write that
  // puts back the same size, nanosecond mtime and inode is not noticed.
  const file = path.join(TMP, 'sneaky');
  const good = crypto.randomBytes(4096);
  fs.writeFileSync(file, good);
  // Whole seconds, so the same time can be put back exactly.
  fs.utimesSync(file, 1_700_000_000, 1_700_000_000);
  assert.equal(matchesSha256(file, sha(good)), true);
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.from([good[0] ^ 0xff]), 0, 1, 0);
  fs.closeSync(fd);
  fs.utimesSync(file, 1_700_000_000, 1_700_000_000);
  assert.equal(matchesSha256(file, sha(good)), true, 'trusted by its stamp');
  fs.rmSync(file + '.verified');
  assert.equal(matchesSha256(file, sha(good)), false, 'without the stamp the hash finds the change');
});

test('a missing file or a wrong expectation is false, and no stamp is written for it', () => {
  assert.equal(matchesSha256(path.join(TMP, 'absent'), 'ab'.repeat(32)), false);
  const file = path.join(TMP, 'other');
  fs.writeFileSync(file, 'x');
  assert.equal(matchesSha256(file, 'ab'.repeat(32)), false);
  assert.equal(fs.existsSync(file + '.verified'), false);
});

test('a registry base is asked its version once per sha256; the answer is read back, not asked again', () => {
  // A cache entry whose binary is this Node (it answers `node -p` like a registry base does).
  const pkg = { dir: path.join(TMP, 'node-x'), binary: process.execPath, sha256: 'a'.repeat(64) };
  const stamp = `${pkg.dir}.probe.json`;
  const first = probeCached(pkg);
  assert.ok(typeof first !== 'string', String(first));
  assert.equal(first.version, process.version);
  assert.equal(first.abi, process.versions.modules);
  // The answer on disk is what the next build uses: an edited one shows up as is.
  const saved = JSON.parse(fs.readFileSync(stamp, 'utf8'));
  assert.equal(saved.sha256, pkg.sha256);
  fs.writeFileSync(stamp, JSON.stringify({ ...saved, probed: { ...saved.probed, version: 'v1.2.3' } }));
  assert.equal((probeCached(pkg) as { version: string }).version, 'v1.2.3');
  // Another binary (another sha256) is asked again.
  assert.equal((probeCached({ ...pkg, sha256: 'b'.repeat(64) }) as { version: string }).version, process.version);
});
