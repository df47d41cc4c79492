// One VM's HTTP client: pooled keep-alive connections (an undici Agent), a total deadline per
// call, redirects, a size cap on what is read, and the outbound policy on every hop.
import type { IncomingHttpHeaders } from 'node:http';
import { promisify } from 'node:util';
import type zlib from 'node:zlib';
import type { Agent, Dispatcher } from 'undici';

// undici is a large library: load it on the first outbound call, not at process start (it was
// most of a binary's cold start). A static require keeps it visible to the bundler.
let undici: typeof import('undici') | undefined;
const loadUndici = () => (undici ??= require('undici') as typeof import('undici'));
import { LuaFailure } from '../../core/feature';
import { Attempt, classify, failure } from './failures';
import { addressRefusal, bareHost, BlockedError, guardedLookup, hostRefusal, Policy } from './policy';

export interface OutboundRequest {
  method: string;
  url: string;
  /** Lower-case name, value (latin1: one char per byte, as HTTP sends them). */
  headers: [string, string][];
  /** Already percent-encoded name=value pairs, appended to the URL's query. */
  query: [string, string][];
  body: Buffer | undefined;
  timeoutMs: number;
  connectTimeoutMs: number;
  maxSize: number;
  /** undefined: follow for GET and HEAD only. */
  followRedirects: boolean | undefined;
  maxRedirects: number;
  decompress: boolean;
}

// A type, not an interface, so it is assignable to LuaValue (plain data for Lua).
export type InboundResponse = {
  status: number;
  /** Lower-case names; raw bytes; set-cookie is always a list. */
  headers: Record<string, Buffer | Buffer[]>;
  body: Buffer;
  url: string;
};

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const BODY_HEADERS = new Set(['content-type', 'content-length', 'content-encoding', 'transfer-encoding']);
// Sent to the first origin only: a redirect must not hand credentials to another host.
const ORIGIN_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'host']);

type Decoder = (buf: Buffer, opts: zlib.ZlibOptions | zlib.BrotliOptions) => Promise<Buffer>;
// node:zlib is required on the first compressed response, not at every start; each decoder is
// made once, on its first use.
let zlibModule: typeof zlib | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const z = () => (zlibModule ??= require('node:zlib') as typeof zlib);
function lazyDecoder(name: 'gunzip' | 'inflate' | 'inflateRaw' | 'brotliDecompress'): Decoder {
  let made: Decoder | undefined;
  return (buf, opts) => (made ??= promisify(z()[name]) as Decoder)(buf, opts);
}
const gunzip = lazyDecoder('gunzip');
const inflate = lazyDecoder('inflate');
const inflateRaw = lazyDecoder('inflateRaw');
// A Map: a content-encoding such as "constructor" must not find Object.prototype's.
const DECODERS = new Map<string, Decoder>([
  ['gzip', gunzip],
  ['x-gzip', gunzip],
  // "deflate" means zlib-wrapped, but some servers send it raw.
  ['deflate', (buf, opts) => inflate(buf, opts).catch((err: { code?: string }) => {
    if (err.code === 'ERR_BUFFER_TOO_LARGE') throw err;
    return inflateRaw(buf, opts);
  })],
  ['br', lazyDecoder('brotliDecompress')],
]);
export const ACCEPT_ENCODING = 'gzip, deflate, br';

class TooLarge {
  constructor(readonly size: number | undefined) {}
}

export class Client {
  // One pool per connect timeout: the timeout is a property of the connector, so a call that
  // overrides it gets its own pool (most apps only ever use the default one).
  private readonly agents = new Map<number, Agent>();

  constructor(private readonly policy: Policy) {}

  private agent(connectTimeoutMs: number): Agent {
    let agent = this.agents.get(connectTimeoutMs);
    if (agent) return agent;
    const policy = this.policy;
    const { Agent, buildConnector } = loadUndici();
    const connector = buildConnector({ timeout: connectTimeoutMs, lookup: guardedLookup(policy) });
    agent = new Agent({
      connect: (opts, callback) => {
        // net.connect skips the lookup for IP literals, so those are checked here.
        const refusal = addressRefusal(policy, bareHost(opts.hostname), opts.hostname);
        if (refusal) return callback(new BlockedError(refusal), null);
        connector(opts, callback);
      },
    });
    this.agents.set(connectTimeoutMs, agent);
    return agent;
  }

