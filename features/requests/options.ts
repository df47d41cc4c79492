// Checking a call's arguments on the host, so a caller's mistake raises (LuaArgumentError, at
// the app's line) by the same rules as every feature, and 3.0 counts as an integer because the
// marshaller hands it over as 3. Strings arrive as Buffers (the function reads bytes).
import { LuaArgumentError, LuaValue } from '../../core/feature';

/** Option name -> expected kind. "seconds" are numbers > 0; "count" integers >= 0. */
const OPTIONS: Record<string, 'table' | 'string' | 'any' | 'seconds' | 'count' | 'boolean'> = {
  headers: 'table', body: 'string', json: 'any', query: 'table', timeout: 'seconds',
  connect_timeout: 'seconds', max_size: 'count', follow_redirects: 'boolean',
  max_redirects: 'count', decompress: 'boolean',
};
const OPTION_LIST = Object.keys(OPTIONS).join(', ');
const TOKEN = /^[!#$%&'*+\-.^_|~0-9A-Za-z]+$/;

export interface CheckedCall {
  method: string;
  url: Buffer;
  /** [lower-case name, value] in the order given. */
  headers: [string, Buffer][];
  /** [key, value], keys sorted so URLs are stable. */
  query: [Buffer, Buffer][];
  body?: Buffer;
  timeout?: number;
  connect_timeout?: number;
  max_size?: number;
  follow_redirects?: boolean;
  max_redirects?: number;
  decompress?: boolean;
}

type Table = Record<string, LuaValue>;

const isTable = (v: LuaValue): v is Table | LuaValue[] => typeof v === 'object' && v !== null && !Buffer.isBuffer(v) && !(v instanceof Uint8Array);

function typeName(v: LuaValue): string {
  if (v === undefined || v === null) return 'nil';
  if (Buffer.isBuffer(v)) return 'string';
  if (typeof v === 'bigint') return 'number';
  return isTable(v) ? 'table' : typeof v;
}

function describe(v: LuaValue): string {
  return Buffer.isBuffer(v) ? `'${v.toString('utf8')}'` : typeName(v);
}

const text = (v: LuaValue): Buffer | undefined =>
  Buffer.isBuffer(v) ? v : typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' ? Buffer.from(String(v)) : undefined;

function entries(t: Table | LuaValue[]): [string, LuaValue][] {
  return Array.isArray(t) ? t.map((v, i) => [String(i + 1), v]) : Object.entries(t);
}

/** Checks `requests.<fn>(url, opts)` (or `requests.request(spec)` when `method` is undefined);
 *  throws LuaArgumentError saying what is wrong with the call. `json` in opts is already the
 *  encoded text (the Lua side encodes it with core's json.encode). */
export function checkCall(fn: string, method: LuaValue, url: LuaValue, opts: LuaValue): CheckedCall {
  const bad = (message: string): never => { throw new LuaArgumentError(`${fn}: ${message}`); };
  const isRequest = method === undefined;
  if (isRequest) {
    if (!isTable(opts)) throw new LuaArgumentError(`requests.request expects a table {method=, url=, ...}, got ${typeName(opts)}`);
    method = Array.isArray(opts) ? undefined : opts.method ?? Buffer.from('GET');
    url = Array.isArray(opts) ? undefined : opts.url;
    if (!Buffer.isBuffer(method) || !TOKEN.test(method.toString('latin1'))) bad(`method must be an HTTP method name such as "GET", got ${describe(method)}`);
  }
  if (!Buffer.isBuffer(url)) return bad(`url must be a string, got ${typeName(url)}`);
  if (opts === undefined) opts = {};
  else if (!isTable(opts)) return bad(`options must be a table, got ${typeName(opts)}`);
  const o: Table = Array.isArray(opts) ? Object.fromEntries(entries(opts)) : opts;
  for (const [k, v] of Object.entries(o)) {
    const kind = OPTIONS[k];
    if (kind === undefined) {
      if (!(isRequest && (k === 'method' || k === 'url'))) bad(`unknown option '${k}' (options: ${isRequest ? 'method, url, ' : ''}${OPTION_LIST})`);
    } else if (kind === 'seconds') {
      if (typeof v !== 'number' || !(v > 0)) bad(`${k} must be a number of seconds > 0, got ${typeof v === 'number' ? v : typeName(v)}`);
    } else if (kind === 'count') {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) bad(`${k} must be an integer >= 0, got ${typeof v === 'number' ? v : typeName(v)}`);
    } else if (kind !== 'any' && typeName(v) !== kind) {
      bad(`${k} must be a ${kind}, got ${typeName(v)}${k === 'body' && isTable(v) ? ' (use json= to send a table as JSON)' : ''}`);
    }
  }
  if (o.body !== undefined && o.json !== undefined) bad('pass body= or json=, not both');
  const headers = o.headers === undefined ? [] : flatHeaders(o.headers as Table, bad);
  let body = o.body as Buffer | undefined;
  if (o.json !== undefined) {
    body = o.json as Buffer;
    if (!headers.some(([n]) => n === 'content-type')) headers.push(['content-type', Buffer.from('application/json')]);
  }
  return {
    method: (method as Buffer).toString('latin1').toUpperCase(), url, headers,
    query: o.query === undefined ? [] : flatQuery(o.query as Table, bad),
    body,
    timeout: o.timeout as number | undefined, connect_timeout: o.connect_timeout as number | undefined,
    max_size: o.max_size as number | undefined, follow_redirects: o.follow_redirects as boolean | undefined,
    max_redirects: o.max_redirects as number | undefined, decompress: o.decompress as boolean | undefined,
  };
}

function headerValue(name: string, v: LuaValue, bad: (m: string) => never): Buffer {
  const value = typeof v === 'number' || typeof v === 'bigint' ? Buffer.from(String(v)) : v;
  if (!Buffer.isBuffer(value)) return bad(`header '${name}' must be a string, a number or a list of strings, got ${typeName(v)}`);
  if (value.includes(13) || value.includes(10) || value.includes(0)) bad(`header '${name}' contains CR, LF or NUL`);
  return value;
}

// headers = {Name = "v", ["X-Many"] = {"a", "b"}} -> [["name", "v"], ["x-many", "a"], ["x-many", "b"]]
function flatHeaders(headers: Table | LuaValue[], bad: (m: string) => never): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  for (const [name, value] of entries(headers)) {
    if (Array.isArray(headers) || !TOKEN.test(name)) bad(`invalid header name ${Array.isArray(headers) ? 'number' : `'${name}'`}`);
    const lname = name.toLowerCase();
    for (const item of Array.isArray(value) ? value : isTable(value) ? [] : [value]) out.push([lname, headerValue(name, item, bad)]);
  }
  return out;
}

// query = {b = 2, a = {"x", "y"}} -> [a, x], [a, y], [b, 2] (sorted, so URLs are stable)
function flatQuery(query: Table | LuaValue[], bad: (m: string) => never): [Buffer, Buffer][] {
  // A list ({"a", "b"}) has number keys. (A table mixing both reaches the host with its number
  // keys as strings, so those are sent as keys.)
  if (Array.isArray(query) && query.length > 0) bad('query keys must be strings, got number');
  const out: [Buffer, Buffer][] = [];
  const keys = Object.keys(query).sort();
  for (const k of keys) {
    const value = (query as Table)[k];
    for (const item of Array.isArray(value) ? value : isTable(value) ? [] : [value]) {
      const v = text(item);
      if (v === undefined) bad(`query value for '${k}' must be a string, number or boolean (or a list of them), got ${typeName(item)}`);
      out.push([Buffer.from(k), v!]);
    }
  }
  return out;
}
