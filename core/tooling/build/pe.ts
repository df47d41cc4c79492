// Reading a Windows PE file: headers, sections, data directories and the resource tree. One
// reader for both the injector (pe-inject.ts) and the check of a win-x64 binary that cannot run
// here (the SEA blob is an RCDATA resource named NODE_SEA_BLOB). It reads through a function, so
// a ~100 MB executable on disk is read only where the headers point.
import fs from 'node:fs';
import { readAt } from './file-bytes';

/** Reads `length` bytes at file offset `position` (fewer at the end of the file). */
export type ReadAt = (position: number, length: number) => Buffer;

/** Not a PE file, or one laid out in a way these readers do not follow. */
export class PeFormatError extends Error {
  constructor(why: string) {
    super(`not a PE file: ${why}`);
  }
}

export interface PeSection { name: string; vsize: number; va: number; rawSize: number; raw: number }

export interface PeHeaders {
  /** File offset of the COFF header ("PE\0\0"), and its 24 bytes. */
  pe: number;
  coff: Buffer;
  /** File offset of the optional header, and its bytes. */
  optAt: number;
  opt: Buffer;
  /** File offset of the section table. */
  tableAt: number;
  sections: PeSection[];
}

export const SECTION_HEADER = 40;
export const RT_RCDATA = 10;
export const DIR_RESOURCE = 2;
/** The certificate table: its "rva" is a file offset. */
export const DIR_SECURITY = 4;

export function peHeaders(read: ReadAt): PeHeaders {
  const dos = read(0, 0x40);
  if (dos.length < 0x40 || dos.toString('latin1', 0, 2) !== 'MZ') throw new PeFormatError('no MZ header');
  const pe = dos.readUInt32LE(0x3c);
  const coff = read(pe, 24);
  if (coff.length < 24 || coff.readUInt32LE(0) !== 0x00004550) throw new PeFormatError('no PE signature');
  const optAt = pe + 24;
  const optSize = coff.readUInt16LE(20);
  const opt = read(optAt, optSize);
  const magic = opt.length >= 2 ? opt.readUInt16LE(0) : 0;
  if (opt.length < optSize || (magic !== 0x20b && magic !== 0x10b)) throw new PeFormatError(`unknown optional header magic 0x${magic.toString(16)}`);
  const tableAt = optAt + optSize;
  const count = coff.readUInt16LE(6);
  const table = read(tableAt, count * SECTION_HEADER);
  if (table.length < count * SECTION_HEADER) throw new PeFormatError('the section table runs past the end of the file');
  const sections = Array.from({ length: count }, (_, i) => {
    const s = i * SECTION_HEADER;
    return { name: table.toString('latin1', s, s + 8).replace(/\0+$/, ''), vsize: table.readUInt32LE(s + 8), va: table.readUInt32LE(s + 12), rawSize: table.readUInt32LE(s + 16), raw: table.readUInt32LE(s + 20) };
  });
  return { pe, coff, optAt, opt, tableAt, sections };
}

/** Data directory `i` and where it sits in the optional header; rva 0 when absent. */
export function dataDirectory(h: PeHeaders, i: number): { at: number; rva: number; size: number } {
  const first = h.opt.readUInt16LE(0) === 0x20b ? 112 : 96;
  const at = first + 8 * i;
  if (at + 8 > h.opt.length || i >= h.opt.readUInt32LE(first - 4)) return { at, rva: 0, size: 0 };
  return { at, rva: h.opt.readUInt32LE(at), size: h.opt.readUInt32LE(at + 4) };
}

/** The file offset of `length` bytes at `rva`, which must lie in one section's file bytes. */
export function fileOffset(h: PeHeaders, rva: number, length: number): number {
  const s = h.sections.find((x) => rva >= x.va && rva + length <= x.va + Math.max(x.vsize, x.rawSize));
  if (!s || rva - s.va + length > s.rawSize) throw new PeFormatError(`RVA 0x${rva.toString(16)} is in no section's file bytes`);
  return s.raw + rva - s.va;
}