  async send(req: OutboundRequest): Promise<InboundResponse | LuaFailure> {
    const attempt: Attempt = { method: req.method, url: req.url, timeoutMs: req.timeoutMs, connectTimeoutMs: req.connectTimeoutMs, timedOut: false };
    const url = parseUrl(req.url);
    if (typeof url === 'string') return failure('invalid_url', url, attempt);
    if (req.query.length > 0) {
      const extra = req.query.map(([k, v]) => `${k}=${v}`).join('&');
      url.search = url.search.length > 1 ? `${url.search}&${extra}` : extra;
    }
    attempt.url = url.href;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      attempt.timedOut = true;
      controller.abort();
    }, req.timeoutMs);
    try {
      return await this.follow(url, req, attempt, controller.signal);
    } catch (err) {
      return classify(err, attempt);
    } finally {
      clearTimeout(timer);
    }
  }

  private async follow(url: URL, req: OutboundRequest, attempt: Attempt, signal: AbortSignal): Promise<InboundResponse | LuaFailure> {
    let { method, body, headers } = req;
    const follow = req.followRedirects ?? (method === 'GET' || method === 'HEAD');
    const agent = this.agent(req.connectTimeoutMs);
    for (let hops = 0; ; hops++) {
      attempt.url = url.href;
      attempt.method = method;
      const refusal = hostRefusal(this.policy, url.hostname);
      if (refusal) return failure('blocked', `${method} ${url.href} refused: ${refusal}`, attempt);
      const res = await agent.request({
        origin: url.origin, path: url.pathname + url.search, method, body, signal,
        headers: wireHeaders(headers, url), headersTimeout: req.timeoutMs, bodyTimeout: req.timeoutMs,
      });
      const location = res.headers.location;
      if (follow && REDIRECTS.has(res.statusCode) && typeof location === 'string') {
        await res.body.dump();
        if (hops >= req.maxRedirects) {
          return failure('too_many_redirects', `${req.method} ${req.url}: more than ${req.maxRedirects} redirects (max_redirects); the last one pointed to ${location}`, attempt);
        }
        const next = parseUrl(location, url);
        if (typeof next === 'string') return failure('invalid_url', `${method} ${url.href} redirected to an unusable location: ${next}`, attempt);
        if (res.statusCode === 303 ? method !== 'HEAD' : (res.statusCode === 301 || res.statusCode === 302) && method === 'POST') {
          // What browsers and every mature client do: the follow-up is a GET without the body.
          method = 'GET';
          body = undefined;
          headers = headers.filter(([name]) => !BODY_HEADERS.has(name));
        }
        if (next.origin !== url.origin) headers = headers.filter(([name]) => !ORIGIN_HEADERS.has(name));
        url = next;
        continue;
      }
      const data = await readBody(res, req.maxSize, req.decompress && method !== 'HEAD');
      if (data instanceof TooLarge) {
        const got = data.size === undefined ? 'more than that' : `${data.size} bytes`;
        return failure('response_too_large', `${method} ${url.href}: the response body is larger than max_size (${req.maxSize} bytes; got ${got}); raise max_size= if this is expected`, attempt);
      }
      return { status: res.statusCode, headers: luaHeaders(res.headers), body: data, url: url.href };
    }
  }

  /** Closes every pooled connection; in-flight requests fail (their VM is going away). */
  async close(): Promise<void> {
    const agents = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(agents.map((a) => a.destroy().catch(() => undefined)));
  }
}

/** A URL this client can fetch, or the reason it cannot. */
function parseUrl(text: string, base?: URL): URL | string {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    return `"${text}" is not a valid URL; use an absolute http:// or https:// URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `"${text}" uses ${url.protocol}; only http:// and https:// URLs can be requested`;
  }
  if (url.hostname === '') return `"${text}" has no host`;
  return url;
}

/** Flat name, value list for undici; credentials in the URL become basic auth. */
function wireHeaders(headers: [string, string][], url: URL): string[] {
  const out: string[] = [];
  for (const [name, value] of headers) out.push(name, value);
  if (url.username !== '' && !headers.some(([name]) => name === 'authorization')) {
    const creds = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    out.push('authorization', `Basic ${Buffer.from(creds).toString('base64')}`);
  }
  return out;
}

async function readBody(res: Dispatcher.ResponseData, maxSize: number, decompress: boolean): Promise<Buffer | TooLarge> {
  const declared = Number(res.headers['content-length']);
  if (declared > maxSize) {
    res.body.on('error', () => undefined); // destroying it reports an abort nobody needs
    res.body.destroy();
    return new TooLarge(declared);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.length;
    // Returning here ends the loop, which destroys the stream: nothing more is read.
    if (size > maxSize) return new TooLarge(undefined);
    chunks.push(chunk);
  }
  // undici marks the connection idle a tick after the body ends; without this wait, a Lua
  // handler's next call to the same host would open a second connection instead of reusing it.
  await new Promise((resolve) => setImmediate(resolve));
  const raw = Buffer.concat(chunks, size);
  const encoding = String(res.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decode = decompress && raw.length > 0 ? DECODERS.get(encoding) : undefined;
  if (!decode) return raw;
  try {
    const decoded = await decode(raw, { maxOutputLength: Math.max(1, maxSize) });
    return decoded.length > maxSize ? new TooLarge(decoded.length) : decoded;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return new TooLarge(undefined);
    throw Object.assign(new Error(`the ${encoding} response body could not be decompressed (${(err as Error).message}); pass decompress=false to get the raw bytes`), { code: 'REDOX_DECODE' });
  }
}

function luaHeaders(headers: IncomingHttpHeaders): Record<string, Buffer | Buffer[]> {
  const out: Record<string, Buffer | Buffer[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    // undici decoded the bytes as latin1; this gives Lua the bytes as they came.
    if (name === 'set-cookie') out[name] = (Array.isArray(value) ? value : [value]).map((v) => Buffer.from(v, 'latin1'));
    else out[name] = Buffer.from(Array.isArray(value) ? value.join(', ') : value, 'latin1');
  }
  return out;
}
