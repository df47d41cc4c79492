// One cache: a Map in insertion order with second-chance LRU (a read only marks the entry;
// eviction gives marked entries one more trip to the end), byte and entry limits, lazy TTL
// expiry. Reads never reshape the Map: at a million entries, delete + set per read made V8
// rehash the whole table every few hundred thousand reads.
import { Entry } from './values';

export interface Limits {
  maxEntries: number;
  maxBytes: number;
}

export class CacheStore {
  private readonly map = new Map<string, Entry>();
  // Eviction and sweeping keep their iterators between calls. A fresh map.keys() must step over
  // every hole that deletes left at the front of V8's table, which made eviction cost ~25 us at
  // 100k entries; a kept iterator steps over each hole once (~1 us).
  private evictCursor: Iterator<string> | undefined;
  private sweepCursor: Iterator<[string, Entry]> | undefined;
  bytes = 0;
  /** Entries that have an expiry: the sweep skips caches that have none. */
  withTtl = 0;
  hits = 0;
  misses = 0;
  evictions = 0;
  expired = 0;

  constructor(readonly limits: Limits, readonly name?: string) {}

  get entries(): number {
    return this.map.size;
  }

  /** The live entry under key, without counting or reordering; drops it when expired. */
  peek(key: string): Entry | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (e.expires !== 0 && e.expires <= performance.now()) {
      this.remove(key, e);
      this.expired++;
      return undefined;
    }
    return e;
  }

  /** A read: counts a hit or a miss and makes the key the most recently used. */
  get(key: string): Entry | undefined {
    const e = this.peek(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    e.ref = true;
    return e;
  }

  /** Stores e under key as the most recently used entry, then evicts the least recently used
   *  ones until both limits hold. The caller checks e.bytes <= maxBytes first. */
  set(key: string, e: Entry): void {
    const old = this.map.get(key);
    if (old !== undefined) this.remove(key, old);
    this.map.set(key, e);
    this.bytes += e.bytes;
    if (e.expires !== 0) this.withTtl++;
    const { maxEntries, maxBytes } = this.limits;
    while (this.map.size > maxEntries || this.bytes > maxBytes) {
      const oldest = this.nextOldest();
      if (oldest === undefined) break;
      if (oldest === key) {
        // The entry just stored is never its own victim; with others left, go on past it.
        if (this.map.size === 1) break;
        continue;
      }
      const victim = this.map.get(oldest)!;
      if (victim.ref) {
        // Read since it was last considered: keep it, as the most recently used.
        victim.ref = false;
        this.map.delete(oldest);
        this.map.set(oldest, victim);
        continue;
      }
      this.remove(oldest, victim);
      this.evictions++;
    }
  }

  /** Marks a live entry as recently used. */
  touch(_key: string, e: Entry): void {
    e.ref = true;
  }

  delete(key: string): boolean {
    const e = this.peek(key);
    if (e === undefined) return false;
    this.remove(key, e);
    return true;
  }

  flush(): void {
    this.map.clear();
    this.bytes = 0;
    this.withTtl = 0;
    this.evictCursor = undefined;
    this.sweepCursor = undefined;
  }

  /** Drops expired entries, looking at no more than `budget` of them so one pass over a huge
   *  cache cannot stall the event loop; the next call continues where this one stopped. */
  sweep(budget: number): void {
    if (this.withTtl === 0) return;
    const now = performance.now();
    this.sweepCursor ??= this.map.entries();
    for (let i = 0; i < budget; i++) {
      const r = this.sweepCursor.next();
      if (r.done) {
        this.sweepCursor = undefined;
        return;
      }
      const [key, e] = r.value;
      if (e.expires !== 0 && e.expires <= now) {
        this.remove(key, e);
        this.expired++;
      }
    }
  }

  private nextOldest(): string | undefined {
    this.evictCursor ??= this.map.keys();
    let r = this.evictCursor.next();
    if (r.done) {
      // A finished Map iterator stays finished even after new inserts: start over.
      this.evictCursor = this.map.keys();
      r = this.evictCursor.next();
    }
    return r.done ? undefined : r.value;
  }

  private remove(key: string, e: Entry): void {
    this.map.delete(key);
    this.bytes -= e.bytes;
    if (e.expires !== 0) this.withTtl--;
  }
}
