// json.encode on the host: walking the Lua table through the raw C API and letting V8 escape
// strings is several times faster than building the text in wasm-hosted Lua, and encode sits
// on every JSON response. Semantics match the Lua decoder: keys sorted, integers stay integers,
// json.null and marked empty arrays survive, and bad input raises with a reason.
import { LuaApi, LuaState, LUA_REGISTRYINDEX, T_BOOLEAN, T_NIL, T_NUMBER, T_STRING, T_TABLE } from './api';
import { ARRAY_MT_KEY, JSON_NULL_KEY } from './marshal';
const TYPE_NAMES = ['nil', 'boolean', 'lightuserdata', 'number', 'string', 'table', 'function', 'userdata', 'thread'];

export class JsonEncodeError extends Error {}

export function encodeJson(api: LuaApi, L: LuaState, idx: number, maxDepth: number): string {
  const walk = new Walk(api, L, maxDepth);
  return walk.encode(api.raw._lua_absindex(L, idx), 1);
}

/** The addresses of json.null, its metatable and the array metatable: both tables live in the
 *  registry for the life of the VM and Lua never moves an object, so one lookup per VM lets each
 *  table be checked with a single getmetatable instead of registry reads per call. */
interface Sentinels {
  nullPtr: number;
  nullMt: number;
  arrayMt: number;
}
// One entry: a process runs one VM at a time (a new one after a reboot).
let cachedFor: LuaApi | null = null;
let cached: Sentinels | null = null;

function sentinelsOf(api: LuaApi, L: LuaState): Sentinels {
  if (cachedFor === api && cached !== null) return cached;
  const raw = api.raw;
  api.getField(L, LUA_REGISTRYINDEX, JSON_NULL_KEY);
  const nullPtr: number = raw._lua_topointer(L, -1);
  const nullMt: number = nullPtr !== 0 && raw._lua_getmetatable(L, -1) ? raw._lua_topointer(L, -1) : 0;
  api.getField(L, LUA_REGISTRYINDEX, ARRAY_MT_KEY);
  const arrayMt: number = raw._lua_topointer(L, -1);
  raw._lua_settop(L, nullMt !== 0 ? -4 : -3);
  const s = { nullPtr, nullMt, arrayMt };
  // Only a complete set is kept (json.lua registers both while the VM boots).
  if (nullPtr !== 0 && nullMt !== 0 && arrayMt !== 0) {
    cachedFor = api;
    cached = s;
  }
  return s;
}

// Tables this deep are checked for cycles (a cycle repeats, so it is still caught, just a few
// levels later); shallower ones, the common case, skip the address bookkeeping.
const CYCLE_CHECK_DEPTH = 8;
const MAX_EXACT = 9007199254740991;

class Walk {
  private readonly raw: LuaApi['raw'];
  private readonly sentinels: Sentinels;
  private readonly path: number[] = [];

  constructor(private readonly api: LuaApi, private readonly L: LuaState, private readonly maxDepth: number) {
    this.raw = api.raw;
    this.sentinels = sentinelsOf(api, L);
  }

  encode(idx: number, depth: number): string {
    const { raw, L } = this;
    const type = raw._lua_type(L, idx);
    switch (type) {
      case T_NIL:
        return 'null';
      case T_BOOLEAN:
        return raw._lua_toboolean(L, idx) ? 'true' : 'false';
      case T_NUMBER: {
        const n: number = raw._lua_tonumberx(L, idx, 0);
        // Integers and integral floats print the same ("3"); only integers beyond 2^53 need
        // the exact 64-bit value.
        if (Number.isInteger(n)) {
          if ((n <= MAX_EXACT && n >= -MAX_EXACT) || !raw._lua_isinteger(L, idx)) return String(n);
          return String(raw._lua_tointegerx(L, idx, 0));
        }
        if (!Number.isFinite(n)) throw new JsonEncodeError(`cannot encode ${Number.isNaN(n) ? 'nan' : n > 0 ? 'inf' : '-inf'} as JSON`);
        return String(n);
      }
      case T_STRING:
        return this.string(idx);
      case T_TABLE:
        return this.table(idx, depth);
      default:
        throw new JsonEncodeError(`cannot encode a value of type ${TYPE_NAMES[type] ?? 'unknown'} as JSON`);
    }
  }

