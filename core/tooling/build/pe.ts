// Reading a Windows PE file's resource table, enough to find the SEA blob postject injected
// (an RCDATA resource named NODE_SEA_BLOB). Used to check a win-x64 binary that cannot run here.

export interface PeResource {
  type: number | string;
  name: number | string;
  lang: number | string;
  /** The resource's bytes within the file. */
  offset: number;
  size: number;
}

interface Section { rva: number; vsize: number; raw: number; rawSize: number }

function fail(why: string): never {
  throw new Error(`not a PE file: ${why}`);
}

/** Every resource of a PE32+ (64-bit) or PE32 file, walked type -> name -> language. */
export function peResources(file: Buffer): PeResource[] {
  if (file.length < 0x40 || file.toString('latin1', 0, 2) !== 'MZ') fail('no MZ header');
  const pe = file.readUInt32LE(0x3c);
  if (pe + 24 > file.length || file.readUInt32LE(pe) !== 0x00004550) fail('no PE signature');
  const sections = file.readUInt16LE(pe + 6);
  const optSize = file.readUInt16LE(pe + 20);
  const opt = pe + 24;
  const magic = file.readUInt16LE(opt);
  const dirs = magic === 0x20b ? opt + 112 : magic === 0x10b ? opt + 96 : fail(`unknown optional header magic 0x${magic.toString(16)}`);
  const resRva = file.readUInt32LE(dirs + 2 * 8);
  if (!resRva) return [];
  const table: Section[] = [];
  for (let i = 0, s = opt + optSize; i < sections; i++, s += 40) {
    table.push({ vsize: file.readUInt32LE(s + 8), rva: file.readUInt32LE(s + 12), rawSize: file.readUInt32LE(s + 16), raw: file.readUInt32LE(s + 20) });
  }
  const toOffset = (rva: number) => {
    const s = table.find((x) => rva >= x.rva && rva < x.rva + Math.max(x.vsize, x.rawSize));
    if (!s) fail(`RVA 0x${rva.toString(16)} is in no section`);
    return rva - s.rva + s.raw;
  };
  const base = toOffset(resRva);
  const label = (v: number): number | string => {
    if (!(v & 0x80000000)) return v;
    const at = base + (v & 0x7fffffff);
    return file.toString('utf16le', at + 2, at + 2 + 2 * file.readUInt16LE(at));
  };
  const entries = (dir: number) => {
    const count = file.readUInt16LE(dir + 12) + file.readUInt16LE(dir + 14);
    const out: { id: number | string; target: number; isDir: boolean }[] = [];
    for (let i = 0; i < count; i++) {
      const e = dir + 16 + i * 8;
      const off = file.readUInt32LE(e + 4);
      out.push({ id: label(file.readUInt32LE(e)), target: base + (off & 0x7fffffff), isDir: Boolean(off & 0x80000000) });
    }
    return out;
  };
  const found: PeResource[] = [];
  for (const type of entries(base)) {
    if (!type.isDir) continue;
    for (const name of entries(type.target)) {
      if (!name.isDir) continue;
      for (const lang of entries(name.target)) {
        if (lang.isDir) continue;
        found.push({ type: type.id, name: name.id, lang: lang.id, offset: toOffset(file.readUInt32LE(lang.target)), size: file.readUInt32LE(lang.target + 4) });
      }
    }
  }
  return found;
}

export const RT_RCDATA = 10;

/** The bytes of the SEA blob resource, or null when the file has none. */
export function seaBlobResource(file: Buffer): Buffer | null {
  const r = peResources(file).find((x) => x.type === RT_RCDATA && x.name === 'NODE_SEA_BLOB');
  return r ? file.subarray(r.offset, r.offset + r.size) : null;
}
