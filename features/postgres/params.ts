// Lua arguments (read as bytes) -> values node-postgres sends as $1..$n. Parameters are always
// sent apart from the SQL text, never spliced into it.
import { isUtf8 } from 'node:buffer';
import { LuaArgumentError, LuaValue } from '../../core/feature';

/** The key postgres.bytea(s) puts in its table: such a value is sent as binary even when the
 *  bytes happen to be valid UTF-8. */
export const BYTEA_KEY = '__pg_bytea';

type Param = string | number | boolean | Buffer | null | Param[] | { [k: string]: unknown };

function asBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** A table that is JSON data: strings as text, json.null as null (for a json/jsonb column). */
function jsonData(v: LuaValue): unknown {
  if (v instanceof Uint8Array) return asBuffer(v).toString('utf8');
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : jsonData(x)));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = jsonData(x as LuaValue);
    return out;
  }
  return v ?? null;
}

/** One value. Strings arrive as bytes: valid UTF-8 is sent as text, anything else as binary
 *  (which suits a bytea column). A sequence is a PostgreSQL array; another table is JSON. */
export function toParam(v: LuaValue, op: string, index: number): Param {
  switch (typeof v) {
    case 'undefined':
      return null;
    case 'boolean':
    case 'number':
      return v;
    case 'bigint':
      return v.toString();
    case 'string':
      return v;
  }
  if (v === null) return null;
  if (v instanceof Uint8Array) {
    const buf = asBuffer(v);
    return isUtf8(buf) ? buf.toString('utf8') : buf;
  }
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : toParam(x, op, index)));
  if (typeof v === 'object') {
    const bytes = (v as Record<string, LuaValue>)[BYTEA_KEY];
    if (bytes instanceof Uint8Array && Object.keys(v).length === 1) return Buffer.from(bytes);
    // node-postgres sends other objects as JSON text: a json/jsonb parameter.
    return jsonData(v) as Param;
  }
  throw new LuaArgumentError(`${op}: parameter $${index} has an unsupported type ${typeof v}`);
}

export function toParams(args: LuaValue[], op: string): Param[] {
  const out: Param[] = new Array(args.length);
  for (let i = 0; i < args.length; i++) out[i] = toParam(args[i], op, i + 1);
  return out;
}

/** The SQL argument: a string, or a raised error naming the mistake. */
export function sqlText(v: LuaValue, op: string): string {
  if (v instanceof Uint8Array) return asBuffer(v).toString('utf8');
  if (typeof v === 'string') return v;
  throw new LuaArgumentError(`${op}: sql must be a string, got ${v === undefined ? 'nil' : Array.isArray(v) || typeof v === 'object' ? 'a table' : typeof v}`);
}
