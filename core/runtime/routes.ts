// Routing on the host: the same rules as the Lua router's match() (core/lua/router.lua.ts), so a
// request reaches Lua only to run its handler. Static paths are one Map lookup; paths with
// parameters go through a segment trie, and among the routes whose pattern matches, the first
// registered with a fitting method wins, as in Lua.

export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

/** Path parameters as name, value pairs; a value is bytes when percent-decoding made it so. */
export type Params = (string | Buffer)[];

export type RouteMatch<H> =
  | { handler: H; params: Params | null; allow?: undefined }
  | { handler?: undefined; params?: undefined; allow: string }
  | null;

interface Segment {
  lit?: string;
  param?: string;
  splat?: string;
}

interface DynamicRoute<H> {
  order: number;
  method: string;
  segs: Segment[];
  handler: H;
}

interface TrieNode<H> {
  lits: Map<string, TrieNode<H>> | null;
  param: TrieNode<H> | null;
  /** Routes whose pattern ends here. */
  ends: DynamicRoute<H>[];
  /** Routes with a splat after this node's segments (matches zero or more further segments). */
  splats: DynamicRoute<H>[];
}

const node = <H>(): TrieNode<H> => ({ lits: null, param: null, ends: [], splats: [] });

export function trimSlash(path: string): string {
  if (path.length > 1 && path.charCodeAt(path.length - 1) === 47) return path.replace(/\/+$/, '');
  return path;
}

/** The segments between slashes, empty ones skipped (Lua: gmatch("[^/]+")). */
export function splitPath(path: string): string[] {
  const parts = path.split('/');
  let empty = false;
  for (const p of parts) if (p === '') { empty = true; break; }
  return empty ? parts.filter((p) => p !== '') : parts;
}

/** %XX decoded (not '+'), as the Lua router does: bytes, since the result may not be UTF-8. */
export function decodeSegment(s: string): string | Buffer {
  if (!s.includes('%')) return s;
  const bytes = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 37 && i + 2 < bytes.length && isHex(bytes[i + 1]) && isHex(bytes[i + 2])) {
      out[n++] = (hexValue(bytes[i + 1]) << 4) | hexValue(bytes[i + 2]);
      i += 2;
    } else {
      out[n++] = b;
    }
  }
  return out.subarray(0, n);
}

const isHex = (c: number | undefined) => c !== undefined && ((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102));
const hexValue = (c: number) => (c <= 57 ? c - 48 : (c | 32) - 87);

export class Routes<H> {
  private readonly statics = new Map<string, Map<string, H>>();
  private readonly root: TrieNode<H> = node();
  private dynamicCount = 0;

  /** Adds a route as router.lua's Router:route does (same method and static path: last wins). */
  add(method: string, path: string, handler: H): void {
    const parts = splitPath(path);
    const segs: Segment[] = [];
    let dynamic = false;
    for (let i = 0; i < parts.length; i++) {
      const seg = parts[i];
      if (seg[0] === ':') {
        segs.push({ param: seg.slice(1) });
        dynamic = true;
      } else if (seg[0] === '*') {
        segs.push({ splat: seg.length > 1 ? seg.slice(1) : '*' });
        dynamic = true;
      } else {
        segs.push({ lit: seg });
      }
    }
    if (!dynamic) {
      const key = trimSlash(path);
      let entry = this.statics.get(key);
      if (!entry) this.statics.set(key, (entry = new Map()));
      entry.set(method, handler);
      return;
    }
    const route: DynamicRoute<H> = { order: this.dynamicCount++, method, segs, handler };
    let at = this.root;
    for (const s of segs) {
      if (s.splat !== undefined) {
        at.splats.push(route);
        return;
      }
      if (s.param !== undefined) at = at.param ??= node();
      else {
        at.lits ??= new Map();
        let next = at.lits.get(s.lit!);
        if (!next) at.lits.set(s.lit!, (next = node()));
        at = next;
      }
    }
    at.ends.push(route);
  }

  /** The handler and params for method and path; or the Allow header when the path exists for
   *  other methods; or null. */
  match(method: string, path: string): RouteMatch<H> {
    const p = trimSlash(path);
    let allowed: Set<string> | null = null;
    const entry = this.statics.get(p);
    if (entry) {
      const h = entry.get(method) ?? entry.get('*') ?? (method === 'HEAD' ? entry.get('GET') : undefined);
      if (h !== undefined) return { handler: h, params: null };
      allowed = new Set();
      for (const m of entry.keys()) addAllowed(allowed, m);
    }
    if (this.dynamicCount > 0) {
      const parts = splitPath(p);
      const found: DynamicRoute<H>[] = [];
      collect(this.root, parts, 0, found);
      if (found.length > 0) {
        found.sort((a, b) => a.order - b.order);
        for (const r of found) {
          const rm = r.method;
          if (rm === method || rm === '*' || (method === 'HEAD' && rm === 'GET')) return { handler: r.handler, params: paramsOf(r.segs, parts) };
          allowed ??= new Set();
          addAllowed(allowed, rm);
        }
      }
    }
    if (allowed) return { allow: allowHeader(allowed) };
    return null;
  }
}

function collect<H>(at: TrieNode<H>, parts: string[], i: number, found: DynamicRoute<H>[]): void {
  for (const r of at.splats) found.push(r);
  if (i === parts.length) {
    for (const r of at.ends) found.push(r);
    return;
  }
  const lit = at.lits?.get(parts[i]);
  if (lit) collect(lit, parts, i + 1, found);
  if (at.param) collect(at.param, parts, i + 1, found);
}

function paramsOf(segs: Segment[], parts: string[]): Params {
  const params: Params = [];
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    if (s.splat !== undefined) {
      params.push(s.splat, parts.slice(i).join('/'));
      return params;
    }
    if (s.param !== undefined) params.push(s.param, decodeSegment(parts[i]));
  }
  return params;
}

function addAllowed(allowed: Set<string>, method: string): void {
  if (method === '*') {
    for (const m of METHODS) allowed.add(m);
  } else {
    allowed.add(method);
    if (method === 'GET') allowed.add('HEAD');
  }
}

function allowHeader(allowed: Set<string>): string {
  const list = [...allowed];
  if (!allowed.has('OPTIONS')) list.push('OPTIONS');
  // Lua's table.sort on strings: byte order.
  return list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(', ');
}
