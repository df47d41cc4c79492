// Precompiled host chunks. Every VM boots ~45 KB of core and feature Lua. Parsing it costs a
// few milliseconds, and it runs the Lua parser's wasm functions often enough that V8 spends about
// 100 ms of CPU optimising them in the background, which a short-lived process (a CLI command, a
// worker, a VM rebooted after a forced stop) never gets back. A ChunkStore holds the bytecode of
// those chunks (string.dump with debug info, so error positions and tracebacks are unchanged),
// keyed by chunk name and source text: a changed source simply misses and is parsed as text.
// Only host chunks go through it; app code is always loaded as text.
import crypto from 'node:crypto';

/** The layout of an encoded store. (The bytecode's own guard is the wasm's sha256.) */
const FORMAT = 1;

interface EncodedChunk {
  name: string;
  bytecode: string;
  sha256: string;
}

const digest = (bytes: Uint8Array) => crypto.createHash('sha256').update(bytes).digest('hex');

interface StoredChunk {
  name: string;
  bytes: Uint8Array;
}

export interface ChunkStoreOptions {
  /** Chunks parsed from text are added (a store that is kept: the build's, the CLI's cache). */
  record?: boolean;
  /** Called by flush() when chunks were added (the development CLI writes its cache file). */
  persist?: (store: ChunkStore) => void;
}

export class ChunkStore {
  private readonly chunks = new Map<string, StoredChunk>();
  private added = 0;
  /** Chunks loaded from bytecode, and chunks that had to be parsed (for tests and reports). */
  readonly stats = { hits: 0, misses: 0 };
  readonly recording: boolean;

  /** `wasm`: the sha256 of the Lua wasm the bytecode was made with. */
  constructor(readonly wasm: string, private readonly options: ChunkStoreOptions = {}) {
    this.recording = options.record === true;
  }

  static key(name: string, source: string | Uint8Array): string {
    return crypto.createHash('sha256').update(name).update('\0').update(source).digest('hex').slice(0, 40);
  }

  get(name: string, source: string | Uint8Array): Uint8Array | undefined {
    const key = ChunkStore.key(name, source);
    const found = this.chunks.get(key);
    if (!found) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    // Most recently used last: trim() drops from the front.
    this.chunks.delete(key);
    this.chunks.set(key, found);
    return found.bytes;
  }

  add(name: string, source: string | Uint8Array, bytes: Uint8Array): void {
    this.chunks.set(ChunkStore.key(name, source), { name, bytes });
    this.added++;
  }

  get size(): number {
    return this.chunks.size;
  }

  /** Hands chunks added since the last flush to `persist`. */
  flush(): void {
    if (this.added === 0 || !this.options.persist) return;
    this.added = 0;
    this.options.persist(this);
  }

  /** Keeps at most `max` chunks, those used or added last (a development cache outlives
   *  edits to the sources it was made from). */
  trim(max: number): void {
    const extra = this.chunks.size - max;
    if (extra <= 0) return;
    let i = 0;
    for (const key of this.chunks.keys()) {
      if (i++ >= extra) break;
      this.chunks.delete(key);
    }
  }

  encode(): Buffer {
    const chunks: Record<string, EncodedChunk> = {};
    for (const [key, c] of this.chunks) chunks[key] = { name: c.name, bytecode: Buffer.from(c.bytes).toString('base64'), sha256: digest(c.bytes) };
    return Buffer.from(JSON.stringify({ format: FORMAT, wasm: this.wasm, chunks }));
  }

  /** The store in `data`, or an empty one when data is unreadable or made for another wasm. */
  static decode(data: Buffer | undefined, wasm: string, options: ChunkStoreOptions = {}): ChunkStore {
    const store = new ChunkStore(wasm, options);
    if (!data) return store;
    try {
      const parsed = JSON.parse(data.toString('utf8')) as { format?: number; wasm?: string; chunks?: Record<string, EncodedChunk> };
      if (parsed.format !== FORMAT || parsed.wasm !== wasm || typeof parsed.chunks !== 'object' || parsed.chunks === null) return store;
      for (const [key, c] of Object.entries(parsed.chunks)) {
        if (typeof c?.name !== 'string' || typeof c.bytecode !== 'string') continue;
        const bytes = Buffer.from(c.bytecode, 'base64');
        // Lua does not verify bytecode: a damaged entry is dropped, never loaded.
        if (c.sha256 === digest(bytes)) store.chunks.set(key, { name: c.name, bytes });
      }
    } catch {
      // A torn or foreign file: boot from text, and the next flush rewrites it.
    }
    return store;
  }
}
