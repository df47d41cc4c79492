// One Lua 5.4 state with the host-call bridge and the coroutine driver.
//
// Every piece of Lua (app loading, each request, `redox run` scripts) runs in its own
// coroutine. A host function that waits on I/O yields the coroutine with a sentinel; the driver
// awaits the promise, pushes the result and resumes. Other coroutines run meanwhile, so Lua
// code reads as blocking while the process serves many requests at once.
import {
  LuaApi, LuaState, LUA_OK, LUA_YIELD, LUA_REGISTRYINDEX, T_FUNCTION, T_LIGHTUSERDATA, T_STRING, T_TABLE, upvalueIndex,
} from './api';
import { HostFunction } from './host';
import { pushValue, readValue, LuaValue } from './marshal';
import { ALLOC_CHECK_LUA } from './alloc-check.lua';

const SENTINEL = 0x5ed0; // lightuserdata address that marks "waiting on the host"

export class LuaError extends Error {
  constructor(message: string, readonly traceback?: string) {
    super(message);
    this.name = 'LuaError';
  }
}

/** Thrown by the driver when a coroutine used more Lua CPU time or heap than allowed; the
 *  coroutine is abandoned (it cannot catch this with pcall). */
export class LuaBudgetError extends Error {
  constructor(readonly kind: 'cpu' | 'memory', readonly limit: number) {
    super(kind === 'cpu' ? `used more than ${limit} ms of Lua CPU time` : `Lua heap grew past ${Math.round(limit / 1024 / 1024)} MiB`);
    this.name = 'LuaBudgetError';
  }
}

/** Thrown by the driver when a coroutine ran past its deadline; the coroutine is abandoned. */
export class LuaTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`gave up after ${timeoutMs} ms`);
    this.name = 'LuaTimeoutError';
  }
}

/** Thrown for a request whose VM was discarded after a forced stop (the watchdog). */
export class LuaDiscardedError extends Error {
  constructor() {
    super('the Lua VM was discarded after a forced stop');
    this.name = 'LuaDiscardedError';
  }
}

/** Told when each budgeted Lua run starts and ends (the runtime's watchdog). */
export interface RunGuard {
  arm(ms: number): void;
  disarm(): void;
}

// The in-VM hook should stop an overrun first; the watchdog steps in this much later.
const GUARD_MARGIN_MS = 100;
// CPU time the __close handlers of an abandoned coroutine get.
const CLOSE_BUDGET_MS = 50;

type Settled = { ok: true; value: LuaValue | void } | { ok: false; error: string };

export interface DriveOptions {
  /** Abandon the coroutine (LuaTimeoutError) when it is still waiting at this time (ms epoch). */
  deadline?: number;
  /** Lua execution time the coroutine may use, not counting waits on the host (ms). */
  cpuBudgetMs?: number;
  /** Lua heap size (bytes) above which the running coroutine is stopped. */
  memoryLimit?: number;
}

/** The coroutine being resumed right now, as the instruction-count hook sees it. */
interface Slice {
  start: number;
  used: number;
  cpuBudgetMs: number;
  memoryLimit: number;
  exceeded: 'cpu' | 'memory' | null;
  collections: number;
}

// The hook runs every HOOK_INSTRUCTIONS VM instructions: often enough to stop a runaway loop
// within a fraction of a millisecond, rarely enough that its JS call is noise.
const HOOK_INSTRUCTIONS = 10_000;
const LUA_MASKCOUNT = 8;
// Finished coroutines kept for reuse: creating and anchoring one per request costs more.
const IDLE_THREADS = 64;

export type RawFunction = (L: LuaState) => number;

export class LuaVM {
  readonly api: LuaApi;
  readonly L: LuaState;
  private readonly functions: HostFunction[] = [];
  private readonly rawFunctions: RawFunction[] = [];
  private readonly dispatcher: number;
  private readonly rawDispatcher: number;
  private readonly continuation: number;
  private pending: Promise<Settled> | null = null;
  private resumeError: string | null = null;
  private resumeCount = 0;
  private closed = false;
  private discarded = false;
  private slice: Slice | null = null;
  private idleThreads: { T: LuaState; ref: number }[] = [];
  private hookInstalled = false;
  private hook = 0;
  /** The request coroutine being resumed right now (0 when none). */
  private running: LuaState = 0;
  /** Watchdog for Lua runs with a CPU budget or deadline; set by the runtime. */
  guard: RunGuard | null = null;
  /** Address of global_State's totalbytes (GCdebt follows), found by calibration; 0 if unknown. */
  private heapCounter = 0;

