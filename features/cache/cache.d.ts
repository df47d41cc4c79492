// TypeScriptToLua declarations for the `cache` feature: the global `cache` and require("cache").
// cache.new is a free function (this: void); the cache's methods are called with ":".

interface RedoxError {
  code: string;
  message: string;
}

interface CacheTooLargeError extends RedoxError {
  code: 'cache_too_large';
  /** Estimated size of the refused entry. */
  bytes: number;
  max_bytes: number;
}

/** What a cache holds. Tables are copied in and out, as plain data (no functions or metatables). */
type CacheValue = string | number | boolean | object;

interface CacheOptions {
  /** Estimated bytes before least-recently-used entries are evicted. Default 64 MiB. */
  max_bytes?: number;
  /** Entries before least-recently-used entries are evicted. Default 100000. */
  max_entries?: number;
  /** Share one cache across every cache.new{name=} with this name in the worker process. */
  name?: string;
}

interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  /** Entries dropped because their TTL passed. */
  expired: number;
  entries: number;
  bytes: number;
  max_entries: number;
  max_bytes: number;
  /** Set for named caches. */
  name?: string;
}

/** Keys are strings; numbers are accepted and turned into their string form. */
type CacheKey = string | number;

interface Cache {
  /** The value, or undefined (nil) when missing or expired. */
  get(key: CacheKey): CacheValue | undefined;
  /** ttl in seconds; nil or 0 never expires. */
  set(key: CacheKey, value: CacheValue, ttl?: number): LuaMultiReturn<[true, undefined] | [undefined, CacheTooLargeError]>;
  /** Stores only when the key is absent: true if stored, false if it was there. */
  add(key: CacheKey, value: CacheValue, ttl?: number): LuaMultiReturn<[boolean, undefined] | [undefined, CacheTooLargeError]>;
  /** Adds n (default 1) to a number; a missing key starts at init (default 0) with init_ttl. */
  incr(key: CacheKey, n?: number, init?: number, init_ttl?: number): number;
  /** True when the key was there. */
  delete(key: CacheKey): boolean;
  /** Seconds left, -1 when the entry never expires, undefined (nil) when it is absent. */
  ttl(key: CacheKey): number | undefined;
  /** Entry count and estimated bytes. */
  size(): LuaMultiReturn<[number, number]>;
  flush(): void;
  stats(): CacheStats;
  /** The cached value, or fn(key) stored with ttl on a miss; nil, err from fn is returned, not stored. */
  get_or_set<T extends CacheValue, E = unknown>(key: CacheKey, ttl: number | undefined, fn: (this: void, key: CacheKey) => T | LuaMultiReturn<[T, undefined] | [undefined, E]>): LuaMultiReturn<[T, undefined] | [undefined, E]>;
}

interface CacheModule {
  new: (this: void, opts?: CacheOptions) => Cache;
}

declare const cache: CacheModule;

declare module 'cache' {
  const cache: CacheModule;
  export = cache;
}

/** The original Redox's cache API, kept for seed apps: lru_cache.create(max) is
 *  cache.new{max_entries = max}. */
interface LruCacheModule {
  create: (this: void, max: number) => Cache;
}

declare const lru_cache: LruCacheModule;