  /** Printable ASCII without quote or backslash is its own JSON text: copied out as is. */
  private string(idx: number): string {
    const { api, raw, L } = this;
    const lenPtr = api.resultCountPtr;
    const ptr: number = raw._lua_tolstring(L, idx, lenPtr);
    const len = raw.HEAPU32[lenPtr >> 2];
    const heap = api.heap();
    for (let i = ptr, end = ptr + len; i < end; i++) {
      const b = heap[i];
      if (b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c) return encodeString(api, L, idx);
    }
    return '"' + (heap as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice(ptr, ptr + len) + '"';
  }

  /** The key at -2: short printable ASCII keys (most of them) are read byte by byte, which is
   *  cheaper than a decoding call for a few characters. */
  private key(): string {
    const { api, raw, L } = this;
    const lenPtr = api.resultCountPtr;
    const ptr: number = raw._lua_tolstring(L, -2, lenPtr);
    const len = raw.HEAPU32[lenPtr >> 2];
    if (len <= 8) {
      const heap = api.heap();
      let key = '';
      for (let i = ptr, end = ptr + len; i < end; i++) {
        const b = heap[i];
        if (b >= 0x80) return api.toString(L, -2)!;
        key += String.fromCharCode(b);
      }
      return key;
    }
    return api.toString(L, -2)!;
  }

  private table(idx: number, depth: number): string {
    const { raw, L, sentinels, path } = this;
    let marked = false;
    if (raw._lua_getmetatable(L, idx)) {
      const mt: number = raw._lua_topointer(L, -1);
      raw._lua_settop(L, -2);
      if (mt === sentinels.arrayMt) marked = true;
      else if (mt === sentinels.nullMt && raw._lua_topointer(L, idx) === sentinels.nullPtr) return 'null';
    }
    const tracked = depth > CYCLE_CHECK_DEPTH;
    if (tracked) {
      const self: number = raw._lua_topointer(L, idx);
      if (path.includes(self)) throw new JsonEncodeError('cannot encode a table that contains itself (cycle)');
      path.push(self);
    }
    if (depth > this.maxDepth) throw new JsonEncodeError(`nesting deeper than ${this.maxDepth} levels`);
    raw._luaL_checkstack(L, 6, 0);
    // Object members as parallel key/text lists, sorted afterwards in place (tables are mostly
    // small); array items by index.
    const keys: string[] = [];
    const texts: string[] = [];
    let items: string[] | undefined;
    let count = 0;
    let maxIndex = 0;
    raw._lua_pushnil(L);
    // Each step leaves the key one above the nil's slot and the value above it.
    const vIdx: number = raw._lua_gettop(L) + 1;
    while (raw._lua_next(L, idx) !== 0) {
      const kt = raw._lua_type(L, -2);
      let encoded: string;
      try {
        encoded = this.encode(vIdx, depth + 1);
      } catch (err) {
        raw._lua_settop(L, vIdx - 2);
        throw err;
      }
      if (kt === T_STRING) {
        keys.push(this.key());
        texts.push(encoded);
      } else if (kt === T_NUMBER && isArrayIndex(raw._lua_tonumberx(L, -2, 0))) {
        // Lua stores integral float keys as integers: an integral number key is an integer.
        const i: number = raw._lua_tonumberx(L, -2, 0);
        (items ??= [])[i - 1] = encoded;
        if (i > maxIndex) maxIndex = i;
      } else {
        const shown = kt === T_NUMBER ? String(raw._lua_tonumberx(L, -2, 0)) : TYPE_NAMES[kt];
        raw._lua_settop(L, vIdx - 2);
        throw new JsonEncodeError(`cannot encode table key of type ${TYPE_NAMES[kt]} (${shown}); JSON keys are strings`);
      }
      count++;
      raw._lua_settop(L, vIdx - 1);
    }
    if (tracked) path.pop();
    if (keys.length > 0 && maxIndex > 0) throw new JsonEncodeError('cannot encode a table with both array items and string keys');
    if (marked || (count > 0 && keys.length === 0)) {
      if (maxIndex !== count) {
        throw new JsonEncodeError(`cannot encode sparse array: it has ${count} items but index ${maxIndex} is set; fill the holes with json.null`);
      }
      return items === undefined ? '[]' : '[' + items.join(',') + ']';
    }
    if (keys.length === 0) return '{}';
    sortTogether(keys, texts);
    let out = '{';
    for (let i = 0; i < keys.length; i++) {
      if (i > 0) out += ',';
      out += quoteKey(keys[i]) + ':' + texts[i];
    }
    return out + '}';
  }
}

function isArrayIndex(n: number): boolean {
  return Number.isInteger(n) && n > 0;
}

/** Sorts keys (code unit order), moving each key's text with it: insertion sort for the usual
 *  few keys, Array#sort on an index for many. */
function sortTogether(keys: string[], texts: string[]): void {
  if (keys.length > 16) {
    const order = keys.map((_, i) => i).sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0));
    const k = order.map((i) => keys[i]);
    const t = order.map((i) => texts[i]);
    for (let i = 0; i < k.length; i++) {
      keys[i] = k[i];
      texts[i] = t[i];
    }
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i];
    if (keys[i - 1] <= k) continue;
    const t = texts[i];
    let j = i - 1;
    while (j >= 0 && keys[j] > k) {
      keys[j + 1] = keys[j];
      texts[j + 1] = texts[j];
      j--;
    }
    keys[j + 1] = k;
    texts[j + 1] = t;
  }
}

/** The general case: decoded as UTF-8 (refusing invalid UTF-8) and escaped by V8. */
function encodeString(api: LuaApi, L: LuaState, idx: number): string {
  const text = api.toString(L, idx)!;
  // Decoding replaces invalid UTF-8 with U+FFFD; only then compare with the bytes.
  if (text.includes('\uFFFD')) {
    const bytes = api.toBytes(L, idx)!;
    if (!Buffer.from(text, 'utf8').equals(bytes)) {
      const bad = Buffer.from(text, 'utf8').findIndex((b, i) => b !== bytes[i]);
      throw new JsonEncodeError(`cannot encode string: invalid UTF-8 at byte ${bad + 1}`);
    }
  }
  return JSON.stringify(text);
}

/** A key is quoted as is when it is printable ASCII without quote or backslash. */
function quoteKey(key: string): string {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return JSON.stringify(key);
  }
  return '"' + key + '"';
}
