// cache: an in-process LRU cache kept on the JS side, outside the Lua heap, so a large cache
// neither slows the Lua GC nor the handlers. Caches are per worker process; named ones are
// shared by every cache.new{name=} in the process.
//
// Errors follow the feature convention: a caller's mistake raises (LuaArgumentError, placed by
// core at the app's line); an entry too large to ever fit returns nil, err (cache_too_large).
// Numbers are read with `floats: true`, so 2.0 stays a float through the cache.
import { defineFeature, LuaFailure, LuaFloat, LuaMulti, LuaValue, sync } from '../../core/feature';
import { addIntegers, deadline, keyOf, limitOf, misuse, numberOf, typeName } from './args';
import { CACHE_LUA } from './cache.lua';
import { LRU_CACHE_LUA } from './lru-cache.lua';
import { attach, createPrivate, detach, namedStore, release } from './registry';
import { CacheStore, Limits } from './store';
import { decode, encode, ENTRY_OVERHEAD, Entry, FLOAT, INT } from './values';

const DEFAULT_LIMITS: Limits = { maxEntries: 100_000, maxBytes: 64 * 1024 * 1024 };
const OPTIONS = new Set(['max_bytes', 'max_entries', 'name']);
const ARGS = { bytes: true, floats: true } as const;

export default defineFeature({
  install() {
    attach();
    const handles: (CacheStore | undefined)[] = [];
    const freeIds: number[] = []; // ids of collected private caches, reused so handles stays small
    const open = (s: CacheStore): number => {
      const id = freeIds.pop() ?? handles.length;
      handles[id] = s;
      return id;
    };
    const named = new Map<string, number>(); // name -> handle id in this VM
    const privates = new Set<CacheStore>();

    const store = (id: LuaValue): CacheStore | undefined => (typeof id === 'number' ? handles[id] : undefined);
    const NOT_A_CACHE = 'call cache methods with a colon on a cache from cache.new, e.g. c:get(key)';

    /** Shared by set and add: validates, then stores (or reports why not). */
    function put(method: string, s: CacheStore, key: string, v: LuaValue, ttl: LuaValue): LuaValue {
      const expires = deadline(ttl);
      if (expires === undefined) return misuse(`cache:${method}: ttl must be a number of seconds >= 0 (0 or nil: never expires), got ${typeName(ttl)} ${typeof ttl === 'number' ? ttl : ''}`.trimEnd());
      const e = encode(v, key.length);
      if (typeof e === 'string') return misuse(`cache:${method}: ${e}`);
      if (e.bytes > s.limits.maxBytes) {
        // A value that can never fit must not leave a stale copy behind.
        s.delete(key);
        return new LuaFailure('cache_too_large', `the entry for key "${key.slice(0, 64)}" takes about ${e.bytes} bytes, more than this cache's max_bytes (${s.limits.maxBytes})`, { bytes: e.bytes, max_bytes: s.limits.maxBytes });
      }
      e.expires = expires;
      s.set(key, e);
      return true;
    }

    return {
      lua: CACHE_LUA,
      extraModules: { lru_cache: LRU_CACHE_LUA },
      functions: {
        new: sync((opts: LuaValue) => {
          if (opts === undefined) opts = {};
          if (typeof opts !== 'object' || opts === null || Buffer.isBuffer(opts) || Array.isArray(opts)) {
            return misuse(`cache.new: expects an options table like {max_entries=1000, max_bytes=1e6, name="users"}, got ${typeName(opts)}`);
          }
          const o = opts as Record<string, LuaValue>;
          for (const k of Object.keys(o)) {
            if (!OPTIONS.has(k)) return misuse(`cache.new: unknown option "${k}" (known: max_bytes, max_entries, name)`);
          }
          const maxEntries = limitOf(o.max_entries, 'max_entries', DEFAULT_LIMITS.maxEntries);
          const maxBytes = limitOf(o.max_bytes, 'max_bytes', DEFAULT_LIMITS.maxBytes);
          const limits = { maxEntries, maxBytes };
          if (o.name === undefined) {
            const s = createPrivate(limits);
            privates.add(s);
            return new LuaMulti([open(s), false]);
          }
          if (!Buffer.isBuffer(o.name) || o.name.length === 0) return misuse(`cache.new: name must be a non-empty string, got ${typeName(o.name)}`);
          const name = o.name.toString('utf8');
          const s = namedStore(name, limits, o.max_entries !== undefined || o.max_bytes !== undefined);
          if (typeof s === 'string') return misuse(`cache.new: ${s}`);
          let id = named.get(name);
          if (id === undefined) {
            id = open(s);
            named.set(name, id);
          }
          return new LuaMulti([id, true]);
        }, ARGS),

        // Called by __gc of a private cache: its memory goes with it.
        release: sync((id: LuaValue) => {
          const s = store(id);
          if (s === undefined || s.name !== undefined) return;
          handles[id as number] = undefined;
          freeIds.push(id as number);
          privates.delete(s);
          release(s);
        }),

        get: sync((id: LuaValue, k: LuaValue) => {
          const s = store(id);
          if (s === undefined) return misuse(NOT_A_CACHE);
          const key = keyOf(k);
          if (key === undefined) return misuse(`cache:get: key must be a string or a number, got ${typeName(k)}`);
          const e = s.get(key);
          return e === undefined ? undefined : decode(e);
        }, ARGS),

        set: sync((id: LuaValue, k: LuaValue, v: LuaValue, ttl: LuaValue) => {
          const s = store(id);
          if (s === undefined) return misuse(NOT_A_CACHE);
          const key = keyOf(k);
          if (key === undefined) return misuse(`cache:set: key must be a string or a number, got ${typeName(k)}`);
          return put('set', s, key, v, ttl);
        }, ARGS),

        add: sync((id: LuaValue, k: LuaValue, v: LuaValue, ttl: LuaValue) => {
          const s = store(id);
          if (s === undefined) return misuse(NOT_A_CACHE);
          const key = keyOf(k);
          if (key === undefined) return misuse(`cache:add: key must be a string or a number, got ${typeName(k)}`);
          if (s.peek(key) !== undefined) return false;
          return put('add', s, key, v, ttl);
        }, ARGS),

        incr: sync((id: LuaValue, k: LuaValue, by: LuaValue, start: LuaValue, initTtl: LuaValue) => {
          const s = store(id);
          if (s === undefined) return misuse(NOT_A_CACHE);
          const key = keyOf(k);
          if (key === undefined) return misuse(`cache:incr: key must be a string or a number, got ${typeName(k)}`);
          const n = by === undefined ? { n: 1, float: false } : numberOf(by);
          if (n === undefined) return misuse(`cache:incr: the increment must be a number, got ${typeName(by)}`);
          const init = start === undefined ? { n: 0, float: false } : numberOf(start);
          if (init === undefined) return misuse(`cache:incr: init must be a number, got ${typeName(start)}`);
          const e = s.peek(key);
          let base: number | bigint;
          let baseFloat: boolean;
          let expires = 0;
          if (e === undefined) {
            const d = deadline(initTtl);
            if (d === undefined) return misuse(`cache:incr: init_ttl must be a number of seconds >= 0, got ${typeName(initTtl)}`);
            [base, baseFloat, expires] = [init.n, init.float, d];
          } else {
            if (e.kind !== INT && e.kind !== FLOAT) {
              return misuse(`cache:incr: the value under key "${key.slice(0, 64)}" is not a number; incr works on numbers only`);
            }
            [base, baseFloat] = [e.data as number | bigint, e.kind === FLOAT];
          }
          // Lua's rules: integer + integer stays an integer (64-bit, wrapping); a float makes a float.
          const float = baseFloat || n.float;
          const value = float ? Number(base) + Number(n.n) : addIntegers(base, n.n);
          if (e === undefined) {
            s.set(key, new Entry(float ? FLOAT : INT, value, key.length + 8 + ENTRY_OVERHEAD, expires));
          } else {
            e.data = value;
            e.kind = float ? FLOAT : INT;
            s.touch(key, e);
          }
          return float ? new LuaFloat(value as number) : value;
        }, ARGS),

        delete: sync((id: LuaValue, k: LuaValue) => {
          const s = store(id);
          if (s === undefined) return misuse(NOT_A_CACHE);
          const key = keyOf(k);
          if (key === undefined) return misuse(`cache:delete: key must be a string or a number, got ${typeName(k)}`);
          return s.delete(key);
        }, ARGS),

        ttl: sync((id: LuaValue, k: LuaValue) => {
          const s = store(id);
          if (s === undefined) return misuse(NOT_A_CACHE);
          const key = keyOf(k);
          if (key === undefined) return misuse(`cache:ttl: key must be a string or a number, got ${typeName(k)}`);
          const e = s.peek(key);
          if (e === undefined) return undefined;
          if (e.expires === 0) return -1;
          // Always a float, so a TTL that happens to be integral still reads as seconds left.
          return new LuaFloat(Math.max(0, (e.expires - performance.now()) / 1000));
        }, ARGS),

        size: sync((id: LuaValue) => {
          const s = store(id);
          if (s === undefined) return misuse(NOT_A_CACHE);
          return new LuaMulti([s.entries, s.bytes]);
        }),

        flush: sync((id: LuaValue) => {
          const s = store(id);
          if (s === undefined) return misuse(NOT_A_CACHE);
          s.flush();
          return true;
        }),

        stats: sync((id: LuaValue) => {
          const s = store(id);
          if (s === undefined) return misuse(NOT_A_CACHE);
          return {
            hits: s.hits, misses: s.misses, evictions: s.evictions, expired: s.expired,
            entries: s.entries, bytes: s.bytes, max_entries: s.limits.maxEntries, max_bytes: s.limits.maxBytes,
            name: s.name,
          };
        }),
      },
      cleanup() {
        detach(privates);
        privates.clear();
        handles.length = 0;
        freeIds.length = 0;
      },
    };
  },
});
