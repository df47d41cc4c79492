// Converting values between JavaScript and Lua. Plain data only: nil, booleans, numbers,
// strings (UTF-8, or bytes as Buffer), and tables as arrays or objects. Functions and
// userdata do not cross; features hand out integer handles instead.
import {
  LuaApi, LuaState, T_BOOLEAN, T_NIL, T_NONE, T_NUMBER, T_STRING, T_TABLE, LUA_REGISTRYINDEX,
} from './api';
import { REGISTRY } from './registry';

export type LuaValue =
  | undefined | null | boolean | number | bigint | string | Buffer | Uint8Array
  | LuaValue[] | { [key: string]: LuaValue } | LuaMulti | LuaFailure | LuaFloat;

/** Several return values: `return new LuaMulti([a, b])` gives Lua `a, b`. */
export class LuaMulti {
  constructor(readonly values: LuaValue[]) {}
}

/** An expected failure: Lua receives `nil, err` where err has `code` and `message`. */
export class LuaFailure {
  constructor(readonly code: string, readonly message: string, readonly details?: Record<string, LuaValue>) {}
}

/** A Lua float. Numbers cross as JS numbers, so a float with an integral value (3.0) reaches
 *  the host as 3 and an integral number returns to Lua as an integer: host checks such as
 *  Number.isInteger accept 3.0, once, here. A feature that must keep 3.0 a float (a store)
 *  reads with `{ floats: true }` and returns `new LuaFloat(n)`. */
export class LuaFloat {
  constructor(readonly value: number) {}
}

export const ARRAY_MT_KEY = REGISTRY.arrayMt;
export const ERROR_MT_KEY = REGISTRY.errorMt;
export const JSON_NULL_KEY = REGISTRY.jsonNull;
const MAX_DEPTH = 200;

export interface ReadOptions {
  /** Strings arrive as Buffer (bytes) instead of UTF-8 text. */
  bytes?: boolean;
  /** A float argument whose value is integral (3.0) arrives as a LuaFloat instead of 3.
   *  Arguments only: numbers inside tables stay plain numbers. */
  floats?: boolean;
}

export function pushValue(api: LuaApi, L: LuaState, value: LuaValue, depth = 0): number {
  const raw = api.raw;
  switch (typeof value) {
    case 'undefined':
      raw._lua_pushnil(L);
      return 1;
    case 'boolean':
      raw._lua_pushboolean(L, value ? 1 : 0);
      return 1;
    case 'number':
      if (Number.isSafeInteger(value)) raw._lua_pushinteger(L, BigInt(value));
      else raw._lua_pushnumber(L, value);
      return 1;
    case 'bigint':
      raw._lua_pushinteger(L, BigInt.asIntN(64, value));
      return 1;
    case 'string':
      api.pushString(L, value);
      return 1;
    case 'object':
      break;
    default:
      throw new TypeError(`cannot pass a JavaScript ${typeof value} to Lua`);
  }
  if (value === null) {
    raw._lua_pushnil(L);
    return 1;
  }
  if (depth > MAX_DEPTH) throw new TypeError(`value nested deeper than ${MAX_DEPTH} levels`);
  if (value instanceof Uint8Array) {
    api.pushBytes(L, value);
    return 1;
  }
  if (value instanceof LuaMulti) {
    raw._luaL_checkstack(L, value.values.length + 2, 0);
    for (const v of value.values) pushValue(api, L, v, depth + 1);
    return value.values.length;
  }
  if (value instanceof LuaFloat) {
    raw._lua_pushnumber(L, value.value);
    return 1;
  }
  if (value instanceof LuaFailure) {
    raw._lua_pushnil(L);
    pushFailure(api, L, value, depth);
    return 2;
  }
  raw._luaL_checkstack(L, 4, 0);
  if (Array.isArray(value)) {
    raw._lua_createtable(L, value.length, 0);
    for (let i = 0; i < value.length; i++) {
      pushValue(api, L, value[i], depth + 1);
      raw._lua_rawseti(L, -2, BigInt(i + 1));
    }
    // Arrays keep their shape through json.encode even when empty.
    api.getField(L, LUA_REGISTRYINDEX, ARRAY_MT_KEY);
    raw._lua_setmetatable(L, -2);
    return 1;
  }
  if (value instanceof Date) {
    api.pushString(L, value.toISOString());
    return 1;
  }
  const keys = Object.keys(value);
  raw._lua_createtable(L, 0, keys.length);
  for (const key of keys) {
    const v = (value as Record<string, LuaValue>)[key];
    if (v === undefined) continue;
    // Row and object keys repeat: a cached C string makes the key one call, no UTF-8 encoding.
    const ptr = api.keyPtr(key);
    if (ptr !== 0) {
      pushValue(api, L, v, depth + 1);
      raw._lua_setfield(L, -2, ptr);
      continue;
    }
    api.pushString(L, key);
    pushValue(api, L, v, depth + 1);
    raw._lua_rawset(L, -3);
  }
  return 1;
}

