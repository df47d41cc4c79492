// The host-call bridge: Lua closures that call JavaScript. A sync function returns at once; an
// async one yields the calling coroutine with a sentinel, and the driver resumes it with the
// result (or raises the error at the caller's line) once the promise settles.
import { LuaApi, LuaState, upvalueIndex } from './api';
import { errorText } from './errors';
import { HostFunction, SyncImpl } from './host';
import { pushValue, readValue, LuaValue, ReadOptions } from './marshal';

/** Lightuserdata address that marks "waiting on the host". */
export const SENTINEL = 0x5ed0;

export type RawFunction = (L: LuaState) => number;
export type Settled = { ok: true; value: LuaValue | void } | { ok: false; error: string };

export class HostBridge {
  private readonly functions: HostFunction[] = [];
  private readonly rawFunctions: RawFunction[] = [];
  private readonly dispatcher: number;
  private readonly rawDispatcher: number;
  private readonly continuation: number;
  /** The wait the last async host call started; the driver takes it after each resume. */
  pending: Promise<Settled> | null = null;
  private resumeError: string | null = null;
  private resumeCount = 0;

  constructor(private readonly api: LuaApi) {
    const raw = api.raw;
    this.dispatcher = raw.addFunction((L: number) => this.callHost(L), 'ii');
    this.rawDispatcher = raw.addFunction((L: number) => this.callRaw(L), 'ii');
    this.continuation = raw.addFunction((L: number) => this.continueAfterWait(L), 'iiii');
  }

  /** Pushes a Lua closure that calls `fn` on the host (arguments and results converted). */
  pushFunction(L: LuaState, fn: HostFunction): void {
    this.functions.push(fn);
    this.api.raw._lua_pushinteger(L, BigInt(this.functions.length - 1));
    this.api.raw._lua_pushcclosure(L, this.dispatcher, 1);
  }

  /** Pushes a Lua closure over a function that works on the Lua stack directly. */
  pushRawFunction(L: LuaState, fn: RawFunction): void {
    this.rawFunctions.push(fn);
    this.api.raw._lua_pushinteger(L, BigInt(this.rawFunctions.length - 1));
    this.api.raw._lua_pushcclosure(L, this.rawDispatcher, 1);
  }

  /** Pushes the marker value that host waits yield (the prelude's coroutine wrappers need it). */
  pushSentinel(L: LuaState): void {
    this.api.raw._lua_pushlightuserdata(L, SENTINEL);
  }

  /** Hands a settled wait to the coroutine about to be resumed; returns its argument count. */
  settle(T: LuaState, settled: Settled): number {
    let nargs = 0;
    if (settled.ok) {
      this.resumeError = null;
      nargs = settled.value === undefined ? 0 : pushValue(this.api, T, settled.value);
    } else {
      this.resumeError = settled.error;
    }
    this.resumeCount = nargs;
    return nargs;
  }

  private callRaw(L: LuaState): number {
    // The index is an integer upvalue: read it as a double, no BigInt on every call.
    const fn = this.rawFunctions[this.api.raw._lua_tonumberx(L, upvalueIndex(1), 0)];
    let message: string;
    try {
      return fn(L);
    } catch (err) {
      if (typeof err === 'number') throw err; // a Lua error unwinding (longjmp)
      message = errorText(err);
    }
    return this.raise(L, message);
  }

  private callHost(L: LuaState): number {
    const api = this.api;
    const raw = api.raw;
    const fn = this.functions[raw._lua_tonumberx(L, upvalueIndex(1), 0)];
    let message: string;
    try {
      const argc: number = raw._lua_gettop(L);
      const opts = fn.options;
      if (fn.kind === 'sync') {
        // Up to three arguments go straight into the call: no argument array per call.
        const impl = fn.impl as SyncImpl;
        let result: LuaValue | void;
        if (argc === 0) result = impl();
        else if (argc === 1) result = impl(readArg(api, L, 1, opts));
        else if (argc === 2) result = impl(readArg(api, L, 1, opts), readArg(api, L, 2, opts));
        else if (argc === 3) result = impl(readArg(api, L, 1, opts), readArg(api, L, 2, opts), readArg(api, L, 3, opts));
        else result = impl(...readArgs(api, L, argc, opts));
        if (result === undefined) return 0;
        return pushValue(api, L, result as LuaValue);
      }
      if (!raw._lua_isyieldable(L)) {
        message = `${opts.name ?? 'this function'} waits for I/O and cannot be called here ` +
          '(not inside a metamethod, an iterator or a callback such as table.sort or string.gsub)';
      } else {
        this.pending = (fn.impl(...readArgs(api, L, argc, opts)) as Promise<LuaValue | void>).then(
          (value): Settled => ({ ok: true, value }),
          (err): Settled => ({ ok: false, error: errorText(err) }),
        );
        raw._lua_pushlightuserdata(L, SENTINEL);
        return raw._lua_yieldk(L, 1, 0, this.continuation);
      }
    } catch (err) {
      // A Lua error raised while we were on the stack (longjmp) must keep unwinding.
      if (typeof err === 'number') throw err;
      message = errorText(err);
    }
    return this.raise(L, message);
  }

  private continueAfterWait(L: LuaState): number {
    const error = this.resumeError;
    this.resumeError = null;
    if (error !== null) return this.raise(L, error);
    return this.resumeCount;
  }

  /** Raises a Lua error at the Lua caller's line. */
  raise(L: LuaState, message: string): number {
    const { raw } = this.api;
    // Point at the user's line: skip frames of core and feature wrapper chunks ("[sqlite]:12:").
    for (let level = 1; level < 12; level++) {
      raw._luaL_where(L, level);
      const where = this.api.toString(L, -1) ?? '';
      // "" is a C caller such as pcall: like luaL_error, give no position then.
      if (!where.startsWith('[')) break;
      raw._lua_settop(L, -2);
      if (level === 11) raw._luaL_where(L, 1);
    }
    this.api.pushString(L, message);
    raw._lua_concat(L, 2);
    return raw._lua_error(L);
  }
}

function readArg(api: LuaApi, L: LuaState, i: number, opts: ReadOptions): LuaValue {
  return readValue(api, L, i, opts);
}

function readArgs(api: LuaApi, L: LuaState, argc: number, opts: ReadOptions): LuaValue[] {
  const args = new Array<LuaValue>(argc);
  for (let i = 0; i < argc; i++) args[i] = readValue(api, L, i + 1, opts);
  return args;
}
