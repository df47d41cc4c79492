// redis.connect's argument -> ioredis options. Seconds in Lua, milliseconds here.
import type { RedisOptions } from 'ioredis';
import { LuaArgumentError, LuaValue } from '../../core/feature';

export const DEFAULTS = { timeout: 5, connectTimeout: 10, maxBackoff: 2 };

const KEYS: Record<string, 'string' | 'port' | 'index' | 'seconds' | 'boolean'> = {
  url: 'string', host: 'string', port: 'port', username: 'string', password: 'string', db: 'index',
  timeout: 'seconds', connect_timeout: 'seconds', max_backoff: 'seconds', tls: 'boolean',
};
const KEY_LIST = Object.keys(KEYS).join(', ');

export interface Settings {
  url?: string;
  options: RedisOptions;
  /** host:port/db, for messages (never the password). */
  target: string;
  /** Identity of the settings: connect() with the same ones shares the client. */
  key: string;
  timeoutSeconds: number;
}

function check(name: string, v: unknown): void {
  const kind = KEYS[name];
  if (kind === undefined) throw new LuaArgumentError(`redis.connect: unknown option '${name}' (options: ${KEY_LIST})`);
  const bad = (want: string) => new LuaArgumentError(`redis.connect: ${name} must be ${want}, got ${typeof v === 'string' ? `"${v}"` : typeof v}`);
  if (kind === 'string' && typeof v !== 'string') throw bad('a string');
  if (kind === 'boolean' && typeof v !== 'boolean') throw bad('a boolean');
  if (kind === 'port' && !(Number.isInteger(v) && (v as number) > 0 && (v as number) < 65536)) throw bad('a port number (1-65535)');
  if (kind === 'index' && !(Number.isInteger(v) && (v as number) >= 0)) throw bad('a database index >= 0');
  if (kind === 'seconds' && !(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw bad('a number of seconds > 0');
}

function parseUrl(url: string): { host: string; port: string; db: string; tls: boolean } {
  try {
    const u = new URL(url);
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error('scheme');
    return { host: u.hostname || 'localhost', port: u.port || '6379', db: u.pathname.slice(1) || '0', tls: u.protocol === 'rediss:' };
  } catch {
    throw new LuaArgumentError(`redis.connect: "${url.replace(/:[^:@/]*@/, ':***@')}" is not a redis URL; ` +
      'use redis://[user:password@]host:6379[/db] (rediss:// for TLS) or a table of options');
  }
}

/** Reads connect(url) / connect(url, opts) / connect(opts). */
export function readSettings(first: LuaValue, second: LuaValue): Settings {
  let opts: Record<string, unknown> = {};
  if (typeof first === 'string') opts.url = first;
  else if (first !== null && typeof first === 'object' && !Array.isArray(first) && !(first instanceof Uint8Array)) opts = { ...first };
  else if (first !== undefined || second === undefined) {
    throw new LuaArgumentError(`redis.connect: expected a URL like redis://host:6379 or a table of options, got ${first === undefined ? 'nil' : typeof first}`);
  }
  if (second !== undefined) {
    if (second === null || typeof second !== 'object' || Array.isArray(second)) throw new LuaArgumentError('redis.connect: the second argument must be a table of options');
    opts = { ...opts, ...second };
  }
  for (const [k, v] of Object.entries(opts)) check(k, v);

  const ms = (name: string, fallback: number) => Math.round(((opts[name] as number | undefined) ?? fallback) * 1000);
  const maxBackoff = ms('max_backoff', DEFAULTS.maxBackoff);
  const options: RedisOptions = {
    commandTimeout: ms('timeout', DEFAULTS.timeout),
    connectTimeout: ms('connect_timeout', DEFAULTS.connectTimeout),
    // Commands fail (nil, err) at once while disconnected instead of piling up: a queued
    // command is flushed with an error at each failed reconnect attempt.
    maxRetriesPerRequest: 0,
    // Reconnect forever, backing off 50 ms, 100 ms, ... up to max_backoff.
    retryStrategy: (times: number) => Math.min(times * 50, maxBackoff),
    lazyConnect: false,
    connectionName: 'redox', // shown by CLIENT LIST
  };
  let host = 'localhost';
  let port = '6379';
  let db = '0';
  if (typeof opts.url === 'string') ({ host, port, db } = parseUrl(opts.url));
  if (opts.host !== undefined) options.host = host = opts.host as string;
  if (opts.port !== undefined) options.port = Number((port = String(opts.port)));
  if (opts.db !== undefined) options.db = Number((db = String(opts.db)));
  if (opts.username !== undefined) options.username = opts.username as string;
  if (opts.password !== undefined) options.password = opts.password as string;
  if (opts.tls === true) options.tls = {};
  return {
    url: opts.url as string | undefined,
    options,
    target: `${host}:${port}/${db}`,
    key: JSON.stringify(Object.entries(opts).sort(([a], [b]) => (a < b ? -1 : 1))),
    timeoutSeconds: (options.commandTimeout ?? 0) / 1000,
  };
}

const SET_FLAGS: Record<string, string> = { nx: 'NX', xx: 'XX', keepttl: 'KEEPTTL', get: 'GET' };
const SET_TIMES: Record<string, string> = { ex: 'EX', px: 'PX', exat: 'EXAT', pxat: 'PXAT' };

/** r:set's options -> the command's extra arguments: {ex=60, nx=true} -> ["EX", 60, "NX"].
 *  A whole float (60.0) counts: the marshaller hands it over as 60. */
export function setFlags(opts: LuaValue): LuaValue[] {
  if (opts === undefined) return [];
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts) || opts instanceof Uint8Array) {
    throw new LuaArgumentError(`r:set: options must be a table like {ex = 60, nx = true}, got ${typeof opts === 'object' ? 'a list' : typeof opts}`);
  }
  const out: LuaValue[] = [];
  for (const [k, v] of Object.entries(opts)) {
    if (SET_TIMES[k]) {
      if (!(Number.isSafeInteger(v) && (v as number) > 0)) throw new LuaArgumentError(`r:set: ${k} must be a whole number > 0, got ${String(v)}`);
      out.push(SET_TIMES[k], v);
    } else if (SET_FLAGS[k]) {
      if (v === true) out.push(SET_FLAGS[k]);
      else if (v !== false) throw new LuaArgumentError(`r:set: ${k} must be true or false`);
    } else {
      throw new LuaArgumentError(`r:set: unknown option '${k}' (ex, px, exat, pxat, nx, xx, keepttl, get)`);
    }
  }
  return out;
}
