// How cached values are kept on the JS side: one compact leaf per entry (a JS string, number or
// boolean; a Buffer only for rare tables), so a big cache is cheap for V8's GC to trace and
// costs the Lua heap nothing. Tables are stored as JSON text: for small tables JSON.stringify +
// JSON.parse measured ~1.3 us against ~9.8 us for v8.serialize + v8.deserialize (Lua strings
// arrive as Buffers, which v8.serialize handles as slow host objects). v8.serialize is kept as
// the fallback for what JSON cannot carry exactly: non-UTF-8 strings, inf/nan and integers
// beyond 2^53.
import { isUtf8 } from 'node:buffer';
import v8 from 'node:v8';
import { LuaFloat, LuaValue } from '../../core/feature';

export const TEXT = 0; // valid UTF-8 string, kept as a JS string
export const BINARY = 1; // any other string, kept as a latin1 JS string (one char per byte)
export const INT = 2;
export const FLOAT = 3;
export const BOOL = 4;
export const JSON_TABLE = 5;
export const V8_TABLE = 6;

export type Data = string | number | bigint | boolean | Buffer;

export class Entry {
  constructor(
    public kind: number,
    public data: Data,
    /** Estimated bytes: key + value + ENTRY_OVERHEAD. */
    public bytes: number,
    /** performance.now() deadline in ms; 0 = never expires. */
    public expires: number,
  ) {}
  /** Read since eviction last looked at it (second-chance LRU). */
  ref = false;
}

/** Rough cost of one entry beyond its key and value bytes (Map slot, Entry object, string
 *  headers), so that many tiny entries still count against max_bytes. */
export const ENTRY_OVERHEAD = 96;

/** Turns a value read from Lua (strings as Buffers) into an Entry without a key or expiry.
 *  Returns a message when the value cannot be cached. */
export function encode(value: LuaValue, keyBytes: number): Entry | string {
  if (value instanceof LuaFloat) return new Entry(FLOAT, value.value, keyBytes + 8 + ENTRY_OVERHEAD, 0);
  if (Buffer.isBuffer(value)) {
    if (isUtf8(value)) return new Entry(TEXT, value.toString('utf8'), keyBytes + value.length + ENTRY_OVERHEAD, 0);
    return new Entry(BINARY, value.toString('latin1'), keyBytes + value.length + ENTRY_OVERHEAD, 0);
  }
  switch (typeof value) {
    case 'number':
      return new Entry(Number.isInteger(value) ? INT : FLOAT, value, keyBytes + 8 + ENTRY_OVERHEAD, 0);
    case 'bigint': // a Lua integer beyond 2^53, kept exact
      return new Entry(INT, value, keyBytes + 8 + ENTRY_OVERHEAD, 0);
    case 'boolean':
      return new Entry(BOOL, value, keyBytes + 1 + ENTRY_OVERHEAD, 0);
    case 'undefined':
      return 'the value is nil; to remove a key use c:delete(key)';
    case 'object':
      if (value === null) return 'the value is nil; to remove a key use c:delete(key)';
      break;
    default:
      return `a ${typeof value} cannot be cached`;
  }
  const text = toJsonable(value);
  if (text !== NOT_JSON) {
    const json = JSON.stringify(text);
    return new Entry(JSON_TABLE, json, keyBytes + json.length + ENTRY_OVERHEAD, 0);
  }
  const bin = v8.serialize(value);
  return new Entry(V8_TABLE, bin, keyBytes + bin.length + ENTRY_OVERHEAD, 0);
}

/** The value Lua receives; a float stays a float even when its value is integral (2.0). */
export function decode(e: Entry): LuaValue {
  switch (e.kind) {
    case TEXT:
    case INT:
    case BOOL:
      return e.data as LuaValue;
    case BINARY:
      return Buffer.from(e.data as string, 'latin1');
    case FLOAT:
      return new LuaFloat(e.data as number);
    case JSON_TABLE:
      return JSON.parse(e.data as string) as LuaValue;
    default:
      return v8.deserialize(e.data as Buffer) as LuaValue;
  }
}

const NOT_JSON = Symbol('not representable as JSON');

/** A copy of a marshalled Lua table with Buffers turned into strings, or NOT_JSON when some
 *  string is not UTF-8, some number is not finite or some integer is beyond 2^53 (JSON would
 *  change them). */
function toJsonable(v: LuaValue): unknown {
  if (Buffer.isBuffer(v)) return isUtf8(v) ? v.toString('utf8') : NOT_JSON;
  if (typeof v === 'number') return Number.isFinite(v) ? v : NOT_JSON;
  if (typeof v === 'bigint') return NOT_JSON;
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = toJsonable(v[i]);
      if (x === NOT_JSON) return NOT_JSON;
      out[i] = x;
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = toJsonable((v as Record<string, LuaValue>)[k]);
    if (x === NOT_JSON) return NOT_JSON;
    // defineProperty keeps a "__proto__" key an ordinary key.
    Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
