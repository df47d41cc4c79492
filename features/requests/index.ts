// requests: outbound HTTP from Lua on undici. Calls read as blocking in Lua, but each one only
// suspends its own request coroutine, so hundreds can wait on upstreams at once. Connections
// are pooled per VM and closed with it.
import { async, defineFeature, FeatureContext, LuaArgumentError, parseDuration, parseSize } from '../../core/feature';
import { ACCEPT_ENCODING, Client, OutboundRequest } from './client';
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

interface Settings {
  timeout?: number;
  connect_timeout?: number;
  max_size?: number;
  follow_redirects?: boolean;
  max_redirects?: number;
  decompress?: boolean;
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

function pairsOf(flat: unknown, what: string): [Buffer, Buffer][] {
  // An empty Lua table arrives as {}; a filled one as [name, value, ...].
  if (!Array.isArray(flat)) return [];
  const out: [Buffer, Buffer][] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const [k, v] = [flat[i], flat[i + 1]];
    if (!Buffer.isBuffer(k) || !Buffer.isBuffer(v)) throw new LuaArgumentError(`requests: ${what} names and values must be strings`);
    out.push([k, v]);
  }
  return out;
}

const seconds = (s: number | undefined, fallback: number) => (s === undefined ? fallback : Math.min(Math.max(1, Math.round(s * 1000)), MAX_TIMER_MS));

/** The host side of one call, from the arguments the Lua wrapper checked. */
function toRequest(args: unknown[], defaults: Defaults): OutboundRequest {
  const [method, url, headers, query, body, settings = {}] = args as [Buffer, Buffer, unknown, unknown, Buffer | undefined, Settings];
  if (!Buffer.isBuffer(method) || !Buffer.isBuffer(url)) throw new LuaArgumentError('requests: method and url must be strings');
  const decompress = settings.decompress ?? true;
  const headerList = pairsOf(headers, 'header').map(([k, v]): [string, string] => [k.toString('latin1').toLowerCase(), v.toString('latin1')]);
  if (!headerList.some(([k]) => k === 'user-agent')) headerList.push(['user-agent', 'redox']);
  if (decompress && !headerList.some(([k]) => k === 'accept-encoding')) headerList.push(['accept-encoding', ACCEPT_ENCODING]);
  return {
    method: method.toString('latin1'),
    url: url.toString('utf8'),
    headers: headerList,
    query: pairsOf(query, 'query').map(([k, v]) => [percentEncode(k), percentEncode(v)]),
    body,
    timeoutMs: seconds(settings.timeout, defaults.timeoutMs),
    connectTimeoutMs: seconds(settings.connect_timeout, defaults.connectTimeoutMs),
    maxSize: settings.max_size ?? defaults.maxSize,
    followRedirects: settings.follow_redirects,
    maxRedirects: settings.max_redirects ?? defaults.maxRedirects,
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
        send: async((...args: unknown[]) => client.send(toRequest(args, defaults)), { bytes: true, name: 'requests' }),
      },
      lua: REQUESTS_LUA,
      cleanup: () => client.close(),
    };
  },
});
