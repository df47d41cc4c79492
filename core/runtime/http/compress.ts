// Response compression: gzip or brotli (node:zlib, already in every Node binary, so it costs the
// bundle only this file), chosen from Accept-Encoding with q-values, for compressible types above
// a size threshold. Bodies here are whole buffers (a handler's response), so compression is one
// synchronous call at a fast level; static files stream through createCompressor instead.
import type zlib from 'node:zlib';

// node:zlib is required on the first response that is compressed, not at every start (~7 ms).
let loaded: typeof zlib | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const z = () => (loaded ??= require('node:zlib') as typeof zlib);

export type Encoding = 'br' | 'gzip';

/** Smaller bodies gain too little to pay for the encoder (and the header). */
export const COMPRESS_MIN_BYTES = 1024;

// Brotli quality 4 is close to gzip's speed with better ratios; 11 (the default) is far too slow
// for responses made per request.
let brotli: zlib.BrotliOptions | undefined;
const brotliOptions = () => (brotli ??= { params: { [z().constants.BROTLI_PARAM_QUALITY]: 4 } });
const GZIP_OPTIONS = { level: 6 };

/** The best encoding the client accepts: brotli before gzip at equal q, q=0 refuses, `*` covers
 *  both, identity is always acceptable. Malformed parts are skipped. */
export function negotiateEncoding(accept: string | undefined): Encoding | null {
  if (!accept) return null;
  let br = -1;
  let gzip = -1;
  let star = -1;
  for (const part of accept.split(',')) {
    const [rawName, ...params] = part.split(';');
    const name = rawName.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*(.*?)\s*$/i.exec(p);
      if (m) q = /^[0-9.]+$/.test(m[1]) ? Number(m[1]) : NaN;
    }
    if (!(q >= 0 && q <= 1)) continue;
    if (name === 'br') br = q;
    else if (name === 'gzip' || name === 'x-gzip') gzip = q;
    else if (name === '*') star = q;
  }
  if (br < 0) br = star;
  if (gzip < 0) gzip = star;
  if (br <= 0 && gzip <= 0) return null;
  return br >= gzip ? 'br' : 'gzip';
}

// A service sends few distinct content types: remember the verdict (this runs per response).
const verdicts = new Map<string, boolean>();

/** Text-like types gain from compression; images, archives and video are compressed already. */
export function compressible(contentType: string | undefined): boolean {
  if (!contentType) return false;
  let verdict = verdicts.get(contentType);
  if (verdict === undefined) {
    verdict = typeCompresses(contentType);
    if (verdicts.size < 256) verdicts.set(contentType, verdict);
  }
  return verdict;
}

function typeCompresses(contentType: string): boolean {
  const type = contentType.split(';', 1)[0].trim().toLowerCase();
  return type.startsWith('text/') || type === 'application/json' || type.endsWith('+json') || type.endsWith('+xml')
    || type === 'application/javascript' || type === 'application/xml' || type === 'image/svg+xml'
    || type === 'application/wasm' || type === 'application/x-ndjson' || type === 'application/manifest+json';
}

/** Adds `accept-encoding` to a Vary header value (or makes one). */
export function withVary(existing: string | undefined): string {
  if (!existing) return 'Accept-Encoding';
  if (existing.trim() === '*' || /(^|,)\s*accept-encoding\s*(,|$)/i.test(existing)) return existing;
  return existing + ', Accept-Encoding';
}

export function compressBuffer(body: Buffer, encoding: Encoding): Buffer {
  return encoding === 'br' ? z().brotliCompressSync(body, brotliOptions()) : z().gzipSync(body, GZIP_OPTIONS);
}

export function createCompressor(encoding: Encoding): zlib.BrotliCompress | zlib.Gzip {
  return encoding === 'br' ? z().createBrotliCompress(brotliOptions()) : z().createGzip(GZIP_OPTIONS);
}

/** Compresses a handler's response in place when it should be: `headers` is the flat
 *  name/value list (lower-case names) the server sends. Returns the body to send. */
export function compressResponse(acceptEncoding: string | undefined, method: string, status: number, headers: string[],
  body: Buffer | string | undefined): Buffer | string | undefined {
  if (body === undefined || method === 'HEAD' || status < 200 || status === 204 || status === 206 || status === 304) return body;
  let type: string | undefined;
  let varyAt = -1;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (name === 'content-type') type = headers[i + 1];
    else if (name === 'vary') varyAt = i + 1;
    // The handler encoded it itself (or asked for no transform): never compress twice.
    else if (name === 'content-encoding') return body;
    else if (name === 'cache-control' && /no-transform/i.test(headers[i + 1])) return body;
  }
  if (!compressible(type)) return body;
  // The response depends on Accept-Encoding from here on, even when it goes out uncompressed.
  if (varyAt >= 0) headers[varyAt] = withVary(headers[varyAt]);
  else headers.push('vary', 'Accept-Encoding');
  // A string's UTF-8 size is at most 3 bytes per UTF-16 unit: most small bodies need no count.
  if (typeof body === 'string' && body.length * 3 < COMPRESS_MIN_BYTES) return body;
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (size < COMPRESS_MIN_BYTES) return body;
  const encoding = negotiateEncoding(acceptEncoding);
  if (!encoding) return body;
  const packed = compressBuffer(typeof body === 'string' ? Buffer.from(body) : body, encoding);
  if (packed.length >= size) return body;
  headers.push('content-encoding', encoding);
  return packed;
}
