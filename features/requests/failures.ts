// Turning what undici and Node throw into the codes Lua sees as `nil, err`. One table, so the
// README's list of codes and the code cannot drift apart silently.
import { LuaArgumentError, LuaFailure } from '../../core/feature';
import { BlockedError } from './policy';

export const CODES = [
  'timeout', 'connect_timeout', 'connection_refused', 'dns', 'tls', 'network',
  'response_too_large', 'too_many_redirects', 'invalid_url', 'blocked',
] as const;
export type Code = (typeof CODES)[number];

/** What the request was, for messages and the err table. */
export interface Attempt {
  method: string;
  url: string;
  timeoutMs: number;
  connectTimeoutMs: number;
  /** True when our total-timeout timer fired (the abort error itself says little). */
  timedOut: boolean;
}

export function failure(code: Code, message: string, attempt: Pick<Attempt, 'method' | 'url'>, extra: Record<string, string> = {}): LuaFailure {
  return new LuaFailure(code, message, { method: attempt.method, url: attempt.url, ...extra });
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_SIGNATURE_FAILURE', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

type Coded = Error & { code?: string; library?: string; reason?: string; errors?: unknown[]; cause?: unknown };

/** The innermost error that carries a code (AggregateError from happy eyeballs, undici causes). */
function rootError(err: unknown): Coded {
  let e = err as Coded;
  for (let i = 0; i < 5; i++) {
    if (e.code && e.code !== 'UND_ERR_SOCKET' && !(e as Coded).errors) return e;
    const next = Array.isArray(e.errors) && e.errors.length > 0 ? e.errors[0] : e.cause;
    if (!(next instanceof Error)) return e;
    e = next as Coded;
  }
  return e;
}

/** Maps an error from one attempt to `nil, err`; programming errors are thrown instead. */
export function classify(err: unknown, attempt: Attempt): LuaFailure {
  const { method, url } = attempt;
  const target = `${method} ${url}`;
  if (attempt.timedOut) {
    return failure('timeout', `${target} did not finish within ${seconds(attempt.timeoutMs)} (timeout); raise timeout= if the upstream is slow`, attempt);
  }
  if (!(err instanceof Error)) return failure('network', `${target} failed: ${String(err)}`, attempt);
  if (err instanceof BlockedError) return failure('blocked', `${target} refused: ${err.message}`, attempt);
  const root = rootError(err);
  if (root instanceof BlockedError) return failure('blocked', `${target} refused: ${root.message}`, attempt);
  const code = root.code ?? '';
  const cause = { cause: code || root.name };
  if (code === 'UND_ERR_INVALID_ARG' || code === 'ERR_INVALID_ARG_TYPE' || code === 'ERR_INVALID_ARG_VALUE' || code === 'ERR_INVALID_CHAR') {
    throw new LuaArgumentError(`requests: invalid request: ${root.message}`);
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return failure('connect_timeout', `${target}: no connection within ${seconds(attempt.connectTimeoutMs)} (connect_timeout); is the host reachable?`, attempt, cause);
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return failure('timeout', `${target} did not finish within ${seconds(attempt.timeoutMs)} (timeout); raise timeout= if the upstream is slow`, attempt, cause);
  }
  if (code === 'ECONNREFUSED') {
    return failure('connection_refused', `${target}: connection refused (${root.message}); is the upstream running on that port?`, attempt, cause);
  }
  if (DNS_CODES.has(code)) {
    return failure('dns', `${target}: host name not found (${root.message}); check the URL's host`, attempt, cause);
  }
  if (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || root.library === 'SSL routines') {
    // OpenSSL errors carry a short `reason`; their message is a dump of internals.
    return failure('tls', `${target}: TLS failed (${root.reason ?? root.message.trim()})`, attempt, cause);
  }
  return failure('network', `${target} failed: ${root.message}`, attempt, cause);
}

export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
