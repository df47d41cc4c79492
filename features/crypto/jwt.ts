// JSON Web Tokens with HMAC (RFC 7519, algorithms HS256/HS384/HS512 of RFC 7518). A bad token
// is an expected failure (nil, err with a jwt_* code); a bad call (wrong types, unknown options)
// raises.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { LuaArgumentError, LuaFailure, LuaValue } from '../../core/feature';
import { bytesArg, optionsArg, toJsonValue, typeName } from './args';
import { decodeBase64 } from './encoding';

const ALGS: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
const SIGN_OPTIONS = ['alg', 'expires_in', 'not_before', 'issuer', 'audience', 'subject', 'header'];
const VERIFY_OPTIONS = ['algs', 'leeway', 'issuer', 'audience'];

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

function secretArg(v: LuaValue, fn: string): Buffer {
  const secret = bytesArg(v, fn, 'the secret');
  if (secret.length === 0) throw new LuaArgumentError(`crypto.${fn}: the secret is empty; use a long random secret (e.g. crypto.random_bytes(32))`);
  return secret;
}

function algArg(v: LuaValue, fn: string): string {
  const alg = Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
  if (alg === undefined || !(alg in ALGS)) {
    throw new LuaArgumentError(`crypto.${fn}: alg must be one of ${Object.keys(ALGS).join(', ')}, got ${alg ?? typeName(v)}`);
  }
  return alg;
}

function numberOption(v: LuaValue, fn: string, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new LuaArgumentError(`crypto.${fn}: ${name} must be a number of seconds, got ${typeName(v)}`);
  return v;
}

/** A string or a list of strings (issuer, audience). */
function namesOption(v: LuaValue, fn: string, name: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (Buffer.isBuffer(v)) return [v.toString('utf8')];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => Buffer.isBuffer(x))) return v.map((x) => (x as Buffer).toString('utf8'));
  throw new LuaArgumentError(`crypto.${fn}: ${name} must be a string or a list of strings, got ${typeName(v)}`);
}

function signature(alg: string, secret: Buffer, signingInput: string): Buffer {
  return createHmac(ALGS[alg], secret).update(signingInput).digest();
}

