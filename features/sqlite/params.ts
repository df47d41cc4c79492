// Lua arguments (read as bytes) -> values better-sqlite3 binds. Parameters are always bound,
// never spliced into SQL text.
import { isUtf8 } from 'node:buffer';
import type { Statement } from 'better-sqlite3';
import { LuaArgumentError, LuaValue } from '../../core/feature';

/** The key sqlite.blob(s) puts in its table: such a value binds as a BLOB even when the bytes
 *  happen to be valid UTF-8. */
export const BLOB_KEY = '__sqlite_blob';

type Bindable = bigint | number | string | Buffer | null;

export type Params =
  | { named: false; values: Bindable[] }
  | { named: true; values: Record<string, Bindable>; lone?: boolean };

const NO_PARAMS: Params = { named: false, values: [] };

function isPlainTable(v: LuaValue): v is { [key: string]: LuaValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** One value. Strings arrive as bytes: valid UTF-8 binds as TEXT, anything else as a BLOB. */
export function bindValue(v: LuaValue, op: string, what: string): Bindable {
  switch (typeof v) {
    case 'undefined':
      return null;
    case 'boolean':
      return v ? 1n : 0n;
    case 'number':
      // Whole numbers bind as INTEGER (a JS number would bind as REAL).
      return Number.isSafeInteger(v) ? BigInt(v) : v;
    case 'bigint':
    case 'string':
      return v;
  }
  if (v === null) return null;
  if (v instanceof Uint8Array) {
    const buf = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    return isUtf8(buf) ? buf.toString('utf8') : buf;
  }
  if (isPlainTable(v)) {
    const keys = Object.keys(v);
    if (keys.length === 0) return null; // json.null (and {}) mean SQL NULL
    const blob = v[BLOB_KEY];
    if (keys.length === 1 && blob instanceof Uint8Array) return Buffer.from(blob);
  }
  throw new LuaArgumentError(`${op}: ${what} is a table; bind strings, numbers, booleans, nil or sqlite.blob(s) ` +
    '(a table of named parameters must be the only argument; encode other tables with json.encode)');
}

/** The parameters of one call: varargs for ?/?NNN, or one table with string keys for
 *  :name/@name/$name (a single sequence table is spread like varargs). */
export function readParams(args: LuaValue[], op: string): Params {
  if (args.length === 0) return NO_PARAMS;
  if (args.length === 1) {
    const only = args[0];
    if (Array.isArray(only)) return { named: false, values: only.map((v, i) => bindValue(v, op, `parameter ${i + 1}`)) };
    if (isPlainTable(only) && !(BLOB_KEY in only)) {
      // A lone empty table is {name = nil, ...} for :name SQL, or json.null for one ?.
      if (Object.keys(only).length === 0) return { named: true, values: {}, lone: true };
      return readNamed(only, op);
    }
  }
  return { named: false, values: args.map((v, i) => bindValue(v, op, `parameter ${i + 1}`)) };
}

function readNamed(table: { [key: string]: LuaValue }, op: string): Params {
  const values: Record<string, Bindable> = {};
  for (const [key, v] of Object.entries(table)) {
    if (/^\d+$/.test(key)) {
      throw new LuaArgumentError(`${op}: the parameter table mixes positions and names; pass values for ? as separate arguments and values for :name in one table with string keys`);
    }
    // Accept {[":id"] = 1} as well as {id = 1}: better-sqlite3 wants the bare name.
    const name = /^[:@$]/.test(key) ? key.slice(1) : key;
    values[name] = bindValue(v, op, `parameter "${key}"`);
  }
  return { named: true, values };
}

const MISSING = /^Missing named parameter "(.*)"$/;

/**
 * Calls all/get/run with the parameters. A named parameter whose key is absent from the Lua
 * table binds NULL: Lua tables cannot hold nil, so `{email = maybe_nil}` must still work.
 */
export function call<M extends 'all' | 'get' | 'run'>(stmt: Statement, method: M, params: Params): ReturnType<Statement[M]> {
  if (!params.named) {
    const v = params.values;
    // Direct calls for the common arities: a spread call is several times slower in V8.
    if (v.length === 1) return (stmt[method] as (a: unknown) => ReturnType<Statement[M]>).call(stmt, v[0]);
    if (v.length === 0) return (stmt[method] as () => ReturnType<Statement[M]>).call(stmt);
    return (stmt[method] as (...a: unknown[]) => ReturnType<Statement[M]>).apply(stmt, v);
  }
  const values = params.values;
  for (let tries = 0; ; tries++) {
    try {
      return (stmt[method] as (a: unknown) => ReturnType<Statement[M]>)(values);
    } catch (err) {
      if (params.lone && err instanceof RangeError && err.message === 'Too few parameter values were provided') {
        return call(stmt, method, { named: false, values: [null] });
      }
      const m = err instanceof RangeError && tries < 1000 ? MISSING.exec(err.message) : null;
      if (!m || m[1] in values) throw err;
      values[m[1]] = null;
    }
  }
}
