// requests: outbound HTTP from Lua on undici. Calls read as blocking in Lua, but each one only
// suspends its own request coroutine, so hundreds can wait on upstreams at once. Connections
// are pooled per VM and closed with it.
import { async, defineFeature, FeatureContext, LuaValue, parseDuration, parseSize } from '../../core/feature';
import { ACCEPT_ENCODING, Client, OutboundRequest } from './client';
import { CheckedCall, checkCall } from './options';
import { policyFromEnv } from './policy';
import { REQUESTS_LUA } from './requests.lua';

export const DEFAULTS = { timeoutMs: 30_000, connectTimeoutMs: 10_000, maxSize: 10 * 1024 * 1024, maxRedirects: 5 };
const MAX_TIMER_MS = 2_147_483_647; // setTimeout's limit

type Defaults = typeof DEFAULTS;

function defaultsFromEnv(env: FeatureContext['env']): Defaults {
  const read = (name: string, kind: 'ms' | 'bytes', fallback: number, min: number): number => {
    const text = env(name);
    if (text === undefined || text.trim() === '') return fallback;
    const value = kind === 'ms' ? parseDuration(text, name) : parseSize(text, name);
    if (value < min) throw new Error(`${name} must be at least ${min}${kind === 'ms' ? ' ms' : ' bytes'}, got "${text}"`);
    return value;
  };
  return {
    timeoutMs: read('REDOX_REQUESTS_TIMEOUT', 'ms', DEFAULTS.timeoutMs, 1),
    connectTimeoutMs: read('REDOX_REQUESTS_CONNECT_TIMEOUT', 'ms', DEFAULTS.connectTimeoutMs, 1),
    maxSize: read('REDOX_REQUESTS_MAX_SIZE', 'bytes', DEFAULTS.maxSize, 0),
    maxRedirects: DEFAULTS.maxRedirects,
  };
}

/** Bytes as %XX except RFC 3986 unreserved characters: exact for any Lua string. */
function percentEncode(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const seconds = (s: number | undefined, fallback: number) => (s === undefined ? fallback : Math.min(Math.max(1, Math.round(s * 1000)), MAX_TIMER_MS));

/** The host side of one call, from the arguments checkCall accepted. */
function toRequest(call: CheckedCall, defaults: Defaults): OutboundRequest {
  const decompress = call.decompress ?? true;
  const headerList = call.headers.map(([k, v]): [string, string] => [k, v.toString('latin1')]);
  if (!headerList.some(([k]) => k === 'user-agent')) headerList.push(['user-agent', 'redox']);
  if (decompress && !headerList.some(([k]) => k === 'accept-encoding')) headerList.push(['accept-encoding', ACCEPT_ENCODING]);
  return {
    method: call.method,
    url: call.url.toString('utf8'),
    headers: headerList,
    query: call.query.map(([k, v]) => [percentEncode(k), percentEncode(v)]),
    body: call.body,
    timeoutMs: seconds(call.timeout, defaults.timeoutMs),
    connectTimeoutMs: seconds(call.connect_timeout, defaults.connectTimeoutMs),
    maxSize: call.max_size ?? defaults.maxSize,
    followRedirects: call.follow_redirects,
    maxRedirects: call.max_redirects ?? defaults.maxRedirects,
    decompress,
  };
}

export default defineFeature({
  install(ctx) {
    const defaults = defaultsFromEnv(ctx.env);
    const client = new Client(policyFromEnv(ctx.env));
    return {
      functions: {
        // bytes: bodies and header values are byte strings, not text.
        // send(fn, method, url, opts), or send("requests.request", nil, nil, spec).
        send: async((fn: LuaValue, method: LuaValue, url: LuaValue, opts: LuaValue) =>
          client.send(toRequest(checkCall(String(fn), method, url, opts), defaults)), { bytes: true, textArgs: 1, name: 'requests' }),
      },
      lua: REQUESTS_LUA,
      cleanup: () => client.close(),
    };
  },
});
