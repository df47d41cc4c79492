// Argument checks shared by the crypto functions. Lua strings arrive as Buffers ({bytes: true}),
// so every function is binary-safe; a wrong type is a programming error and raises.
import { isUtf8 } from 'node:buffer';
import { LuaArgumentError, LuaValue } from '../../core/feature';

export function typeName(v: LuaValue): string {
  if (v === undefined || v === null) return 'nil';
  if (Buffer.isBuffer(v)) return 'string';
  if (typeof v === 'bigint') return 'number';
  if (typeof v === 'object') return 'table';
  return typeof v;
}

/** A string argument as bytes. */
export function bytesArg(v: LuaValue, fn: string, what: string): Buffer {
  if (!Buffer.isBuffer(v)) throw new LuaArgumentError(`crypto.${fn}: ${what} must be a string, got ${typeName(v)}`);
  return v;
}

/** A string argument as text (names, options). */
export function textArg(v: LuaValue, fn: string, what: string): string {
  return bytesArg(v, fn, what).toString('utf8');
}

/** An options table (or nil) whose keys are all in `known`. */
export function optionsArg(v: LuaValue, fn: string, known: string[]): Record<string, LuaValue> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Buffer.isBuffer(v) || Array.isArray(v)) {
    throw new LuaArgumentError(`crypto.${fn}: options must be a table, got ${typeName(v)}`);
  }
  for (const k of Object.keys(v)) {
    if (!known.includes(k)) throw new LuaArgumentError(`crypto.${fn}: unknown option "${k}" (known: ${known.join(', ')})`);
  }
  return v as Record<string, LuaValue>;
}

/** A marshalled Lua value made JSON-ready: Buffers become text. Strings must be UTF-8 and
 *  numbers finite, because JSON cannot carry anything else. */
export function toJsonValue(v: LuaValue, fn: string, path: string): unknown {
  if (Buffer.isBuffer(v)) {
    if (!isUtf8(v)) throw new LuaArgumentError(`crypto.${fn}: ${path} is not UTF-8 text; base64-encode binary data first`);
    return v.toString('utf8');
  }
  if (typeof v === 'number' && !Number.isFinite(v)) throw new LuaArgumentError(`crypto.${fn}: ${path} is ${v}, which JSON cannot represent`);
  if (typeof v === 'bigint') throw new LuaArgumentError(`crypto.${fn}: ${path} is ${v}, beyond 2^53, where JSON readers round numbers; send it as a string`);
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map((x, i) => toJsonValue(x, fn, `${path}[${i + 1}]`));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    // defineProperty keeps a "__proto__" claim an ordinary key.
    Object.defineProperty(out, k, { value: toJsonValue((v as Record<string, LuaValue>)[k], fn, `${path}.${k}`), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