export interface ResourceDir {
  /** Characteristics, time stamp and version: the directory's first 12 bytes. */
  head: Buffer;
  entries: ResourceEntry[];
}

export interface ResourceEntry {
  id: number | string;
  dir?: ResourceDir;
  /** A data entry: where its bytes are in the image, or (added by the injector) the bytes. */
  data?: { rva: number; size: number; codePage: number; bytes?: Buffer };
}

/** The resource tree (directories, named and numbered entries, data entries), or null. */
export function resourceTree(read: ReadAt, h: PeHeaders): ResourceDir | null {
  const { rva } = dataDirectory(h, DIR_RESOURCE);
  if (!rva) return null;
  const s = h.sections.find((x) => rva >= x.va && rva < x.va + x.vsize);
  if (!s) throw new PeFormatError('the resource directory is in no section');
  const area = read(fileOffset(h, rva, 0), s.va + Math.min(s.vsize, s.rawSize) - rva);
  const u32 = (at: number) => {
    if (at + 4 > area.length) throw new PeFormatError('the resource tree runs past its section');
    return area.readUInt32LE(at);
  };
  const seen = new Set<number>();
  const readDir = (at: number, depth: number): ResourceDir => {
    if (depth > 4 || seen.has(at) || at + 16 > area.length) throw new PeFormatError('malformed resource directory');
    seen.add(at);
    const n = area.readUInt16LE(at + 12) + area.readUInt16LE(at + 14);
    const entries: ResourceEntry[] = [];
    for (let i = 0; i < n; i++) {
      const label = u32(at + 16 + i * 8);
      const target = u32(at + 20 + i * 8);
      let id: number | string = label;
      if (label & 0x80000000) {
        const s = label & 0x7fffffff;
        const len = s + 2 <= area.length ? area.readUInt16LE(s) : Infinity;
        if (s + 2 + 2 * len > area.length) throw new PeFormatError('a resource name runs past its section');
        id = area.toString('utf16le', s + 2, s + 2 + 2 * len);
      }
      if (target & 0x80000000) entries.push({ id, dir: readDir(target & 0x7fffffff, depth + 1) });
      else entries.push({ id, data: { rva: u32(target), size: u32(target + 4), codePage: u32(target + 8) } });
    }
    return { head: Buffer.from(area.subarray(at, at + 12)), entries };
  };
  return readDir(0, 0);
}

export interface PeResource {
  type: number | string;
  name: number | string;
  lang: number | string;
  /** The resource's bytes within the file. */
  offset: number;
  size: number;
}

/** Calls `use` with a reader over a file on disk or a buffer already read. */
function withReader<T>(source: Buffer | string, use: (read: ReadAt) => T): T {
  if (typeof source !== 'string') return use((p, l) => source.subarray(p, p + l));
  const fd = fs.openSync(source, 'r');
  try {
    return use((p, l) => readAt(fd, p, l));
  } finally {
    fs.closeSync(fd);
  }
}

function listResources(read: ReadAt): PeResource[] {
  const h = peHeaders(read);
  const found: PeResource[] = [];
  for (const type of resourceTree(read, h)?.entries ?? []) {
    for (const name of type.dir?.entries ?? []) {
      for (const lang of name.dir?.entries ?? []) {
        if (lang.data) found.push({ type: type.id, name: name.id, lang: lang.id, offset: fileOffset(h, lang.data.rva, lang.data.size), size: lang.data.size });
      }
    }
  }
  return found;
}

/** Every resource of a PE32+ (64-bit) or PE32 file, walked type -> name -> language. */
export function peResources(source: Buffer | string): PeResource[] {
  return withReader(source, listResources);
}

/** The bytes of the SEA blob resource, or null when the file has none. */
export function seaBlobResource(source: Buffer | string): Buffer | null {
  return withReader(source, (read) => {
    const r = listResources(read).find((x) => x.type === RT_RCDATA && x.name === 'NODE_SEA_BLOB');
    return r ? read(r.offset, r.size) : null;
  });
}
