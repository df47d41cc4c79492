// crypto: hashes, HMAC, random bytes, base64/hex and HMAC JWTs on Node's crypto, so a service
// can do signed bearer-token auth without writing crypto in Lua. Every function takes and gives
// Lua strings byte for byte.
import { createHash, createHmac, getHashes, randomBytes, timingSafeEqual } from 'node:crypto';
import { defineFeature, LuaArgumentError, LuaFailure, LuaValue, sync } from '../../core/feature';
import { bytesArg, textArg, typeName } from './args';
import { decodeBase64, decodeHex } from './encoding';
import { jwtSign, jwtVerify } from './jwt';

const ENCODINGS = ['hex', 'base64', 'base64url', 'binary'];
/** Most random bytes one call hands out (ask again for more). */
const MAX_RANDOM = 1024 * 1024;

let hashNames: Set<string> | undefined;

function algorithm(v: LuaValue, fn: string): string {
  const alg = textArg(v, fn, 'the algorithm').toLowerCase();
  hashNames ??= new Set(getHashes().map((h) => h.toLowerCase()));
  if (!hashNames.has(alg)) throw new LuaArgumentError(`crypto.${fn}: unknown hash algorithm "${alg}" (for example sha256, sha384, sha512, sha1, md5, sha3-256)`);
  return alg;
}

/** The digest in the requested encoding: text for hex/base64, raw bytes for "binary". */
function output(digest: Buffer, v: LuaValue, fn: string): string | Buffer {
  const enc = v === undefined ? 'hex' : textArg(v, fn, 'the encoding');
  if (!ENCODINGS.includes(enc)) throw new LuaArgumentError(`crypto.${fn}: encoding must be one of ${ENCODINGS.join(', ')}, got "${enc}"`);
  return enc === 'binary' ? digest : digest.toString(enc as BufferEncoding);
}

function count(v: LuaValue, fn: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_RANDOM) {
    throw new LuaArgumentError(`crypto.${fn}: n must be an integer from 0 to ${MAX_RANDOM}, got ${typeof v === 'number' || typeof v === 'bigint' ? String(v) : typeName(v)}`);
  }
  return v;
}

const digestHex = (alg: string, fn: string) => sync((s: LuaValue) => createHash(alg).update(bytesArg(s, fn, 'the input')).digest('hex'), { bytes: true });

function decoder(fn: string, code: string, what: string, decode: (text: string) => Buffer | undefined) {
  return sync((s: LuaValue) => {
    const bytes = decode(bytesArg(s, fn, 'the input').toString('latin1'));
    return bytes ?? new LuaFailure(code, `crypto.${fn}: the input is not valid ${what}`);
  }, { bytes: true });
}

export default defineFeature({
  install: () => ({
    functions: {
      sha256: digestHex('sha256', 'sha256'),
      sha512: digestHex('sha512', 'sha512'),
      sha1: digestHex('sha1', 'sha1'),
      md5: digestHex('md5', 'md5'),
      hash: sync((alg: LuaValue, s: LuaValue, enc: LuaValue) => {
        const digest = createHash(algorithm(alg, 'hash')).update(bytesArg(s, 'hash', 'the input')).digest();
        return output(digest, enc, 'hash');
      }, { bytes: true }),
      hmac: sync((alg: LuaValue, key: LuaValue, msg: LuaValue, enc: LuaValue) => {
        const digest = createHmac(algorithm(alg, 'hmac'), bytesArg(key, 'hmac', 'the key')).update(bytesArg(msg, 'hmac', 'the message')).digest();
        return output(digest, enc, 'hmac');
      }, { bytes: true }),
      random_bytes: sync((n: LuaValue) => randomBytes(count(n, 'random_bytes'))),
      random_hex: sync((n: LuaValue) => randomBytes(count(n, 'random_hex')).toString('hex')),
      base64_encode: sync((s: LuaValue) => bytesArg(s, 'base64_encode', 'the input').toString('base64'), { bytes: true }),
      base64_decode: decoder('base64_decode', 'invalid_base64', 'base64 (A-Z a-z 0-9 + /, optional = padding, no whitespace)', (t) => decodeBase64(t, 'base64')),
      base64url_encode: sync((s: LuaValue) => bytesArg(s, 'base64url_encode', 'the input').toString('base64url'), { bytes: true }),
      base64url_decode: decoder('base64url_decode', 'invalid_base64url', 'base64url (A-Z a-z 0-9 - _, optional = padding)', (t) => decodeBase64(t, 'base64url')),
      hex_encode: sync((s: LuaValue) => bytesArg(s, 'hex_encode', 'the input').toString('hex'), { bytes: true }),
      hex_decode: decoder('hex_decode', 'invalid_hex', 'hex (pairs of 0-9 a-f A-F)', decodeHex),
      timing_safe_equal: sync((a: LuaValue, b: LuaValue) => {
        const x = bytesArg(a, 'timing_safe_equal', 'the first argument');
        const y = bytesArg(b, 'timing_safe_equal', 'the second argument');
        // Lengths are not secret; only equal-length contents are compared in constant time.
        return x.length === y.length && timingSafeEqual(x, y);
      }, { bytes: true }),
      jwt_sign: sync(jwtSign, { bytes: true }),
      jwt_verify: sync(jwtVerify, { bytes: true }),
    },
  }),
});
