// The ELF injector (core/tooling/build/elf-inject.ts) on a real Node binary: the one running
// this test, copied, given a blob it generated itself, and run. The built binaries of
// build.test.ts and node-base.test.ts (Node 24, 26, arm64 under qemu) go through it too.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readBytes, tempDir } from './support/harness';
import { fuseState } from '../core/tooling/build/sea-fuse';
import { injectElf, readElfBlob } from '../core/tooling/build/elf-inject';
import { SEA_FUSE } from '../core/tooling/build/node-base';

const TMP = tempDir('redox-elf-inject-');
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

const hostIsElf = readBytes(process.execPath, 0, 4).toString('latin1') === '\x7fELF';
const hasFuse = hostIsElf && fuseState(process.execPath, SEA_FUSE) === 'unblown';
const skip = !hostIsElf ? 'the running Node is not an ELF binary' : !hasFuse ? 'the running Node has no SEA fuse' : false;

function blobFor(script: string): Buffer {
  const dir = fs.mkdtempSync(path.join(TMP, 'blob-'));
  fs.writeFileSync(path.join(dir, 'main.js'), script);
  fs.writeFileSync(path.join(dir, 'asset.txt'), 'an asset');
  fs.writeFileSync(path.join(dir, 'sea.json'), JSON.stringify({ main: 'main.js', output: 'blob', disableExperimentalSEAWarning: true, assets: { a: 'asset.txt' } }));
  execFileSync(process.execPath, ['--experimental-sea-config', 'sea.json'], { cwd: dir, env: { ...process.env, NODE_OPTIONS: '' } });
  return fs.readFileSync(path.join(dir, 'blob'));
}

test('a copy of the running Node, injected, runs its blob and reads its asset', { skip }, () => {
  const blob = blobFor(`const sea = require('node:sea'); console.log('sea', sea.isSea(), sea.getAsset('a', 'utf8'), process.argv.slice(2).join(','));`);
  const exe = path.join(TMP, 'injected');
  fs.copyFileSync(process.execPath, exe);
  assert.equal(injectElf(exe, blob, SEA_FUSE), true);
  assert.deepEqual(readElfBlob(exe), blob);
  assert.equal(fuseState(exe, SEA_FUSE), 'blown');
  const out = execFileSync(exe, ['x', 'y'], { encoding: 'utf8', env: {} });
  assert.equal(out.trim(), 'sea true an asset x,y');
  // Blown fuse: a second injection is refused with the build's coded error.
  assert.throws(() => injectElf(exe, blob, SEA_FUSE), (err: Error & { code?: string }) => err.code === 'REDOX_BUILD_INJECT' && /no unblown SEA fuse/.test(err.message));
});

test('a layout it does not expect is left untouched (the build then uses postject)', { skip }, () => {
  const exe = path.join(TMP, 'no-room');
  const data = fs.readFileSync(process.execPath);
  // Fill the padding after the segment holding the program headers: no room for the new table.
  const phoff = Number(data.readBigUInt64LE(32));
  const phnum = data.readUInt16LE(56);
  let end = 0;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * 56;
    const offset = Number(data.readBigUInt64LE(at + 8));
    const filesz = Number(data.readBigUInt64LE(at + 32));
    if (data.readUInt32LE(at) === 1 && offset <= phoff && phoff < offset + filesz) end = offset + filesz;
  }
  assert.ok(end > 0, 'found the segment holding the program headers');
  data.fill(0xcc, end, end + 64);
  fs.writeFileSync(exe, data);
  assert.equal(injectElf(exe, Buffer.from('blob'), SEA_FUSE), false);
  assert.ok(fs.readFileSync(exe).equals(data), 'the file is unchanged');
  // Not ELF at all: false as well, nothing written.
  const text = path.join(TMP, 'text');
  fs.writeFileSync(text, 'not a binary');
  assert.equal(injectElf(text, Buffer.from('blob'), SEA_FUSE), false);
  assert.equal(fs.readFileSync(text, 'utf8'), 'not a binary');
  assert.equal(fuseState(text, SEA_FUSE), 'none');
});
