// The requests Lua is handling, by slot number. The Lua request object holds only its slot; each
// field (method, path, params, query, headers, body, ip, id) crosses into Lua the first time the
// handler reads it. Slot numbers are never reused, so a request object kept past its response
// reads nil instead of another request's data.
import { LuaApi, LuaState } from '../lua/api';
import { RawFunction } from '../lua/vm';
import { Params } from './routes';

/** A request as the server hands it to the engine. */
export interface HostRequest {
  method: string;
  path: string;
  /** The raw query string, without '?'. */
  query: string;
  /** Header names and values as received (node's rawHeaders). */
  rawHeaders: string[];
  body: Buffer | undefined;
  id: string;
  /** The peer's address, or where to read it when asked (reading it costs a system call). */
  ip?: string;
  socket?: { remoteAddress?: string };
}

interface Slot {
  key: number;
  req: HostRequest;
  params: Params | null;
}

// A slot's number is its index in `entries` plus a generation times INDEXES: unique for 2^33
// requests, and found without hashing (a Map with ever-growing keys cost 6% of a request).
const INDEXES = 2 ** 20;

export class RequestSlots {
  private readonly entries: (Slot | undefined)[] = [];
  private readonly free: number[] = [];
  private generation = 1;

  constructor(private readonly api: LuaApi) {}

  add(req: HostRequest, params: Params | null): number {
    const index = this.free.pop() ?? this.entries.length;
    if (index >= INDEXES) throw new Error(`more than ${INDEXES} requests in flight`);
    const key = this.generation++ * INDEXES + index;
    this.entries[index] = { key, req, params };
    return key;
  }

  remove(key: number): void {
    const index = key % INDEXES;
    if (this.entries[index]?.key !== key) return;
    this.entries[index] = undefined;
    this.free.push(index);
  }

  private slotAt(L: LuaState): Slot | undefined {
    const key: number = this.api.raw._lua_tonumberx(L, 1, 0);
    const slot = this.entries[key % INDEXES];
    return slot !== undefined && slot.key === key ? slot : undefined;
  }

  /** host.req_* functions for the Lua request object. Each returns nil for a closed slot. */
  rawFunctions(): Record<string, RawFunction> {
    const api = this.api;
    const raw = api.raw;
    const text = (pick: (r: HostRequest) => string | undefined): RawFunction => (L) => {
      const slot = this.slotAt(L);
      const value = slot ? pick(slot.req) : undefined;
      if (value === undefined) raw._lua_pushnil(L);
      else api.pushString(L, value);
      return 1;
    };
    return {
      req_method: text((r) => r.method),
      req_path: text((r) => r.path),
      req_id: text((r) => r.id),
      req_query: text((r) => r.query),
      req_ip: text((r) => r.ip ?? r.socket?.remoteAddress ?? ''),
      req_body: (L) => {
        const body = this.slotAt(L)?.req.body;
        if (body === undefined) raw._lua_pushnil(L);
        else api.pushBytes(L, body);
        return 1;
      },
      req_params: (L) => {
        const slot = this.slotAt(L);
        if (!slot) {
          raw._lua_pushnil(L);
          return 1;
        }
        const params = slot.params;
        const n = params ? params.length / 2 : 0;
        raw._lua_createtable(L, 0, n);
        for (let i = 0; i < n * 2; i += 2) {
          api.pushString(L, params![i] as string);
          const v = params![i + 1];
          if (typeof v === 'string') api.pushString(L, v);
          else api.pushBytes(L, v);
          raw._lua_rawset(L, -3);
        }
        return 1;
      },
      req_headers: (L) => {
        const slot = this.slotAt(L);
        if (!slot) {
          raw._lua_pushnil(L);
          return 1;
        }
        const headers = joinHeaders(slot.req.rawHeaders);
        raw._lua_createtable(L, 0, headers.size);
        for (const [name, value] of headers) {
          api.pushString(L, name);
          api.pushString(L, value);
          raw._lua_rawset(L, -3);
        }
        return 1;
      },
    };
  }
}

/** Names lower-cased; a repeated header joined with ", " (cookie with "; "), as RFC 9110 says. */
function joinHeaders(rawHeaders: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = lowerAscii(rawHeaders[i]);
    const value = rawHeaders[i + 1];
    const old = out.get(name);
    if (old === undefined) out.set(name, value);
    else out.set(name, old + (name === 'cookie' ? '; ' : ', ') + value);
  }
  return out;
}

// Lua's string.lower in the C locale changes only A-Z.
function lowerAscii(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}