function pushFailure(api: LuaApi, L: LuaState, failure: LuaFailure, depth: number): void {
  const raw = api.raw;
  raw._lua_createtable(L, 0, 2 + (failure.details ? Object.keys(failure.details).length : 0));
  if (failure.details) {
    for (const [k, v] of Object.entries(failure.details)) {
      pushValue(api, L, v, depth + 1);
      api.setField(L, -2, k);
    }
  }
  api.pushString(L, failure.code);
  api.setField(L, -2, 'code');
  api.pushString(L, failure.message);
  api.setField(L, -2, 'message');
  api.getField(L, LUA_REGISTRYINDEX, ERROR_MT_KEY);
  raw._lua_setmetatable(L, -2);
}

export function readValue(api: LuaApi, L: LuaState, idx: number, opts?: ReadOptions, depth = 0): LuaValue {
  const raw = api.raw;
  switch (raw._lua_type(L, idx)) {
    case T_NONE:
    case T_NIL:
      return undefined;
    case T_BOOLEAN:
      return raw._lua_toboolean(L, idx) !== 0;
    case T_NUMBER: {
      // Read as a double first (one call, no BigInt). Whether it is an integer matters only
      // beyond 2^53, where a Number would round (the host gets the exact BigInt), and for an
      // integral float when the host asked to tell floats apart.
      const d: number = raw._lua_tonumberx(L, idx, 0);
      const exact = d >= -Number.MAX_SAFE_INTEGER && d <= Number.MAX_SAFE_INTEGER;
      if (opts?.floats === true && depth === 0 && Number.isInteger(d) && !raw._lua_isinteger(L, idx)) return new LuaFloat(d);
      if (exact || !raw._lua_isinteger(L, idx)) return d;
      return raw._lua_tointegerx(L, idx, 0) as bigint;
    }
    case T_STRING:
      return opts?.bytes ? api.toBytes(L, idx)! : api.toString(L, idx)!;
    case T_TABLE:
      return readTable(api, L, idx, opts, depth);
    default:
      throw new TypeError(`cannot pass a Lua ${typeName(api, L, idx)} to the host`);
  }
}

function typeName(api: LuaApi, L: LuaState, idx: number): string {
  const t = api.raw._lua_type(L, idx);
  return ['nil', 'boolean', 'lightuserdata', 'number', 'string', 'table', 'function', 'userdata', 'thread'][t] ?? 'value';
}

function readTable(api: LuaApi, L: LuaState, idx: number, opts: ReadOptions | undefined, depth: number): LuaValue {
  if (isJsonNull(api, L, idx)) return null;
  if (depth > MAX_DEPTH) throw new TypeError(`table nested deeper than ${MAX_DEPTH} levels (or it contains a cycle)`);
  const raw = api.raw;
  const abs = raw._lua_absindex(L, idx);
  raw._luaL_checkstack(L, 4, 0);
  const length = Number(raw._lua_rawlen(L, abs)); // lua_Unsigned arrives as a bigint
  let count = 0;
  const obj: Record<string, LuaValue> = {};
  let allIntegerKeys = true;
  raw._lua_pushnil(L);
  while (raw._lua_next(L, abs) !== 0) {
    count++;
    const kt = raw._lua_type(L, -2);
    if (kt === T_STRING) {
      allIntegerKeys = false;
      setKey(obj, api.toString(L, -2)!, readValue(api, L, -1, opts, depth + 1));
    } else if (kt === T_NUMBER) {
      // Copy the key before converting: lua_tolstring on the key itself would confuse lua_next.
      raw._lua_pushvalue(L, -2);
      setKey(obj, api.toString(L, -1)!, readValue(api, L, -2, opts, depth + 1));
      raw._lua_settop(L, -2);
      if (!raw._lua_isinteger(L, -2)) allIntegerKeys = false;
    } else {
      raw._lua_settop(L, -3);
      throw new TypeError(`table keys must be strings or numbers, not ${typeName(api, L, -1)}`);
    }
    raw._lua_settop(L, -2);
  }
  const markedArray = isMarkedArray(api, L, abs);
  if ((count > 0 && allIntegerKeys && count === length) || (count === 0 && markedArray)) {
    const arr: LuaValue[] = new Array(length);
    for (let i = 0; i < length; i++) arr[i] = obj[String(i + 1)];
    return arr;
  }
  return obj;
}

// A Lua key "__proto__" must stay data, not replace the object's prototype.
function setKey(obj: Record<string, LuaValue>, key: string, value: LuaValue): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** json.null reaches the host as null. */
function isJsonNull(api: LuaApi, L: LuaState, idx: number): boolean {
  const abs = api.raw._lua_absindex(L, idx);
  api.getField(L, LUA_REGISTRYINDEX, JSON_NULL_KEY);
  const same = api.raw._lua_rawequal(L, abs, -1) !== 0;
  api.raw._lua_settop(L, -2);
  return same;
}

function isMarkedArray(api: LuaApi, L: LuaState, abs: number): boolean {
  const raw = api.raw;
  if (!raw._lua_getmetatable(L, abs)) return false;
  api.getField(L, LUA_REGISTRYINDEX, ARRAY_MT_KEY);
  const same = raw._lua_rawequal(L, -1, -2) !== 0;
  raw._lua_settop(L, -3);
  return same;
}
