// Injecting the SEA blob into a Windows (PE32+) Node binary without postject.
//
// Node on Windows finds the blob with FindResource(RT_RCDATA, "NODE_SEA_BLOB"). postject adds
// that resource with LIEF, which rebuilds the resource tree into a new last section named .rsrc,
// holding the whole binary in wasm memory for it (tens of seconds on a busy machine). This does
// the same edit with an append and a few header writes: the base's resources, copied, plus the
// blob go into a new section after the last one; the resource data directory points at it; the
// old resource section stays mapped, unused and renamed .oldrsrc (so one section is named
// .rsrc, as in postject's output); the Authenticode signature, which any edit invalidates, is
// dropped (sign the built binary afterwards, as with postject); the checksum is recomputed.
//
// Returns false, having changed nothing, when the layout is not the expected one (not PE32+, no
// room for one more section header, data after the last section other than the signature, a
// resource tree it cannot read): the caller then falls back to postject.
import fs from 'node:fs';
import { RedoxError } from '../../errors';
import {
  dataDirectory, DIR_RESOURCE, DIR_SECURITY, fileOffset, peHeaders, PeFormatError, ReadAt, resourceTree,
  ResourceDir, ResourceEntry, RT_RCDATA, SECTION_HEADER,
} from './pe';
import { readAt } from './file-bytes';
import { blowFuse, findFuse } from './sea-fuse';

const BLOB_NAME = 'NODE_SEA_BLOB';
/** IMAGE_SCN_CNT_INITIALIZED_DATA | IMAGE_SCN_MEM_READ, as a linker marks .rsrc. */
const RESOURCE_SECTION_FLAGS = 0x40000040;

const align = (n: number, a: number) => Math.ceil(n / a) * a;

/** Injects `blob` into the PE binary `file` in place and blows the SEA fuse. */
export function injectPe(file: string, blob: Buffer, fuse: string): boolean {
  const fd = fs.openSync(file, 'r+');
  try {
    return injectInto(fd, blob, fuse);
  } catch (err) {
    // A layout these readers do not follow: the build uses postject instead.
    if (err instanceof PeFormatError) return false;
    throw err;
  } finally {
    fs.closeSync(fd);
  }
}

