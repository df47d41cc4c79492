// The development CLI's precompiled core and feature chunks (core/lua/chunks.ts), kept in the
// build cache so `redox run`, `serve`, `dev` and `test` boot their VMs without parsing them. The
// first process after a change parses and records; the ones after it load bytecode. Turned off
// with the compile cache (REDOX_COMPILE_CACHE=0). A cache that cannot be read or written costs
// only the parsing.
import fs from 'node:fs';
import path from 'node:path';
import { ChunkStore } from '../../lua/chunks';
import { buildCacheDir, cachesEnabled } from '../cache-dir';
import { luaWasmSha256 } from '../catalogue/packages';
import { writeAtomic } from '../write-atomic';

// Chunks kept: several checkouts or versions of Redox may share the cache.
const MAX_CHUNKS = 300;

let store: ChunkStore | undefined;

/** This process's store: one per process, shared by all its VMs. */
export function devChunkStore(): ChunkStore | undefined {
  if (!cachesEnabled()) return undefined;
  if (store) return store;
  const wasm = luaWasmSha256();
  const file = path.join(buildCacheDir(), 'lua-chunks', `${wasm.slice(0, 16)}.json`);
  let data: Buffer | undefined;
  try {
    data = fs.readFileSync(file);
  } catch {
    // first use
  }
  store = ChunkStore.decode(data, wasm, {
    record: true,
    persist: (changed) => {
      try {
        changed.trim(MAX_CHUNKS);
        writeAtomic(file, changed.encode(), { mkdir: true });
      } catch {
        // read-only or full disk: parse every time
      }
    },
  });
  return store;
}
