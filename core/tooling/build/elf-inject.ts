// Injecting the SEA blob into a Linux (ELF64, little-endian) Node binary without postject.
//
// Node finds the blob the way postject's header does: it walks the program headers of the
// running executable (dl_iterate_phdr) and looks for a PT_NOTE whose note is named
// NODE_SEA_BLOB. So the blob becomes one note in a new read-only PT_LOAD appended at the end of
// the file, and the program header table (two entries longer) moves into the zero padding
// that ends the segment which already holds it. That segment keeps its offset-to-address
// relation, so every kernel computes the table's address the same way (kernels before 5.18 use
// the first segment's bias and e_phoff). postject loads the whole binary into LIEF in wasm for
// the same edit: several seconds and about 1 GB of memory per build; this is a few header writes
// and one append.
//
// Returns false, having changed nothing, when the binary's layout is not the expected one (no
// padding large enough, unusual segments): the caller then falls back to postject.
import fs from 'node:fs';
import { readAt } from './file-bytes';
import { blowFuse, findFuse } from './sea-fuse';

const PT_LOAD = 1;
const PT_NOTE = 4;
const PT_PHDR = 6;
const PF_R = 4;
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const NOTE_NAME = 'NODE_SEA_BLOB';

interface Phdr { type: number; flags: number; offset: number; vaddr: number; paddr: number; filesz: number; memsz: number; align: number }

const align = (n: number, a: number) => Math.ceil(n / a) * a;

function readPhdr(b: Buffer, at: number): Phdr {
  const u64 = (o: number) => Number(b.readBigUInt64LE(at + o));
  return { type: b.readUInt32LE(at), flags: b.readUInt32LE(at + 4), offset: u64(8), vaddr: u64(16), paddr: u64(24), filesz: u64(32), memsz: u64(40), align: u64(48) };
}

function writePhdr(b: Buffer, at: number, p: Phdr): void {
  b.writeUInt32LE(p.type, at);
  b.writeUInt32LE(p.flags, at + 4);
  const u64 = (o: number, v: number) => b.writeBigUInt64LE(BigInt(v), at + o);
  u64(8, p.offset); u64(16, p.vaddr); u64(24, p.paddr); u64(32, p.filesz); u64(40, p.memsz); u64(48, p.align);
}

/** The note record: header (namesz, descsz, type), name padded to 4, blob padded to 4. */
function noteRecord(blob: Buffer): Buffer {
  const name = Buffer.from(NOTE_NAME + '\0');
  const nameLen = align(name.length, 4);
  const out = Buffer.alloc(12 + nameLen + align(blob.length, 4));
  out.writeUInt32LE(name.length, 0);
  out.writeUInt32LE(blob.length, 4);
  out.writeUInt32LE(0, 8);
  name.copy(out, 12);
  blob.copy(out, 12 + nameLen);
  return out;
}

/** Whether `file` looks like a binary this module can edit: ELF64, little-endian, an executable
 *  or position-independent executable with a program header table. */
export function isElf64LE(head: Buffer): boolean {
  return head.length >= EHDR_SIZE && head.readUInt32BE(0) === 0x7f454c46 && head[4] === 2 && head[5] === 1
    && (head.readUInt16LE(16) === 2 || head.readUInt16LE(16) === 3) && head.readUInt16LE(54) === PHDR_SIZE;
}

/** Injects `blob` into the ELF binary `file` in place and blows the SEA fuse. */
export function injectElf(file: string, blob: Buffer, fuse: string): boolean {
  const fd = fs.openSync(file, 'r+');
  try {
    return injectInto(fd, blob, fuse);
  } finally {
    fs.closeSync(fd);
  }
}