function injectInto(fd: number, blob: Buffer, fuse: string): boolean {
  const size = fs.fstatSync(fd).size;
  const read: ReadAt = (p, l) => readAt(fd, p, l);
  const h = peHeaders(read);
  const { pe, coff, optAt, opt, tableAt, sections } = h;
  const count = sections.length;
  // PE32+ with the data directories up to the certificate table.
  if (opt.readUInt16LE(0) !== 0x20b || opt.length < 112 || opt.readUInt32LE(108) <= DIR_SECURITY) return false;
  const sectionAlign = opt.readUInt32LE(32);
  const fileAlign = opt.readUInt32LE(36);
  const headersSize = opt.readUInt32LE(60);

  // Room for one more section header, still zero, before the first section's bytes.
  const firstRaw = Math.min(headersSize, ...sections.filter((s) => s.rawSize > 0).map((s) => s.raw));
  if (tableAt + (count + 1) * SECTION_HEADER > firstRaw) return false;
  if (read(tableAt + count * SECTION_HEADER, SECTION_HEADER).some((b) => b !== 0)) return false;

  // After the last section's bytes there may be only the signature (dropped) or nothing.
  const rawEnd = Math.max(...sections.map((s) => s.raw + s.rawSize));
  const cert = dataDirectory(h, DIR_SECURITY); // its "rva" is a file offset
  if (size > rawEnd) {
    if (!cert.size || cert.rva < rawEnd || cert.rva + cert.size !== size) return false;
    if (read(rawEnd, cert.rva - rawEnd).some((b) => b !== 0)) return false;
  }

  const at = findFuse(fd, size, fuse);

  const res = dataDirectory(h, DIR_RESOURCE);
  const root = resourceTree(read, h) ?? { head: Buffer.alloc(12), entries: [] };
  const oldSection = res.rva ? sections.find((s) => res.rva >= s.va && res.rva < s.va + s.vsize) : undefined;
  addBlob(root, blob);

  const newVa = align(Math.max(...sections.map((s) => s.va + Math.max(s.vsize, 1))), sectionAlign);
  const newRaw = align(rawEnd, fileAlign);
  const tree = writeTree(root, newVa, (d) => read(fileOffset(h, d.rva, d.size), d.size));
  const rawSize = align(tree.length, fileAlign);

  // The section's bytes first (the signature cut off), headers last: a failure part-way leaves
  // headers that describe the base as it was.
  fs.ftruncateSync(fd, rawEnd);
  const body = Buffer.alloc(newRaw - rawEnd + rawSize);
  tree.copy(body, newRaw - rawEnd);
  fs.writeSync(fd, body, 0, body.length, rawEnd);

  const header = Buffer.alloc(SECTION_HEADER);
  header.write('.rsrc', 0, 'latin1');
  header.writeUInt32LE(tree.length, 8);
  header.writeUInt32LE(newVa, 12);
  header.writeUInt32LE(rawSize, 16);
  header.writeUInt32LE(newRaw, 20);
  header.writeUInt32LE(RESOURCE_SECTION_FLAGS, 36);
  fs.writeSync(fd, header, 0, SECTION_HEADER, tableAt + count * SECTION_HEADER);
  if (oldSection?.name === '.rsrc') {
    fs.writeSync(fd, Buffer.from('.oldrsrc', 'latin1'), 0, 8, tableAt + sections.indexOf(oldSection) * SECTION_HEADER);
  }
  coff.writeUInt16LE(count + 1, 6);
  fs.writeSync(fd, coff, 0, 24, pe);
  opt.writeUInt32LE(opt.readUInt32LE(8) + rawSize, 8); // SizeOfInitializedData
  opt.writeUInt32LE(align(newVa + tree.length, sectionAlign), 56); // SizeOfImage
  opt.writeUInt32LE(0, 64); // CheckSum: computed below over the finished file
  opt.writeUInt32LE(newVa, res.at);
  opt.writeUInt32LE(tree.length, res.at + 4);
  opt.writeUInt32LE(0, cert.at);
  opt.writeUInt32LE(0, cert.at + 4);
  fs.writeSync(fd, opt, 0, opt.length, optAt);
  blowFuse(fd, at, fuse);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32LE(peChecksum(fd));
  fs.writeSync(fd, checksum, 0, 4, optAt + 64);
  return true;
}

/** Adds RT_RCDATA / NODE_SEA_BLOB / language 0 (what postject writes). */
function addBlob(root: ResourceDir, blob: Buffer): void {
  let rcdata = root.entries.find((e) => e.id === RT_RCDATA)?.dir;
  if (!rcdata) {
    rcdata = { head: Buffer.alloc(12), entries: [] };
    root.entries.push({ id: RT_RCDATA, dir: rcdata });
  }
  if (rcdata.entries.some((e) => typeof e.id === 'string' && e.id.toUpperCase() === BLOB_NAME)) {
    throw new RedoxError('REDOX_BUILD_INJECT', `the base binary already has a ${BLOB_NAME} resource`, 'use a plain official Node binary as the base');
  }
  rcdata.entries.push({ id: BLOB_NAME, dir: { head: Buffer.alloc(12), entries: [{ id: 0, data: { rva: 0, size: blob.length, codePage: 0, bytes: blob } }] } });
}