export function jwtSign(payloadArg: LuaValue, secretValue: LuaValue, optionsValue: LuaValue): string {
  const fn = 'jwt_sign';
  if (typeof payloadArg !== 'object' || payloadArg === null || Buffer.isBuffer(payloadArg) || Array.isArray(payloadArg)) {
    throw new LuaArgumentError(`crypto.${fn}: the payload must be a table of claims, got ${Array.isArray(payloadArg) ? 'a list' : typeName(payloadArg)}`);
  }
  const secret = secretArg(secretValue, fn);
  const opts = optionsArg(optionsValue, fn, SIGN_OPTIONS);
  const alg = opts.alg === undefined ? 'HS256' : algArg(opts.alg, fn);
  const payload = toJsonValue(payloadArg, fn, 'payload') as Record<string, unknown>;

  const claim = (name: string, option: string, value: unknown) => {
    if (value === undefined) return;
    if (payload[name] !== undefined) throw new LuaArgumentError(`crypto.${fn}: the payload already has "${name}"; drop it or the ${option} option`);
    payload[name] = value;
  };
  if (payload.iat === undefined) payload.iat = nowSeconds();
  const iat = payload.iat;
  if (typeof iat !== 'number') throw new LuaArgumentError(`crypto.${fn}: payload.iat must be a number of seconds since the epoch, got ${typeof iat}`);
  const expiresIn = numberOption(opts.expires_in, fn, 'expires_in');
  const notBefore = numberOption(opts.not_before, fn, 'not_before');
  claim('exp', 'expires_in', expiresIn === undefined ? undefined : Math.floor(iat + expiresIn));
  claim('nbf', 'not_before', notBefore === undefined ? undefined : Math.floor(iat + notBefore));
  const issuer = namesOption(opts.issuer, fn, 'issuer');
  if (issuer && issuer.length !== 1) throw new LuaArgumentError(`crypto.${fn}: issuer must be one string`);
  claim('iss', 'issuer', issuer?.[0]);
  const audience = namesOption(opts.audience, fn, 'audience');
  claim('aud', 'audience', audience === undefined ? undefined : audience.length === 1 && Buffer.isBuffer(opts.audience) ? audience[0] : audience);
  if (opts.subject !== undefined) claim('sub', 'subject', bytesArg(opts.subject, fn, 'subject').toString('utf8'));

  let extra: Record<string, unknown> = {};
  const h = opts.header;
  if (h !== undefined) {
    if (typeof h !== 'object' || h === null || Buffer.isBuffer(h) || Array.isArray(h)) {
      throw new LuaArgumentError(`crypto.${fn}: header must be a table of extra header fields like {kid="k1"}, got ${typeName(h)}`);
    }
    extra = toJsonValue(h, fn, 'header') as Record<string, unknown>;
    if ('alg' in extra) throw new LuaArgumentError(`crypto.${fn}: set the algorithm with the alg option, not in header`);
  }
  const header = { alg, typ: 'JWT', ...extra };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${signingInput}.${b64url(signature(alg, secret, signingInput))}`;
}

const fail = (code: string, message: string, details?: Record<string, LuaValue>) => new LuaFailure(code, message, details);

function parseJsonObject(part: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64(part, 'base64url');
  if (bytes === undefined) return undefined;
  try {
    const v = JSON.parse(bytes.toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function jwtVerify(tokenValue: LuaValue, secretValue: LuaValue, optionsValue: LuaValue): LuaValue {
  const fn = 'jwt_verify';
  const token = bytesArg(tokenValue, fn, 'the token').toString('latin1');
  const secret = secretArg(secretValue, fn);
  const opts = optionsArg(optionsValue, fn, VERIFY_OPTIONS);
  let allowed = Object.keys(ALGS);
  if (opts.algs !== undefined) {
    if (!Array.isArray(opts.algs) || opts.algs.length === 0) throw new LuaArgumentError(`crypto.${fn}: algs must be a list like {"HS256"}, got ${typeName(opts.algs)}`);
    allowed = opts.algs.map((a) => algArg(a, fn));
  }
  const leeway = numberOption(opts.leeway, fn, 'leeway') ?? 0;
  if (leeway < 0) throw new LuaArgumentError(`crypto.${fn}: leeway must be >= 0 seconds`);
  const issuers = namesOption(opts.issuer, fn, 'issuer');
  const audiences = namesOption(opts.audience, fn, 'audience');

  const parts = token.split('.');
  if (parts.length !== 3) return fail('jwt_malformed', `a JWT has three dot-separated parts, this one has ${parts.length}`);
  const header = parseJsonObject(parts[0]);
  if (header === undefined || typeof header.alg !== 'string') return fail('jwt_malformed', 'the JWT header is not base64url-encoded JSON with an "alg"');
  if (!allowed.includes(header.alg)) {
    return fail('jwt_wrong_alg', `the token is signed with "${header.alg}", which is not allowed (allowed: ${allowed.join(', ')})`, { alg: header.alg });
  }
  const given = decodeBase64(parts[2], 'base64url');
  if (given === undefined) return fail('jwt_malformed', 'the JWT signature is not base64url');
  const expected = signature(header.alg, secret, `${parts[0]}.${parts[1]}`);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return fail('jwt_bad_signature', 'the token signature does not match: it was altered or signed with another secret');
  }
  const payload = parseJsonObject(parts[1]);
  if (payload === undefined) return fail('jwt_malformed', 'the JWT payload is not base64url-encoded JSON object');

  const now = nowSeconds();
  const { exp, nbf } = payload;
  if (exp !== undefined && typeof exp !== 'number') return fail('jwt_malformed', 'the "exp" claim is not a number');
  if (nbf !== undefined && typeof nbf !== 'number') return fail('jwt_malformed', 'the "nbf" claim is not a number');
  if (typeof exp === 'number' && now >= exp + leeway) {
    return fail('jwt_expired', `the token expired ${now - exp} s ago; sign in again for a new one`, { expired_at: exp });
  }
  if (typeof nbf === 'number' && now + leeway < nbf) {
    return fail('jwt_not_yet_valid', `the token is valid only in ${nbf - now} s`, { not_before: nbf });
  }
  if (issuers && !(typeof payload.iss === 'string' && issuers.includes(payload.iss))) {
    return fail('jwt_claim_invalid', `the token issuer ${JSON.stringify(payload.iss ?? null)} is not ${issuers.join(' or ')}`, { claim: 'iss' });
  }
  if (audiences) {
    const aud = payload.aud;
    const theirs = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
    if (!theirs.some((a) => audiences.includes(a))) {
      return fail('jwt_claim_invalid', `the token audience ${JSON.stringify(aud ?? null)} does not include ${audiences.join(' or ')}`, { claim: 'aud' });
    }
  }
  return payload as LuaValue;
}