function injectInto(fd: number, blob: Buffer, fuse: string): boolean {
  const size = fs.fstatSync(fd).size;
  const ehdr = readAt(fd, 0, EHDR_SIZE);
  if (!isElf64LE(ehdr)) return false;
  const phoff = Number(ehdr.readBigUInt64LE(32));
  const shoff = Number(ehdr.readBigUInt64LE(40));
  const phnum = ehdr.readUInt16LE(56);
  const shentsize = ehdr.readUInt16LE(58);
  const shnum = ehdr.readUInt16LE(60);
  const table0 = readAt(fd, phoff, phnum * PHDR_SIZE);
  if (table0.length < phnum * PHDR_SIZE) return false;
  const phdrs = Array.from({ length: phnum }, (_, i) => readPhdr(table0, i * PHDR_SIZE));
  const loads = phdrs.filter((p) => p.type === PT_LOAD);
  const at = findFuse(fd, size, fuse);
  if (loads.length === 0 || phdrs.some((p) => p.type === PT_NOTE && blobNote(readAt(fd, p.offset, p.filesz)) !== null)) return false;

  // Room for the longer table in the padding after the segment that holds the table now.
  const holder = loads.find((p) => p.offset <= phoff && phoff + phnum * PHDR_SIZE <= p.offset + p.filesz);
  if (!holder || holder.filesz !== holder.memsz) return false;
  // Kernels before 5.18 place the table at the first segment's bias + e_phoff: the holder must
  // map the file with that same bias.
  const first = loads.reduce((a, b) => (b.offset < a.offset ? b : a));
  if (holder.vaddr - holder.offset !== first.vaddr - first.offset) return false;
  const tableAt = align(holder.offset + holder.filesz, 8);
  const count = phnum + 2;
  const tableEnd = tableAt + count * PHDR_SIZE;
  const nextOffset = Math.min(...loads.filter((p) => p.offset > holder.offset).map((p) => p.offset), size);
  const nextVaddr = Math.min(...loads.filter((p) => p.vaddr > holder.vaddr).map((p) => p.vaddr), Number.MAX_SAFE_INTEGER);
  if (tableEnd > nextOffset || holder.vaddr + (tableEnd - holder.offset) > nextVaddr) return false;
  if (readAt(fd, tableAt, tableEnd - tableAt).some((byte) => byte !== 0)) return false;
  const sections = shnum > 0 ? readAt(fd, shoff, shnum * shentsize) : Buffer.alloc(0);
  if (sections.length < shnum * shentsize) return false;
  for (let i = 0; i < shnum; i++) {
    const s = i * shentsize;
    const type = sections.readUInt32LE(s + 4);
    const off = Number(sections.readBigUInt64LE(s + 24));
    const len = Number(sections.readBigUInt64LE(s + 32));
    if (type !== 8 /* SHT_NOBITS */ && len > 0 && off < tableEnd && off + len > tableAt) return false;
  }

  // The new segment: page-aligned after the file's end and after every segment's memory.
  const pageAlign = Math.max(0x10000, ...loads.map((p) => p.align));
  const note = noteRecord(blob);
  const loadOffset = align(size, pageAlign);
  const loadVaddr = align(Math.max(...loads.map((p) => p.vaddr + p.memsz)), pageAlign);
  const newLoad: Phdr = { type: PT_LOAD, flags: PF_R, offset: loadOffset, vaddr: loadVaddr, paddr: loadVaddr, filesz: note.length, memsz: note.length, align: pageAlign };
  const newNote: Phdr = { type: PT_NOTE, flags: PF_R, offset: loadOffset, vaddr: loadVaddr, paddr: loadVaddr, filesz: note.length, memsz: note.length, align: 4 };

  // The table: the old entries with the holder extended over the table and PT_PHDR moved to it;
  // the new PT_LOAD right after the last PT_LOAD (loads stay in address order), the note last.
  const grown = tableEnd - holder.offset;
  const table: Phdr[] = [];
  const lastLoad = phdrs.lastIndexOf(loads[loads.length - 1]);
  phdrs.forEach((p, i) => {
    if (p === holder) table.push({ ...p, filesz: grown, memsz: grown });
    else if (p.type === PT_PHDR) table.push({ ...p, offset: tableAt, vaddr: holder.vaddr + tableAt - holder.offset, paddr: holder.paddr + tableAt - holder.offset, filesz: count * PHDR_SIZE, memsz: count * PHDR_SIZE });
    else table.push(p);
    if (i === lastLoad) table.push(newLoad);
  });
  table.push(newNote);

  const tableBytes = Buffer.alloc(tableEnd - tableAt);
  table.forEach((p, i) => writePhdr(tableBytes, i * PHDR_SIZE, p));
  ehdr.writeBigUInt64LE(BigInt(tableAt), 32);
  ehdr.writeUInt16LE(count, 56);
  // Appended first, headers last: a failure part-way leaves no half-edited table.
  fs.writeSync(fd, Buffer.alloc(loadOffset - size), 0, loadOffset - size, size);
  fs.writeSync(fd, note, 0, note.length, loadOffset);
  fs.writeSync(fd, tableBytes, 0, tableBytes.length, tableAt);
  blowFuse(fd, at, fuse);
  fs.writeSync(fd, ehdr, 0, EHDR_SIZE, 0);
  return true;
}

/** The NODE_SEA_BLOB note's contents among the notes in `notes` (a PT_NOTE segment's bytes). */
function blobNote(notes: Buffer): Buffer | null {
  for (let pos = 0; pos + 12 <= notes.length;) {
    const namesz = notes.readUInt32LE(pos);
    const descsz = notes.readUInt32LE(pos + 4);
    const body = pos + 12 + align(namesz, 4);
    if (notes.toString('latin1', pos + 12, pos + 12 + namesz).replace(/\0$/, '') === NOTE_NAME) return notes.subarray(body, body + descsz);
    pos = body + align(descsz, 4);
  }
  return null;
}

/** The blob injected into an ELF binary, or null: for checks and tests. */
export function readElfBlob(file: string): Buffer | null {
  const fd = fs.openSync(file, 'r');
  try {
    const ehdr = readAt(fd, 0, EHDR_SIZE);
    if (!isElf64LE(ehdr)) return null;
    const table = readAt(fd, Number(ehdr.readBigUInt64LE(32)), ehdr.readUInt16LE(56) * PHDR_SIZE);
    for (let i = 0; i + PHDR_SIZE <= table.length; i += PHDR_SIZE) {
      const p = readPhdr(table, i);
      const found = p.type === PT_NOTE ? blobNote(readAt(fd, p.offset, p.filesz)) : null;
      if (found) return found;
    }
    return null;
  } finally {
    fs.closeSync(fd);
  }
}