/** Entries in the order the loader's binary search expects: names (by upper case) before ids. */
function sorted(entries: ResourceEntry[]): ResourceEntry[] {
  const names = entries.filter((e) => typeof e.id === 'string').sort((a, b) => {
    const x = (a.id as string).toUpperCase();
    const y = (b.id as string).toUpperCase();
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const ids = entries.filter((e) => typeof e.id === 'number').sort((a, b) => (a.id as number) - (b.id as number));
  return [...names, ...ids];
}

type Data = NonNullable<ResourceEntry['data']>;

/** The tree as a resource section placed at `rva`: directories, data entries, names, then the
 *  data itself (16-byte aligned), each data entry's bytes from `bytesOf` unless it holds them. */
function writeTree(root: ResourceDir, rva: number, bytesOf: (d: Data) => Buffer): Buffer {
  const dirs: ResourceDir[] = [];
  const leaves: ResourceEntry[] = [];
  const names = new Map<string, number>();
  for (let i = 0, queue = [root]; i < queue.length; i++) {
    const d = queue[i];
    d.entries = sorted(d.entries);
    dirs.push(d);
    for (const e of d.entries) {
      if (e.dir) queue.push(e.dir);
      else leaves.push(e);
      if (typeof e.id === 'string') names.set(e.id, 0);
    }
  }
  let pos = 0;
  const dirAt = new Map<ResourceDir, number>();
  for (const d of dirs) {
    dirAt.set(d, pos);
    pos += 16 + 8 * d.entries.length;
  }
  const leafAt = new Map<ResourceEntry, number>();
  for (const e of leaves) {
    leafAt.set(e, pos);
    pos += 16;
  }
  for (const name of names.keys()) {
    names.set(name, pos);
    pos += 2 + 2 * name.length;
  }
  const dataAt = new Map<ResourceEntry, number>();
  for (const e of leaves) {
    pos = align(pos, 16);
    dataAt.set(e, pos);
    pos += e.data!.size;
  }

  const out = Buffer.alloc(pos);
  for (const d of dirs) {
    const at = dirAt.get(d)!;
    d.head.copy(out, at, 0, 12);
    out.writeUInt16LE(d.entries.filter((e) => typeof e.id === 'string').length, at + 12);
    out.writeUInt16LE(d.entries.filter((e) => typeof e.id === 'number').length, at + 14);
    d.entries.forEach((e, i) => {
      const entry = at + 16 + 8 * i;
      out.writeUInt32LE(typeof e.id === 'string' ? (0x80000000 | names.get(e.id)!) >>> 0 : e.id, entry);
      out.writeUInt32LE(e.dir ? (0x80000000 | dirAt.get(e.dir)!) >>> 0 : leafAt.get(e)!, entry + 4);
    });
  }
  for (const e of leaves) {
    const at = leafAt.get(e)!;
    out.writeUInt32LE(rva + dataAt.get(e)!, at);
    const data = e.data!;
    out.writeUInt32LE(data.size, at + 4);
    out.writeUInt32LE(data.codePage, at + 8);
    (data.bytes ?? bytesOf(data)).copy(out, dataAt.get(e)!);
  }
  for (const [name, at] of names) {
    out.writeUInt16LE(name.length, at);
    out.write(name, at + 2, 'utf16le');
  }
  return out;
}

/** The PE checksum (what imagehlp's CheckSumMappedFile computes), the field itself read as
 *  zero: 16-bit words added with end-around carry, plus the file's length. Summed in 32-bit
 *  words per chunk, which folds to the same value. */
function peChecksum(fd: number): number {
  const size = fs.fstatSync(fd).size;
  const chunk = Buffer.alloc(4 << 20);
  let sum = 0;
  for (let pos = 0; pos < size; pos += chunk.length) {
    const n = fs.readSync(fd, chunk, 0, chunk.length, pos);
    const words = new Uint32Array(chunk.buffer, chunk.byteOffset, n >>> 2);
    let part = 0;
    for (let i = 0; i < words.length; i++) part += words[i];
    for (let i = n & ~3; i < n; i += 2) part += i + 1 < n ? chunk.readUInt16LE(i) : chunk[i];
    sum += part;
    while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  }
  return (sum + size) >>> 0;
}
