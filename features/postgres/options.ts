// postgres.connect's argument -> node-postgres pool settings. Seconds in Lua, milliseconds here.
import type { PoolConfig } from 'pg';
import { LuaArgumentError, LuaValue } from '../../core/feature';

export const DEFAULTS = { max: 10, idleTimeout: 10, connectTimeout: 10 };

const KEYS: Record<string, 'string' | 'port' | 'count' | 'seconds' | 'ssl'> = {
  url: 'string', host: 'string', port: 'port', database: 'string', user: 'string', password: 'string',
  max: 'count', idle_timeout: 'seconds', connect_timeout: 'seconds', statement_timeout: 'seconds', ssl: 'ssl',
  application_name: 'string',
};
const KEY_LIST = Object.keys(KEYS).join(', ');

export interface Settings {
  config: PoolConfig;
  /** host:port/database, for messages (never the password). */
  target: string;
  /** Identity of the settings: connect() with the same ones shares the pool. */
  key: string;
  max: number;
  connectTimeoutSeconds: number;
}

function check(name: string, v: unknown): void {
  const kind = KEYS[name];
  if (kind === undefined) throw new LuaArgumentError(`postgres.connect: unknown option '${name}' (options: ${KEY_LIST})`);
  const bad = (want: string) => new LuaArgumentError(`postgres.connect: ${name} must be ${want}, got ${typeof v === 'string' ? `"${v}"` : typeof v}`);
  if (kind === 'string' && typeof v !== 'string') throw bad('a string');
  if (kind === 'port' && !(Number.isInteger(v) && (v as number) > 0 && (v as number) < 65536)) throw bad('a port number (1-65535)');
  if (kind === 'count' && !(Number.isInteger(v) && (v as number) >= 1)) throw bad('an integer >= 1');
  if (kind === 'seconds' && !(typeof v === 'number' && v >= 0 && Number.isFinite(v))) throw bad('a number of seconds >= 0');
  if (kind === 'ssl' && typeof v !== 'boolean' && (typeof v !== 'object' || v === null)) throw bad('true, false or a table like {reject_unauthorized = false}');
}

function describeUrl(url: string): { host: string; port: string; database: string } {
  try {
    const u = new URL(url);
    if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Error('scheme');
    return { host: u.hostname || 'localhost', port: u.port || '5432', database: decodeURIComponent(u.pathname.slice(1)) || '(default)' };
  } catch {
    throw new LuaArgumentError(`postgres.connect: "${url.replace(/:[^:@/]*@/, ':***@')}" is not a postgres URL; ` +
      'use postgres://user:password@host:5432/database (or a table of options)');
  }
}

/** Reads connect(url) / connect(url, opts) / connect(opts). */
export function readSettings(first: LuaValue, second: LuaValue): Settings {
  let opts: Record<string, unknown> = {};
  if (typeof first === 'string') opts.url = first;
  else if (first !== null && typeof first === 'object' && !Array.isArray(first) && !(first instanceof Uint8Array)) opts = { ...first };
  else if (first !== undefined || second === undefined) {
    throw new LuaArgumentError(`postgres.connect: expected a URL like postgres://user:pass@host:5432/db or a table of options, got ${first === undefined ? 'nil' : typeof first}`);
  }
  if (second !== undefined) {
    if (second === null || typeof second !== 'object' || Array.isArray(second)) throw new LuaArgumentError('postgres.connect: the second argument must be a table of options');
    opts = { ...opts, ...second };
  }
  for (const [k, v] of Object.entries(opts)) check(k, v);

  const seconds = (name: string, fallback: number) => Math.round(((opts[name] as number | undefined) ?? fallback) * 1000);
  const max = (opts.max as number | undefined) ?? DEFAULTS.max;
  const config: PoolConfig = {
    max,
    idleTimeoutMillis: seconds('idle_timeout', DEFAULTS.idleTimeout),
    connectionTimeoutMillis: seconds('connect_timeout', DEFAULTS.connectTimeout),
    application_name: (opts.application_name as string | undefined) ?? 'redox',
  };
  if (opts.statement_timeout !== undefined) config.statement_timeout = seconds('statement_timeout', 0);
  let host = (opts.host as string | undefined) ?? 'localhost';
  let port = String(opts.port ?? 5432);
  let database = (opts.database as string | undefined) ?? '(default)';
  if (typeof opts.url === 'string') {
    ({ host, port, database } = describeUrl(opts.url));
    config.connectionString = opts.url;
  }
  // Explicit options win over the URL's parts.
  for (const k of ['host', 'port', 'database', 'user', 'password'] as const) {
    if (opts[k] !== undefined) (config as Record<string, unknown>)[k] = opts[k];
  }
  if (opts.host !== undefined) host = opts.host as string;
  if (opts.port !== undefined) port = String(opts.port);
  if (opts.database !== undefined) database = opts.database as string;
  if (opts.ssl !== undefined) {
    const ssl = opts.ssl;
    config.ssl = typeof ssl === 'boolean' ? ssl : { rejectUnauthorized: (ssl as { reject_unauthorized?: boolean }).reject_unauthorized !== false };
  }
  const target = `${host}:${port}/${database}`;
  const key = JSON.stringify(Object.entries(opts).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { config, target, key, max, connectTimeoutSeconds: (config.connectionTimeoutMillis ?? 0) / 1000 };
}
