// How host code (core and features) declares a function that Lua can call.
import type { LuaValue, ReadOptions } from './marshal';

export type SyncImpl = (...args: any[]) => LuaValue | void;
export type AsyncImpl = (...args: any[]) => Promise<LuaValue | void>;

export interface HostFunction {
  readonly kind: 'sync' | 'async';
  readonly impl: SyncImpl | AsyncImpl;
  readonly options: HostFunctionOptions;
}

export interface HostFunctionOptions extends ReadOptions {
  /** With `bytes`: the first N arguments still arrive as text (an id, SQL): no copy to a Buffer
   *  and back on every call. */
  textArgs?: number;
  /** Name shown in error messages, e.g. "sqlite.open". Set by the module registry when omitted. */
  name?: string;
}

/** A function that returns at once. Throwing raises a Lua error at the caller's line;
 *  returning a LuaFailure gives Lua `nil, err`. */
export function sync(impl: SyncImpl, options: HostFunctionOptions = {}): HostFunction {
  return { kind: 'sync', impl, options };
}

/** A function that waits on I/O. Lua calls it as if it were blocking: the calling coroutine
 *  is suspended until the promise settles and other requests run meanwhile. */
export function async(impl: AsyncImpl, options: HostFunctionOptions = {}): HostFunction {
  return { kind: 'async', impl, options };
}

/** Error thrown by host functions for a programming mistake in Lua code (bad argument and the
 *  like). It becomes a Lua error raised at the caller's line, with this message. */
export class LuaArgumentError extends Error {}
