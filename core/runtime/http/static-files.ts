// Static files (`--static DIR [--static-prefix /assets]`): answered by the host before Lua runs,
// with validators (ETag, Last-Modified -> 304), byte ranges (206/416), HEAD and compression.
// The files come from a folder on disk or from the binary itself (`redox build --static`).
// Request paths are checked before any lookup: dot-dot, dot-files, encoded slashes or
// backslashes, NUL and undecodable escapes are refused outright, and a folder's files are
// resolved through realpath so a symlink cannot lead out of it.
import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import type http2 from 'node:http2';
import { Readable } from 'node:stream';
import { RedoxError } from '../../errors';
import { compressible, COMPRESS_MIN_BYTES, createCompressor, negotiateEncoding, withVary } from './compress';
import { contentTypeFor } from './content-types';

export interface StaticEntry {
  size: number;
  mtimeMs: number;
  /** A quoted entity tag, possibly weak (W/"..."). */
  etag: string;
  type: string;
  /** Bytes start..end inclusive. */
  open(start: number, end: number): Readable | Buffer;
}

export interface StaticSource {
  /** What is served, for the start-up line and errors. */
  readonly label: string;
  /** null: no such file; 'outside': it resolves out of the folder (answered 404, never served
   *  and never passed on to the app). */
  lookup(segments: string[]): Promise<StaticEntry | 'outside' | null>;
}

/** Files of a folder on disk. */
export class DirectorySource implements StaticSource {
  readonly label: string;
  private readonly root: string;

  constructor(dir: string) {
    let real: string;
    try {
      real = fs.realpathSync(dir);
    } catch {
      throw new RedoxError('REDOX_STATIC_DIR', `--static ${dir}: no such folder`, 'pass the folder whose files should be served, e.g. --static ./public');
    }
    if (!fs.statSync(real).isDirectory()) {
      throw new RedoxError('REDOX_STATIC_DIR', `--static ${dir}: not a folder`, 'pass a folder, e.g. --static ./public');
    }
    this.root = real;
    this.label = dir;
  }

  async lookup(segments: string[]): Promise<StaticEntry | 'outside' | null> {
    const found = await this.file(path.join(this.root, ...segments));
    if (found === 'dir') {
      const index = await this.file(path.join(this.root, ...segments, 'index.html'));
      return index === 'dir' ? null : index;
    }
    return found;
  }

  private async file(candidate: string): Promise<StaticEntry | 'dir' | 'outside' | null> {
    let real: string;
    let stat: fs.Stats;
    try {
      real = await fs.promises.realpath(candidate);
      stat = await fs.promises.stat(real);
    } catch {
      return null;
    }
    // A symlink (anywhere on the way) that resolves outside the folder is treated as absent.
    if (real !== this.root && !real.startsWith(this.root + path.sep)) return 'outside';
    if (stat.isDirectory()) return 'dir';
    if (!stat.isFile()) return null;
    return {
      size: stat.size,
      mtimeMs: stat.mtimeMs,
      etag: `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`,
      type: contentTypeFor(real),
      open: (start, end) => fs.createReadStream(real, { start, end }),
    };
  }
}

/** Index of the files embedded in a binary: the bytes are one SEA asset, this says where each
 *  file lies in it. */
export interface EmbeddedStaticIndex {
  files: Record<string, { offset: number; size: number; mtimeMs: number; sha256: string }>;
}

/** Files carried inside the binary (redox build --static). */
export class EmbeddedSource implements StaticSource {
  readonly label = '(embedded in the binary)';
  constructor(private readonly index: EmbeddedStaticIndex, private readonly data: Buffer) {}

  async lookup(segments: string[]): Promise<StaticEntry | null> {
    const key = segments.join('/');
    const meta = this.index.files[key] ?? this.index.files[key === '' ? 'index.html' : key + '/index.html'];
    if (!meta) return null;
    const name = this.index.files[key] ? key : key + '/index.html';
    return {
      size: meta.size,
      mtimeMs: meta.mtimeMs,
      etag: `"${meta.sha256.slice(0, 32)}"`,
      type: contentTypeFor(name),
      open: (start, end) => this.data.subarray(meta.offset + start, meta.offset + end + 1),
    };
  }
}

/** Splits a raw request path (before percent-decoding) into safe segments under `prefix`:
 *  null when the path is not under the prefix, 'reject' when it tries to escape or hide. */
export function staticSegments(rawPath: string, prefix: string): string[] | 'reject' | null {
  let rest: string;
  if (prefix === '/') rest = rawPath.slice(1);
  else if (rawPath === prefix) rest = '';
  else if (rawPath.startsWith(prefix + '/')) rest = rawPath.slice(prefix.length + 1);
  else return null;
  if (/%2f|%5c|%00|\\|\0/i.test(rest)) return 'reject';
  const segments: string[] = [];
  for (const raw of rest.split('/')) {
    if (raw === '') continue;
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return 'reject';
    }
    // Dot-files (.env, .git) are never served; this also covers "." and "..".
    if (seg.startsWith('.') || /[\\/\0]/.test(seg)) return 'reject';
    segments.push(seg);
  }
  return segments;
}

