// json.encode on the host: walking the Lua table through the raw C API and letting V8 escape
// strings is several times faster than building the text in wasm-hosted Lua, and encode sits
// on every JSON response. Semantics match the Lua decoder: keys sorted, integers stay integers,
// json.null and marked empty arrays survive, and bad input raises with a reason.
import { LuaApi, LuaState, LUA_REGISTRYINDEX, T_BOOLEAN, T_NIL, T_NUMBER, T_STRING, T_TABLE } from './api';
import { ARRAY_MT_KEY, JSON_NULL_KEY } from './marshal';
const TYPE_NAMES = ['nil', 'boolean', 'lightuserdata', 'number', 'string', 'table', 'function', 'userdata', 'thread'];

export class JsonEncodeError extends Error {}

export function encodeJson(api: LuaApi, L: LuaState, idx: number, maxDepth: number): string {
  const raw = api.raw;
  const abs = raw._lua_absindex(L, idx);
  // The sentinels sit on the stack for the walk: compare by identity without registry lookups.
  api.getField(L, LUA_REGISTRYINDEX, JSON_NULL_KEY);
  const nullIdx = raw._lua_gettop(L);
  api.getField(L, LUA_REGISTRYINDEX, ARRAY_MT_KEY);
  const arrayMtIdx = raw._lua_gettop(L);
  try {
    return encodeAt(api, L, abs, 1, maxDepth, nullIdx, arrayMtIdx, []);
  } finally {
    raw._lua_settop(L, nullIdx - 1);
  }
}

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

// Object keys repeat from call to call: keep their quoted form (bounded, keys may come from data).
const quotedKeys = new Map<string, string>();
function quoteKey(key: string): string {
  let q = quotedKeys.get(key);
  if (q === undefined) {
    q = JSON.stringify(key);
    if (quotedKeys.size < 4096 && key.length <= 64) quotedKeys.set(key, q);
  }
  return q;
}

function encodeAt(api: LuaApi, L: LuaState, idx: number, depth: number, maxDepth: number, nullIdx: number, arrayMtIdx: number, path: number[]): string {
  const raw = api.raw;
  const type = raw._lua_type(L, idx);
  switch (type) {
    case T_NIL:
      return 'null';
    case T_BOOLEAN:
      return raw._lua_toboolean(L, idx) ? 'true' : 'false';
    case T_NUMBER: {
      const n: number = raw._lua_tonumberx(L, idx, 0);
      if (raw._lua_isinteger(L, idx)) {
        // A double holds integers up to 2^53 exactly; beyond that, the exact BigInt.
        return n >= -9007199254740991 && n <= 9007199254740991 ? String(n) : String(raw._lua_tointegerx(L, idx, 0));
      }
      if (!Number.isFinite(n)) throw new JsonEncodeError(`cannot encode ${Number.isNaN(n) ? 'nan' : n > 0 ? 'inf' : '-inf'} as JSON`);
      return String(n);
    }
    case T_STRING:
      return encodeString(api, L, idx);
    case T_TABLE:
      break;
    default:
      throw new JsonEncodeError(`cannot encode a value of type ${TYPE_NAMES[type] ?? 'unknown'} as JSON`);
  }
  if (raw._lua_rawequal(L, idx, nullIdx)) return 'null';
  const self = raw._lua_topointer(L, idx);
  if (path.includes(self)) throw new JsonEncodeError('cannot encode a table that contains itself (cycle)');
  if (depth > maxDepth) throw new JsonEncodeError(`nesting deeper than ${maxDepth} levels`);
  path.push(self);
  raw._luaL_checkstack(L, 6, 0);
  let marked = false;
  if (raw._lua_getmetatable(L, idx)) {
    marked = raw._lua_rawequal(L, -1, arrayMtIdx) !== 0;
    raw._lua_settop(L, -2);
  }
  const named: [string, string][] = [];
  const items: string[] = [];
  let count = 0;
  let maxIndex = 0;
  raw._lua_pushnil(L);
  while (raw._lua_next(L, idx) !== 0) {
    const vIdx = raw._lua_gettop(L);
    const kt = raw._lua_type(L, -2);
    let encoded: string;
    try {
      encoded = encodeAt(api, L, vIdx, depth + 1, maxDepth, nullIdx, arrayMtIdx, path);
    } catch (err) {
      raw._lua_settop(L, vIdx - 2);
      throw err;
    }
    if (kt === T_STRING) {
      named.push([api.toString(L, -2)!, encoded]);
    } else if (kt === T_NUMBER && raw._lua_isinteger(L, -2) && raw._lua_tointegerx(L, -2, 0) > 0n) {
      const i = Number(raw._lua_tointegerx(L, -2, 0));
      items[i - 1] = encoded;
      if (i > maxIndex) maxIndex = i;
    } else {
      const shown = kt === T_NUMBER ? String(raw._lua_tonumberx(L, -2, 0)) : TYPE_NAMES[kt];
      raw._lua_settop(L, vIdx - 2);
      throw new JsonEncodeError(`cannot encode table key of type ${TYPE_NAMES[kt]} (${shown}); JSON keys are strings`);
    }
    count++;
    raw._lua_settop(L, vIdx - 1);
  }
  path.pop();
  if (named.length > 0 && maxIndex > 0) throw new JsonEncodeError('cannot encode a table with both array items and string keys');
  if (marked || (count > 0 && named.length === 0)) {
    if (maxIndex !== count) {
      throw new JsonEncodeError(`cannot encode sparse array: it has ${count} items but index ${maxIndex} is set; fill the holes with json.null`);
    }
    return '[' + items.join(',') + ']';
  }
  if (named.length === 0) return '{}';
  if (named.length > 1) named.sort(byKey);
  let out = '{';
  for (let i = 0; i < named.length; i++) {
    if (i > 0) out += ',';
    out += quoteKey(named[i][0]) + ':' + named[i][1];
  }
  return out + '}';
}

const byKey = (a: [string, string], b: [string, string]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
