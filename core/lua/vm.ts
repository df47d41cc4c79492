// One Lua 5.4 state: the safe standard libraries, references, compilation, and the parts that
// run Lua (bridge.ts: host calls; driver.ts: coroutines and waits; threads.ts: the coroutine
// pool; budget.ts: CPU and memory budgets; heap.ts: the heap counter).
import { LuaApi, LuaState, LUA_OK, LUA_REGISTRYINDEX } from './api';
import { HostBridge, RawFunction } from './bridge';
import { Budget } from './budget';
import { Driver, DriveOptions, Finish, RunGuard, Setup } from './driver';
import { LuaError } from './errors';
import { HeapCounter } from './heap';
import { HostFunction } from './host';
import { readValue, LuaValue } from './marshal';
import { ThreadPool } from './threads';
import { ALLOC_CHECK_LUA } from './alloc-check.lua';
import { ChunkStore } from './chunks';

export { LuaError, LuaBudgetError, LuaTimeoutError, errorText } from './errors';
export type { DriveOptions, RunGuard } from './driver';
export type { RawFunction } from './bridge';

export class LuaVM {
  readonly api: LuaApi;
  readonly L: LuaState;
  readonly bridge: HostBridge;
  readonly driver: Driver;
  private readonly budget: Budget;
  private readonly heap: HeapCounter;
  private readonly threads: ThreadPool;
  private closed = false;
  /** Registry reference to string.dump (when the chunk store records). */
  private dumpRef = 0;

  /** `chunks`: bytecode of host chunks, used by compileHost (see chunks.ts). */
  static async create(wasmPath: string, chunks?: ChunkStore): Promise<LuaVM> {
    return new LuaVM(await LuaApi.load(wasmPath), chunks);
  }

  private constructor(api: LuaApi, private readonly chunks?: ChunkStore) {
    this.api = api;
    this.L = api.raw._luaL_newstate();
    this.bridge = new HostBridge(api);
    this.heap = new HeapCounter(api, this.L);
    this.budget = new Budget(api, this.heap, this.L);
    this.threads = new ThreadPool(api, this.L);
    this.driver = new Driver(api, this.L, this.bridge, this.budget, this.threads, () => this.closed);
    this.openSafeLibraries();
    if (chunks?.recording) {
      // string.dump, kept for the host before the prelude takes it from Lua.
      this.api.raw._lua_getglobal(this.L, this.api.cstr('string'));
      this.api.getField(this.L, -1, 'dump');
      this.dumpRef = this.ref(this.L);
      this.api.pop(this.L, 1);
    }
  }

  /** Enables CPU and memory budgets. Coroutines created afterwards inherit the hook. */
  enableBudgets(): void {
    if (this.budget.installed) return;
    this.budget.install();
    this.installAllocationCheck();
    // Threads inherit the hook when created: drop the ones made before it.
    this.threads.clear();
  }

  /** Wraps string.rep and table.concat so a result that would not fit under the heap limit is refused before
   *  the wasm heap grows for it (one C call, where no hook runs; wasm memory never shrinks). */
  private installAllocationCheck(): void {
    const { raw } = this.api;
    const L = this.L;
    const fn = this.compileHost(ALLOC_CHECK_LUA, '=[alloc check]');
    this.pushRef(L, fn);
    this.unref(fn);
    this.bridge.pushRawFunction(L, (T) => {
      const bytes = Number(raw._lua_tonumberx(T, 1, 0));
      if (this.budget.reserve(T, bytes)) return 0;
      throw new Error(`not enough memory: a ${bytes}-byte string would exceed the Lua memory limit`);
    });
    if (raw._lua_pcallk(L, 1, 0, 0, 0, 0) !== LUA_OK) {
      const message = this.api.toString(L, -1);
      raw._lua_settop(L, 0);
      throw new LuaError(`allocation check: ${message}`);
    }
  }

  /** Watchdog for budgeted runs (see core/runtime/watchdog.ts). */
  set guard(guard: RunGuard | null) {
    this.driver.guard = guard;
    // With a watchdog, budgets go lazy: pooled coroutines made under the old setting must go.
    if (this.budget.setLazy(guard !== null)) this.threads.clear();
  }

  /** The running request is checked by the budget hook from now on (the watchdog calls this
   *  once a run has gone on for a while). */
  engage(): void {
    this.budget.engage();
  }

  /** Stops the running request at its next Lua instruction (the watchdog's graceful stop). */
  interrupt(): void {
    this.budget.interrupt();
  }

  /** Forgets the state without running any more Lua (not even __gc): after a forced stop it
   *  may be stopped mid-way through any C function. Its waiting coroutines fail. */
  discard(): void {
    this.closed = true;
  }

  /** Lua's own count of heap bytes. */
  heapBytes(): number {
    return this.heap.bytes();
  }

  /** Locates the heap counter (needed for the memory limit); false if it cannot be found. */
  calibrateHeapCounter(): Promise<boolean> {
    return this.heap.calibrate(async (grow) => {
      // One allocation inside C: a Lua loop here would run the interpreter long enough at every
      // boot to have V8 optimise it (tiering.ts).
      const ref = this.compileHost(grow ? /* lua */ 'KEEP = string.rep("x", 262144) return collectgarbage("count")' : /* lua */ 'KEEP = nil collectgarbage() return collectgarbage("count")', '=[calibrate]');
      try {
        return await this.drive((T) => { this.pushRef(T, ref); return 1; }, (T, n) => this.result(T, n, 1) as number);
      } finally {
        this.unref(ref);
      }
    });
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

  pushFunction(L: LuaState, fn: HostFunction): void {
    this.bridge.pushFunction(L, fn);
  }

  pushRawFunction(L: LuaState, fn: RawFunction): void {
    this.bridge.pushRawFunction(L, fn);
  }

  pushSentinel(L: LuaState): void {
    this.bridge.pushSentinel(L);
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

  /** compile() for Redox's own chunks (core and features): from the chunk store's bytecode
   *  when it has this source, else from text, adding the bytecode to the store. */
  compileHost(source: string, chunkName: string): number {
    const { chunks } = this;
    if (!chunks) return this.compile(source, chunkName);
    const bytecode = chunks.get(chunkName, source);
    if (bytecode && this.api.loadBytecode(this.L, bytecode, chunkName) === LUA_OK) return this.ref(this.L);
    if (bytecode) this.api.pop(this.L, 1); // bytecode from another Lua: parse the text instead
    const ref = this.compile(source, chunkName);
    if (chunks.recording) chunks.add(chunkName, source, this.dump(ref));
    return ref;
  }

  /** string.dump of a function, with its debug information. */
  private dump(ref: number): Uint8Array {
    const { raw } = this.api;
    this.pushRef(this.L, this.dumpRef);
    this.pushRef(this.L, ref);
    if (raw._lua_pcallk(this.L, 1, 1, 0, 0, 0) !== LUA_OK) {
      const message = this.api.toString(this.L, -1);
      this.api.pop(this.L, 1);
      throw new LuaError(`string.dump: ${message}`);
    }
    const bytes = this.api.toBytes(this.L, -1)!;
    this.api.pop(this.L, 1);
    return bytes;
  }

  /** Runs a function in a coroutine: the result directly if it never waited, else a promise. */
  run<R>(setup: Setup, finish: Finish<R>, options?: DriveOptions): R | Promise<R> {
    return this.driver.run(setup, finish, options);
  }

  /** Runs a function in a coroutine until it returns, awaiting every host wait on the way. */
  drive<R>(setup: Setup, finish: Finish<R>, options?: DriveOptions): Promise<R> {
    return this.driver.drive(setup, finish, options);
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