  static async create(wasmPath: string): Promise<LuaVM> {
    return new LuaVM(await LuaApi.load(wasmPath));
  }

  private constructor(api: LuaApi) {
    this.api = api;
    const raw = api.raw;
    this.L = raw._luaL_newstate();
    this.dispatcher = raw.addFunction((L: number) => this.callHost(L), 'ii');
    this.rawDispatcher = raw.addFunction((L: number) => {
      const id = Number(raw._lua_tointegerx(L, upvalueIndex(1), 0));
      let message: string;
      try {
        return this.rawFunctions[id](L);
      } catch (err) {
        if (typeof err === 'number') throw err; // a Lua error unwinding (longjmp)
        message = errorText(err);
      }
      return this.raise(L, message);
    }, 'ii');
    this.continuation = raw.addFunction((L: number) => this.continueAfterWait(L), 'iiii');
    this.openSafeLibraries();
  }

  /** Enables CPU and memory budgets. Coroutines created afterwards inherit the hook. */
  enableBudgets(): void {
    if (this.hookInstalled) return;
    const { raw } = this.api;
    const hook = raw.addFunction((L: number) => this.onHook(L), 'vii');
    this.hook = hook;
    raw._lua_sethook(this.L, hook, LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
    this.hookInstalled = true;
    this.installAllocationCheck();
    // Threads inherit the hook when created: drop the ones made before it.
    for (const t of this.idleThreads) this.unref(t.ref);
    this.idleThreads = [];
  }

  private onHook(L: LuaState): void {
    const slice = this.slice;
    if (slice === null || slice.exceeded) return this.stopRunaway(L, slice);
    // Memory first: a request that allocates fast also burns CPU, and memory is the cause.
    if (this.heapCounter !== 0 && this.heapBytes() > slice.memoryLimit) {
      // Garbage (including abandoned coroutines) must not count against the limit: collect,
      // then judge what is really live.
      this.collectGarbage(L);
      slice.collections++;
      const live = this.heapBytes();
      // Live data hovering near the limit would make every hook run a full collection.
      if (live > slice.memoryLimit || (slice.collections >= 3 && live > slice.memoryLimit * 0.75)) slice.exceeded = 'memory';
    }
    if (!slice.exceeded && performance.now() - slice.start + slice.used > slice.cpuBudgetMs) slice.exceeded = 'cpu';
    if (!slice.exceeded) return;
    this.stopRunaway(L, slice);
  }

  /** A full collection through the original collectgarbage, which the prelude keeps in the
   *  registry (the app cannot replace it). */
  private collectGarbage(L: LuaState): void {
    const { raw } = this.api;
    if (this.api.getField(L, LUA_REGISTRYINDEX, 'redox.collect') !== T_FUNCTION) {
      raw._lua_settop(L, -2);
      return;
    }
    this.api.pushString(L, 'collect');
    raw._lua_callk(L, 1, 0, 0, 0);
  }

  /** Yields out of the runaway coroutine (pcall cannot catch a yield); the driver abandons it. */
  private stopRunaway(L: LuaState, slice: Slice | null): void {
    if (slice === null || !slice.exceeded) return;
    const { raw } = this.api;
    // From now on every instruction of this thread and of the request's coroutine traps: a pcall
    // loop inside a C boundary (sort comparator, gsub callback, load reader) cannot run on.
    raw._lua_sethook(L, this.hook, LUA_MASKCOUNT, 1);
    if (this.running && this.running !== L) raw._lua_sethook(this.running, this.hook, LUA_MASKCOUNT, 1);
    if (raw._lua_isyieldable(L)) {
      raw._lua_yieldk(L, 0, 0, 0);
      return;
    }
    // Inside a C callback (table.sort, gsub) a yield is impossible: raise instead; the hook
    // fires again in the caller and yields from there.
    this.api.pushString(L, slice.exceeded === 'cpu' ? 'CPU budget exceeded' : 'memory limit exceeded');
    raw._lua_error(L);
  }

  /** Wraps string.rep so a result that would not fit under the heap limit is refused before
   *  the wasm heap grows for it. */
  private installAllocationCheck(): void {
    const { raw } = this.api;
    const L = this.L;
    const fn = this.compile(ALLOC_CHECK_LUA, '=[alloc check]');
    this.pushRef(L, fn);
    this.unref(fn);
    this.pushRawFunction(L, (T) => {
      const bytes = Number(raw._lua_tonumberx(T, 1, 0));
      const slice = this.slice;
      if (!slice || this.heapCounter === 0 || this.heapBytes() + bytes <= slice.memoryLimit) return 0;
      slice.exceeded = 'memory';
      // Stop at the next instruction even if the caller catches the error.
      raw._lua_sethook(T, this.hook, LUA_MASKCOUNT, 1);
      if (this.running && this.running !== T) raw._lua_sethook(this.running, this.hook, LUA_MASKCOUNT, 1);
      return this.raise(T, `not enough memory: a ${bytes}-byte string would exceed the Lua memory limit`);
    });
    if (raw._lua_pcallk(L, 1, 0, 0, 0, 0) !== LUA_OK) {
      const message = this.api.toString(L, -1);
      raw._lua_settop(L, 0);
      throw new LuaError(`allocation check: ${message}`);
    }
  }

  /** Stops the running request at its next Lua instruction (called by the watchdog, on the
   *  main thread, while that request's Lua run is on the stack). */
  interrupt(): void {
    const slice = this.slice;
    if (!slice || !this.running || !this.hookInstalled) return;
    slice.exceeded ??= 'cpu';
    this.api.raw._lua_sethook(this.running, this.hook, LUA_MASKCOUNT, 1);
  }

  /** Forgets the state without running Lua again (not even __gc): after a forced stop it may
   *  be mid-way through any C function. Waiting coroutines fail with LuaDiscardedError. */
  discard(): void {
    this.closed = true;
    this.discarded = true;
    this.idleThreads = [];
  }

  /** Lua's own count of heap bytes (totalbytes + GCdebt in global_State). */
  heapBytes(): number {
    const heap = this.api.raw.HEAP32;
    return heap[this.heapCounter >> 2] + heap[(this.heapCounter >> 2) + 1];
  }

  /** Finds global_State's byte counter by matching candidates against collectgarbage("count")
   *  at two different heap sizes. Returns false (memory limit unavailable) if none matches. */
  async calibrateHeapCounter(): Promise<boolean> {
    const { raw } = this.api;
    const count = async (grow: boolean): Promise<number> => {
      const ref = this.compile(grow ? 'KEEP = {} for i = 1, 4000 do KEEP[i] = {i} end return collectgarbage("count")' : 'KEEP = nil collectgarbage() return collectgarbage("count")', '=[calibrate]');
      try {
        return await this.drive((T) => { this.pushRef(T, ref); return 1; }, (T, n) => this.result(T, n, 1) as number);
      } finally {
        this.unref(ref);
      }
    };
    const heap32 = () => raw.HEAP32;
    const lBase = this.L >> 2;
    const candidates: number[] = [];
    const small = (await count(false)) * 1024;
    for (let i = 0; i < 16; i++) {
      const g = heap32()[lBase + i];
      if (g <= 0 || g % 4 !== 0 || g >= raw.HEAPU8.length - 64) continue;
      for (let off = 0; off < 48; off += 4) {
        const at = g + off;
        if (Math.abs(heap32()[at >> 2] + heap32()[(at >> 2) + 1] - small) < 1024) candidates.push(at);
      }
    }
    const large = (await count(true)) * 1024;
    const match = candidates.find((at) => Math.abs(heap32()[at >> 2] + heap32()[(at >> 2) + 1] - large) < 1024);
    await count(false);
    this.heapCounter = match ?? 0;
    return this.heapCounter !== 0;
  }

  /** The standard libraries a service needs; io, package and the unsafe parts of os and debug
   *  stay closed (the prelude trims what is left). */
  private openSafeLibraries(): void {
    const { raw } = this.api;
    const L = this.L;
    raw._luaopen_base(L);
    raw._lua_settop(L, 0);
    const libs: [string, string][] = [
      ['coroutine', '_luaopen_coroutine'], ['table', '_luaopen_table'], ['string', '_luaopen_string'],
      ['utf8', '_luaopen_utf8'], ['math', '_luaopen_math'], ['os', '_luaopen_os'], ['debug', '_luaopen_debug'],
    ];
    for (const [name, opener] of libs) {
      (raw as any)[opener](L);
      this.api.setGlobal(L, name);
    }
  }

  /** Pushes a Lua closure that calls `fn` on the host. */
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

  /** Anchors the value on top of L's stack in the registry and pops it. */
  ref(L: LuaState): number {
    return this.api.raw._luaL_ref(L, LUA_REGISTRYINDEX);
  }

  unref(ref: number): void {
    this.api.raw._luaL_unref(this.L, LUA_REGISTRYINDEX, ref);
  }

  pushRef(L: LuaState, ref: number): void {
    this.api.raw._lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(ref));
  }

