// The PE injector (core/tooling/build/pe-inject.ts) on the real win-x64 Node base from the build
// cache: what a win-x64 build gets, checked byte by byte here (this machine cannot run it), and
// run under wine when wine is installed (Node 22: the newest line Debian's wine 8 runs).
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readBytes, sha256File, tempDir } from './support/harness';
import { injectPe } from '../core/tooling/build/pe-inject';
import { peResources, RT_RCDATA, seaBlobResource } from '../core/tooling/build/pe';
import { SEA_FUSE } from '../core/tooling/build/node-base';
import { obtainNode } from '../core/tooling/build/node-cache';
import { TARGETS } from '../core/tooling/build/targets';
import { DEFAULT_MAJOR } from '../core/tooling/build/node-versions';

const skip = process.platform !== 'linux' || process.arch !== 'x64' ? 'cross-builds are tested from linux-x64' : false;
const hasWine = !skip && spawnSync('wine', ['--version']).status === 0;
const TMP = tempDir('redox-pe-inject-');
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

let base = '';
before(async () => {
  if (!skip) base = (await obtainNode(TARGETS['win-x64'], { kind: 'major', major: DEFAULT_MAJOR }, () => {})).binary;
}, { timeout: 10 * 60_000 });

/** The file's headers as numbers: where things are, for the checks below. */
function headers(file: Buffer) {
  const pe = file.readUInt32LE(0x3c);
  const count = file.readUInt16LE(pe + 6);
  const opt = pe + 24;
  const table = opt + file.readUInt16LE(pe + 20);
  const sections = Array.from({ length: count }, (_, i) => {
    const s = table + 40 * i;
    return { name: file.toString('latin1', s, s + 8).replace(/\0+$/, ''), vsize: file.readUInt32LE(s + 8), va: file.readUInt32LE(s + 12), rawSize: file.readUInt32LE(s + 16), raw: file.readUInt32LE(s + 20) };
  });
  const dir = (i: number) => [file.readUInt32LE(opt + 112 + 8 * i), file.readUInt32LE(opt + 116 + 8 * i)];
  return { opt, table, count, sections, checksum: file.readUInt32LE(opt + 64), sizeOfImage: file.readUInt32LE(opt + 56), resource: dir(2), security: dir(4) };
}

/** imagehlp's CheckSumMappedFile, written out word by word (the injector sums differently):
 *  16-bit little-endian words (this test runs on x64 only), the checksum field counted as 0. */
