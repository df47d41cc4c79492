// What a request's run returns to the host: Lua's (status, body, content type, headers, log line)
// read off the coroutine's stack into one object the server frames.
import { isAscii } from 'node:buffer';
import { LuaApi, LuaState, T_STRING, T_TABLE } from '../lua/api';

export const TEXT_TYPE = 'text/plain; charset=utf-8';
export const JSON_TYPE = 'application/json; charset=utf-8';
/** The content types response.lua returns by number (CT_TEXT = 1, CT_JSON = 2). */
const CONTENT_TYPES = [undefined, TEXT_TYPE, JSON_TYPE];

export interface HostResponse {
  status: number;
  /** A string only when it is ASCII (its length is its byte length), else bytes. */
  body: string | Buffer | undefined;
  /** The content type when the handler's headers do not set one. */
  contentType: string | undefined;
  /** Flat name, value list from the handler (names lower-case), or undefined. */
  headers: string[] | undefined;
  /** Set when the handler failed: what to log (message and traceback). */
  error: string | undefined;
}

/** Reads the `nres` results of http.run on top of T. */
export function readResponse(api: LuaApi, T: LuaState, nres: number): HostResponse {
  const raw = api.raw;
  const base: number = raw._lua_gettop(T) - nres + 1;
  const status: number = raw._lua_tonumberx(T, base, 0);
  const body = nres >= 2 && raw._lua_type(T, base + 1) === T_STRING ? readBody(api, T, base + 1) : undefined;
  const contentType = nres >= 3 ? CONTENT_TYPES[raw._lua_tonumberx(T, base + 2, 0)] : undefined;
  const headers = nres >= 4 && raw._lua_type(T, base + 3) === T_TABLE ? readHeaders(api, T, base + 3) : undefined;
  const error = nres >= 5 ? api.toString(T, base + 4) ?? undefined : undefined;
  return { status, body, contentType, headers, error };
}

/** ASCII bodies (most JSON and text) become a one-byte string, which node:http writes fastest;
 *  anything else is copied out as bytes. */
function readBody(api: LuaApi, T: LuaState, idx: number): string | Buffer {
  const ptr: number = api.raw._lua_tolstring(T, idx, api.resultCountPtr);
  const len = api.raw.HEAPU32[api.resultCountPtr >> 2];
  const heap = api.heap();
  if (len <= 64 * 1024 && isAscii(heap.subarray(ptr, ptr + len))) return heap.toString('latin1', ptr, ptr + len);
  return Buffer.from(heap.subarray(ptr, ptr + len));
}

/** headers: name -> string, or name -> list of strings (a repeated header). */
function readHeaders(api: LuaApi, T: LuaState, tbl: number): string[] {
  const raw = api.raw;
  const headers: string[] = [];
  raw._lua_pushnil(T);
  while (raw._lua_next(T, tbl) !== 0) {
    const name = api.toString(T, -2)!;
    if (raw._lua_type(T, -1) === T_TABLE) {
      const n = Number(raw._lua_rawlen(T, -1));
      for (let i = 1; i <= n; i++) {
        raw._lua_rawgeti(T, -1, BigInt(i));
        headers.push(name, api.toString(T, -1)!);
        raw._lua_settop(T, -2);
      }
    } else {
      headers.push(name, api.toString(T, -1)!);
    }
    raw._lua_settop(T, -2);
  }
  return headers;
}