  /** Compiles a text chunk and returns a registry reference to the function. */
  compile(source: string | Uint8Array, chunkName: string): number {
    const status = this.api.load(this.L, source, chunkName);
    if (status !== LUA_OK) {
      const message = this.api.toString(this.L, -1) ?? 'failed to load chunk';
      this.api.pop(this.L, 1);
      throw new LuaError(message);
    }
    return this.ref(this.L);
  }

  private callHost(L: LuaState): number {
    const { raw } = this.api;
    const fn = this.functions[Number(raw._lua_tointegerx(L, upvalueIndex(1), 0))];
    let message: string;
    try {
      const argc = raw._lua_gettop(L);
      const args = new Array(argc);
      for (let i = 0; i < argc; i++) args[i] = readValue(this.api, L, i + 1, fn.options);
      if (fn.kind === 'sync') {
        const result = fn.impl(...args) as LuaValue;
        if (result === undefined) return 0;
        return pushValue(this.api, L, result);
      }
      if (!raw._lua_isyieldable(L)) {
        message = `${fn.options.name ?? 'this function'} waits for I/O and cannot be called here ` +
          '(not inside a metamethod, an iterator or a callback such as table.sort or string.gsub)';
      } else {
        this.pending = (fn.impl(...args) as Promise<LuaValue | void>).then(
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
  private raise(L: LuaState, message: string): number {
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

  /**
   * Runs a function in a new coroutine until it returns, awaiting every host wait on the way.
   * `setup` pushes the function and its arguments on the coroutine and returns the argument
   * count; `finish` reads the `nres` results from the top of its stack.
   */
  async drive<R>(setup: (T: LuaState) => number, finish: (T: LuaState, nres: number) => R, options: DriveOptions = {}): Promise<R> {
    if (this.discarded) throw new LuaDiscardedError();
    if (this.closed) throw new Error('the Lua VM is closed');
    const { raw } = this.api;
    let thread = this.idleThreads.pop();
    if (!thread) {
      const T = raw._lua_newthread(this.L);
      thread = { T, ref: this.ref(this.L) };
    }
    const T = thread.T;
    let reusable = false;
    try {
      let nargs = setup(T) - 1;
      const slice: Slice | null = options.cpuBudgetMs !== undefined && this.hookInstalled
        ? { start: 0, used: 0, cpuBudgetMs: options.cpuBudgetMs, memoryLimit: options.memoryLimit ?? Infinity, exceeded: null, collections: 0 }
        : null;
      for (;;) {
        let status: number;
        // A wait started where the yield then failed (a C boundary) must not leak into this one.
        this.pending = null;
        if (slice) {
          slice.start = performance.now();
          this.slice = slice;
          this.running = T;
          const guard = this.guard;
          if (guard) {
            const left = Math.min(slice.cpuBudgetMs - slice.used, options.deadline === undefined ? Infinity : options.deadline - Date.now());
            if (left < 2 ** 30) guard.arm(Math.max(0, left) + GUARD_MARGIN_MS);
          }
          try {
            status = raw._lua_resume(T, this.L, nargs, this.api.resultCountPtr);
          } finally {
            guard?.disarm();
            this.slice = null;
            this.running = 0;
            slice.used += performance.now() - slice.start;
          }
        } else {
          status = raw._lua_resume(T, this.L, nargs, this.api.resultCountPtr);
        }
        const nres = raw.HEAP32[this.api.resultCountPtr >> 2];
        // Checked first: a runaway user coroutine may have been stopped while its caller went on.
        if (slice?.exceeded) {
          this.pending = null;
          throw new LuaBudgetError(slice.exceeded, slice.exceeded === 'cpu' ? slice.cpuBudgetMs : slice.memoryLimit);
        }
        if (status === LUA_OK) {
          const result = finish(T, nres);
          reusable = true;
          return result;
        }
        if (status !== LUA_YIELD) throw this.errorFrom(T);
        const pending = this.pending as Promise<Settled> | null;
        this.pending = null;
        const isHostWait = pending !== null && nres === 1 && raw._lua_type(T, -1) === T_LIGHTUSERDATA &&
          raw._lua_touserdata(T, -1) === SENTINEL;
        raw._lua_settop(T, -nres - 1);
        if (!isHostWait) throw new LuaError('coroutine.yield was called outside of a coroutine');
        const settled = await withDeadline(pending, options.deadline);
        if (this.discarded) throw new LuaDiscardedError();
        if (this.closed) throw new Error('the Lua VM was closed while a coroutine was waiting');
        if (settled.ok) {
          this.resumeError = null;
          nargs = settled.value === undefined ? 0 : pushValue(this.api, T, settled.value);
        } else {
          this.resumeError = settled.error;
          nargs = 0;
        }
        this.resumeCount = nargs;
      }
    } finally {
      if (!this.closed) {
        // A coroutine that returned can run another function; failed or abandoned ones are
        // dropped so the GC reclaims them.
        if (reusable && this.idleThreads.length < IDLE_THREADS) {
          raw._lua_settop(T, 0);
          this.idleThreads.push(thread);
        } else {
          if (!reusable) this.closeAbandoned(T);
          this.unref(thread.ref);
        }
      }
    }
  }

  /** Closes the pending to-be-closed variables of a coroutine that failed or was abandoned
   *  (db:transaction rolls back this way), under a small budget of their own. */
  private closeAbandoned(T: LuaState): void {
    const { raw } = this.api;
    if (this.hookInstalled) {
      raw._lua_sethook(T, this.hook, LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
      this.slice = { start: performance.now(), used: 0, cpuBudgetMs: CLOSE_BUDGET_MS, memoryLimit: Infinity, exceeded: null, collections: 0 };
      this.running = T;
      this.guard?.arm(CLOSE_BUDGET_MS + GUARD_MARGIN_MS);
    }
    try {
      raw._lua_resetthread(T);
    } finally {
      this.guard?.disarm();
      this.slice = null;
      this.running = 0;
    }
  }

  /** The error on top of a failed coroutine, with its traceback. */
  private errorFrom(T: LuaState): LuaError {
    const { raw } = this.api;
    const type = raw._lua_type(T, -1);
    const message = type === T_STRING || type === T_TABLE ? this.api.describe(T, -1) : `(error object is a ${type === 0 ? 'nil' : 'non-string'} value)`;
    raw._luaL_traceback(this.L, T, 0, 0);
    const traceback = this.api.toString(this.L, -1) ?? '';
    this.api.pop(this.L, 1);
    return new LuaError(message, traceback);
  }

  /** Reads result i (1-based) of `nres` results on top of T. */
  result(T: LuaState, nres: number, i: number): LuaValue {
    return readValue(this.api, T, -nres + i - 1);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.api.raw._lua_close(this.L);
  }
}

function withDeadline<T>(promise: Promise<T>, deadline: number | undefined): Promise<T> {
  if (deadline === undefined) return promise;
  const remaining = deadline - Date.now();
  if (remaining <= 0) return Promise.reject(new LuaTimeoutError(0));
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LuaTimeoutError(remaining)), remaining);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