function checksum(file: Buffer, fieldAt: number): number {
  const count = file.length >>> 1;
  const words = file.byteOffset % 2 === 0 ? new Uint16Array(file.buffer, file.byteOffset, count) : new Uint16Array(Uint8Array.from(file.subarray(0, count * 2)).buffer);
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const at = i * 2;
    sum += at >= fieldAt && at < fieldAt + 4 ? 0 : words[i];
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (file.length & 1) {
    sum += file[file.length - 1];
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return (sum + file.length) >>> 0;
}

const resourceList = (file: Buffer) => peResources(file).map((r) => ({ type: r.type, name: r.name, lang: r.lang, bytes: file.subarray(r.offset, r.offset + r.size).toString('base64') }));

test('the win-x64 base, injected: its resources kept, the blob as RCDATA NODE_SEA_BLOB, the fuse blown, a valid checksum, the signature dropped', { skip }, () => {
  const exe = path.join(TMP, 'injected.exe');
  fs.copyFileSync(base, exe);
  const before = fs.readFileSync(base);
  const blob = Buffer.from(`a blob ${'x'.repeat(100_001)}`);
  assert.equal(injectPe(exe, blob, SEA_FUSE), true);
  const after = fs.readFileSync(exe);

  const was = headers(before);
  const now = headers(after);
  assert.equal(checksum(before, was.opt + 64), was.checksum, 'the reference checksum agrees with the official binary');
  assert.equal(now.checksum, checksum(after, now.opt + 64));
  assert.equal(now.count, was.count + 1);
  const last = now.sections[now.count - 1];
  assert.equal(last.name, '.rsrc');
  assert.equal(now.sections.filter((s) => s.name === '.rsrc').length, 1);
  assert.deepEqual(now.resource, [last.va, last.vsize]);
  assert.ok(last.va >= Math.max(...was.sections.map((s) => s.va + s.vsize)) && last.va % 4096 === 0);
  assert.equal(now.sizeOfImage, Math.ceil((last.va + last.vsize) / 4096) * 4096);
  assert.deepEqual(now.security, [0, 0]);
  assert.equal(after.length, last.raw + last.rawSize, 'the file ends with the new section');
  // Every section the base had is where it was (only the old resource section is renamed).
  now.sections.slice(0, was.count).forEach((s, i) => assert.deepEqual({ ...s, name: '' }, { ...was.sections[i], name: '' }));

  const kept = resourceList(after).filter((r) => r.name !== 'NODE_SEA_BLOB');
  assert.deepEqual(kept, resourceList(before));
  assert.ok(kept.length > 0);
  assert.deepEqual(peResources(after).filter((r) => r.name === 'NODE_SEA_BLOB').map((r) => [r.type, r.lang]), [[RT_RCDATA, 0]]);
  assert.ok(seaBlobResource(after)!.equals(blob));
  assert.ok(seaBlobResource(exe)!.equals(blob), 'read from the file, only where the headers point');
  assert.ok(after.includes(SEA_FUSE + ':1') && !after.includes(SEA_FUSE + ':0'));

  // A second injection is the build's coded error (the fuse is blown).
  assert.throws(() => injectPe(exe, blob, SEA_FUSE), (err: Error & { code?: string }) => err.code === 'REDOX_BUILD_INJECT');
});

test('a layout it does not expect is left untouched (the build then uses postject)', { skip }, async () => {
  const h = headers(readBytes(base, 0, 4096));
  // No room for one more section header.
  const exe = path.join(TMP, 'no-room.exe');
  fs.copyFileSync(base, exe);
  const fd = fs.openSync(exe, 'r+');
  fs.writeSync(fd, Buffer.alloc(40, 0x41), 0, 40, h.table + 40 * h.count);
  fs.closeSync(fd);
  const full = await sha256File(exe);
  assert.equal(injectPe(exe, Buffer.from('blob'), SEA_FUSE), false);
  assert.equal(await sha256File(exe), full, 'the file is unchanged');
  // Something after the signature that is not the signature.
  const trailing = path.join(TMP, 'trailing.exe');
  fs.copyFileSync(base, trailing);
  fs.appendFileSync(trailing, 'appended data');
  const appended = await sha256File(trailing);
  assert.equal(injectPe(trailing, Buffer.from('blob'), SEA_FUSE), false);
  assert.equal(await sha256File(trailing), appended, 'the file is unchanged');
  // Not PE at all.
  const text = path.join(TMP, 'text');
  fs.writeFileSync(text, 'not a binary');
  assert.equal(injectPe(text, Buffer.from('blob'), SEA_FUSE), false);
  assert.equal(fs.readFileSync(text, 'utf8'), 'not a binary');
});

test('under wine, an injected Windows Node runs its blob and reads its asset', { skip: skip || (!hasWine && 'wine is not installed') }, async () => {
  // The blob comes from the same Node release for Linux, as a cross build makes it.
  const notes = () => {};
  const win = await obtainNode(TARGETS['win-x64'], { kind: 'major', major: 22 }, notes);
  const linux = await obtainNode(TARGETS['linux-x64'], { kind: 'exact', version: win.version }, notes);
  const dir = fs.mkdtempSync(path.join(TMP, 'wine-'));
  fs.writeFileSync(path.join(dir, 'main.js'), `const sea = require('node:sea');
require('node:fs').writeFileSync('out.json', JSON.stringify({ sea: sea.isSea(), asset: sea.getAsset('a', 'utf8'), args: process.argv.slice(2) }));`);
  fs.writeFileSync(path.join(dir, 'asset.txt'), 'an asset');
  fs.writeFileSync(path.join(dir, 'sea.json'), JSON.stringify({ main: 'main.js', output: 'blob', disableExperimentalSEAWarning: true, assets: { a: 'asset.txt' } }));
  execFileSync(linux.binary, ['--experimental-sea-config', 'sea.json'], { cwd: dir, env: { PATH: process.env.PATH }, stdio: 'pipe' });
  fs.copyFileSync(win.binary, path.join(dir, 'app.exe'));
  assert.equal(injectPe(path.join(dir, 'app.exe'), fs.readFileSync(path.join(dir, 'blob')), SEA_FUSE), true);
  // Output goes to a file: Node under wine cannot open a pipe as stdout.
  const r = spawnSync('wine', ['./app.exe', 'one', 'two'], { cwd: dir, stdio: 'ignore', timeout: 120_000, env: { ...process.env, WINEDEBUG: '-all', NODE_SKIP_PLATFORM_CHECK: '1' } });
  assert.equal(r.status, 0);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'out.json'), 'utf8')), { sea: true, asset: 'an asset', args: ['one', 'two'] });
});
