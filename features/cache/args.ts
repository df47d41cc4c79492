// Argument handling for the cache host functions. A caller's mistake raises at the caller's
// line (core skips the frames of cache's Lua side).
import { LuaArgumentError, LuaFloat, LuaValue } from '../../core/feature';

/** A caller's mistake: raised as a Lua error at the app's line. */
export function misuse(message: string): never {
  throw new LuaArgumentError(message);
}

/** A number argument (read with `floats: true`) as a JS number, and whether Lua had a float. */
export function numberOf(v: LuaValue): { n: number | bigint; float: boolean } | undefined {
  if (v instanceof LuaFloat) return { n: v.value, float: true };
  if (typeof v === 'number') return { n: v, float: !Number.isInteger(v) };
  if (typeof v === 'bigint') return { n: v, float: false };
  return undefined;
}

/** The Map key: strings byte for byte (latin1 keeps every byte distinct), numbers as JS prints them. */
export function keyOf(k: LuaValue): string | undefined {
  if (Buffer.isBuffer(k)) return k.toString('latin1');
  if (typeof k === 'number' || typeof k === 'bigint') return String(k);
  if (k instanceof LuaFloat) return String(k.value);
  return undefined;
}

export function typeName(v: LuaValue): string {
  if (v === undefined || v === null) return 'nil';
  if (Buffer.isBuffer(v)) return 'string';
  if (typeof v === 'bigint' || v instanceof LuaFloat) return 'number';
  return typeof v === 'object' ? 'table' : typeof v;
}

/** The expiry deadline for a TTL in seconds (nil or 0: never), or undefined when invalid. */
export function deadline(ttl: LuaValue): number | undefined {
  if (ttl instanceof LuaFloat) ttl = ttl.value;
  if (ttl === undefined || ttl === 0) return 0;
  if (typeof ttl !== 'number' || !(ttl > 0)) return undefined;
  return ttl === Infinity ? 0 : performance.now() + ttl * 1000;
}

export function limitOf(v: LuaValue, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    misuse(`cache.new: ${name} must be a positive integer, got ${typeName(v) === 'number' ? v : typeName(v)}`);
  }
  return v;
}

/** Integer addition with Lua's semantics (64-bit, wrapping), exact beyond 2^53. */
export function addIntegers(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    if (Number.isSafeInteger(sum)) return sum;
  }
  const exact = BigInt.asIntN(64, BigInt(a) + BigInt(b));
  return exact >= -9007199254740991n && exact <= 9007199254740991n ? Number(exact) : exact;
}