/** "/assets", "assets/" -> "/assets"; "" or "/" -> "/". */
export function normalizePrefix(prefix: string | undefined): string {
  const p = (prefix ?? '/').trim().replace(/\/+$/, '');
  if (p === '') return '/';
  if (/[?#%\\]/.test(p) || p.split('/').some((s) => s === '.' || s === '..')) {
    throw new RedoxError('REDOX_USAGE', `--static-prefix must be a plain URL path such as /assets, got "${prefix}"`);
  }
  return p.startsWith('/') ? p : '/' + p;
}

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

/** What the server does with a request the static files might answer. */
export interface StaticFiles {
  readonly prefix: string;
  readonly source: StaticSource;
  /** Answers the request and returns its status, or returns 0 when no file matched and the
   *  prefix is "/" (the app answers then). Only for GET and HEAD. */
  serve(segments: string[], req: Req, res: Res, extra: Record<string, string>): Promise<number>;
}

export function staticFiles(source: StaticSource, prefix: string, compress: boolean): StaticFiles {
  return {
    prefix,
    source,
    async serve(segments, req, res, extra) {
      const entry = await source.lookup(segments);
      if (entry === 'outside') return sendStatus(res, 404, extra, 'not found');
      if (!entry) {
        if (prefix === '/') return 0;
        return sendStatus(res, 404, extra, 'not found');
      }
      return sendEntry(entry, req, res, extra, compress);
    },
  };
}

function sendStatus(res: Res, status: number, headers: Record<string, string>, error: string): number {
  const body = JSON.stringify({ error, request_id: headers['x-request-id'] });
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
  return status;
}

function etagMatches(header: string, etag: string): boolean {
  const bare = (t: string) => t.trim().replace(/^W\//, '');
  const mine = bare(etag);
  const variants = [mine, mine.slice(0, -1) + '-br"', mine.slice(0, -1) + '-gzip"'];
  return header.split(',').some((t) => t.trim() === '*' || variants.includes(bare(t)));
}

function notModified(req: Req, entry: StaticEntry): boolean {
  const inm = req.headers['if-none-match'];
  if (typeof inm === 'string') return etagMatches(inm, entry.etag);
  const ims = req.headers['if-modified-since'];
  if (typeof ims === 'string') {
    const since = Date.parse(ims);
    return !Number.isNaN(since) && Math.floor(entry.mtimeMs / 1000) * 1000 <= since;
  }
  return false;
}

/** One byte range from a Range header: [start, end], 'unsatisfiable', or null to send it all
 *  (no header, another unit, several ranges, or a stale If-Range). */
export function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return null;
  }
  if (start >= size || size === 0) return 'unsatisfiable';
  return [start, end];
}

function sendEntry(entry: StaticEntry, req: Req, res: Res, extra: Record<string, string>, compress: boolean): number {
  const headers: Record<string, string> = {
    ...extra,
    'content-type': entry.type,
    etag: entry.etag,
    'last-modified': new Date(entry.mtimeMs).toUTCString(),
    'accept-ranges': 'bytes',
  };
  const canCompress = compress && compressible(entry.type);
  if (canCompress) headers.vary = withVary(undefined);
  if (notModified(req, entry)) {
    res.writeHead(304, headers);
    res.end();
    return 304;
  }
  const head = req.method === 'HEAD';
  const ifRange = req.headers['if-range'];
  const rangeHeader = typeof ifRange === 'string' && !etagMatches(ifRange, entry.etag) && Date.parse(ifRange) !== Math.floor(entry.mtimeMs / 1000) * 1000
    ? undefined : req.headers.range;
  const range = parseRange(typeof rangeHeader === 'string' ? rangeHeader : undefined, entry.size);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...extra, 'content-range': `bytes */${entry.size}`, 'content-length': '0' });
    res.end();
    return 416;
  }
  let status = 200;
  let [start, end] = [0, entry.size - 1];
  if (range) {
    status = 206;
    [start, end] = range;
    headers['content-range'] = `bytes ${start}-${end}/${entry.size}`;
  }
  const encoding = !range && canCompress && entry.size >= COMPRESS_MIN_BYTES ? negotiateEncoding(req.headers['accept-encoding'] as string | undefined) : null;
  if (encoding) {
    // Each encoding is its own representation: its own validator.
    headers.etag = entry.etag.slice(0, -1) + `-${encoding}"`;
    headers['content-encoding'] = encoding;
  } else {
    headers['content-length'] = String(end - start + 1);
  }
  res.writeHead(status, headers);
  if (head || entry.size === 0) {
    res.end();
    return status;
  }
  const body = entry.open(start, end);
  if (Buffer.isBuffer(body) && !encoding) {
    res.end(body);
    return status;
  }
  const stream = Buffer.isBuffer(body) ? Readable.from([body]) : body;
  const out = encoding ? stream.pipe(createCompressor(encoding)) : stream;
  const fail = () => res.destroy();
  stream.on('error', fail);
  out.on('error', fail);
  out.pipe(res as NodeJS.WritableStream);
  return status;
}
