// TypeScriptToLua declarations for the `crypto` feature: the global `crypto` and
// require("crypto"). All functions are free functions, called with "." (this: void).
// Strings are byte strings: binary input and output are exact.

interface RedoxError {
  code: string;
  message: string;
}

type CryptoDecodeError = RedoxError & { code: 'invalid_base64' | 'invalid_base64url' | 'invalid_hex' };

type JwtErrorCode =
  | 'jwt_malformed' | 'jwt_bad_signature' | 'jwt_expired' | 'jwt_not_yet_valid' | 'jwt_wrong_alg' | 'jwt_claim_invalid';

interface JwtError extends RedoxError {
  code: JwtErrorCode;
  /** jwt_expired: the token's exp. */
  expired_at?: number;
  /** jwt_not_yet_valid: the token's nbf. */
  not_before?: number;
  /** jwt_wrong_alg: the alg the token names. */
  alg?: string;
  /** jwt_claim_invalid: "iss" or "aud". */
  claim?: string;
}

type JwtAlg = 'HS256' | 'HS384' | 'HS512';

interface JwtSignOptions {
  /** Default "HS256". */
  alg?: JwtAlg;
  /** Seconds from iat: sets exp. */
  expires_in?: number;
  /** Seconds from iat: sets nbf. */
  not_before?: number;
  /** Sets iss. */
  issuer?: string;
  /** Sets aud. */
  audience?: string | string[];
  /** Sets sub. */
  subject?: string;
  /** Extra header fields such as kid (alg is set by the alg option). */
  header?: { [name: string]: unknown };
}

interface JwtVerifyOptions {
  /** Accepted algorithms. Default all of HS256, HS384, HS512; "none" is never accepted. */
  algs?: JwtAlg[];
  /** Seconds of clock skew allowed on exp and nbf. Default 0. */
  leeway?: number;
  /** The iss claim must be this (or one of these). */
  issuer?: string | string[];
  /** The aud claim must contain this (or one of these). */
  audience?: string | string[];
}

/** "hex" (default) and "base64"/"base64url" give text; "binary" gives the raw digest bytes. */
type CryptoEncoding = 'hex' | 'base64' | 'base64url' | 'binary';

interface CryptoModule {
  /** Lower-case hex digests. */
  sha256(this: void, s: string): string;
  sha512(this: void, s: string): string;
  /** Not for security: only for interoperability (checksums, legacy ids). */
  sha1(this: void, s: string): string;
  /** Not for security: only for interoperability (checksums, legacy ids). */
  md5(this: void, s: string): string;
  /** Any hash Node knows (sha256, sha384, sha512, sha3-256, ...). */
  hash(this: void, alg: string, s: string, encoding?: CryptoEncoding): string;
  hmac(this: void, alg: string, key: string, msg: string, encoding?: CryptoEncoding): string;
  /** n (0 to 1048576) cryptographically random bytes. */
  random_bytes(this: void, n: number): string;
  /** n random bytes as 2n hex characters. */
  random_hex(this: void, n: number): string;
  base64_encode(this: void, s: string): string;
  base64_decode(this: void, s: string): LuaMultiReturn<[string, undefined] | [undefined, CryptoDecodeError]>;
  /** URL-safe alphabet, no padding. */
  base64url_encode(this: void, s: string): string;
  base64url_decode(this: void, s: string): LuaMultiReturn<[string, undefined] | [undefined, CryptoDecodeError]>;
  hex_encode(this: void, s: string): string;
  hex_decode(this: void, s: string): LuaMultiReturn<[string, undefined] | [undefined, CryptoDecodeError]>;
  /** Constant-time comparison of equal-length strings; false for different lengths. */
  timing_safe_equal(this: void, a: string, b: string): boolean;
  /** A signed token. iat is set to now unless the payload has one. */
  jwt_sign(this: void, payload: object, secret: string, opts?: JwtSignOptions): string;
  /** The payload of a valid token, or nil, err. */
  jwt_verify<T extends object = { [claim: string]: any }>(this: void, token: string, secret: string, opts?: JwtVerifyOptions): LuaMultiReturn<[T, undefined] | [undefined, JwtError]>;
}

declare const crypto: CryptoModule;

declare module 'crypto' {
  const crypto: CryptoModule;
  export = crypto;
}
