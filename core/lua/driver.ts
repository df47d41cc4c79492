// The coroutine driver. Every piece of Lua (app loading, each request, `redox run` scripts) runs
// in a pooled coroutine. `run` resumes it at once: a run that never waits on the host finishes
// synchronously, with no promise. A host wait yields the coroutine with a sentinel; only then
// does the run become asynchronous: the driver awaits the promise, pushes the result and
// resumes. Other coroutines run meanwhile, so Lua code reads as blocking.
import { LuaApi, LuaState, LUA_OK, LUA_YIELD, T_LIGHTUSERDATA, T_STRING, T_TABLE } from './api';
import { HostBridge, SENTINEL, Settled } from './bridge';
import { Budget, BudgetOptions, ENGAGE_AFTER_MS, Slice } from './budget';
import { LuaBudgetError, LuaError, LuaTimeoutError } from './errors';
import { PooledThread, ThreadPool } from './threads';

export interface DriveOptions extends BudgetOptions {
  /** Abandon the coroutine (LuaTimeoutError) when it is still waiting at this time (ms epoch). */
  deadline?: number;
}

/** Told when each budgeted Lua run starts and ends (the runtime's watchdog). */
export interface RunGuard {
  /** `deadline` (Infinity: none) and `engageAt` (when the run should get the budget hook, under
   *  lazy budgets; Infinity: never) on the performance.now() clock. */
  arm(deadline: number, engageAt?: number): void;
  disarm(): void;
}

// The in-VM hook should stop an overrun first; the watchdog steps in this much later.
const GUARD_MARGIN_MS = 50;
// CPU time the __close handlers of an abandoned coroutine get.
const CLOSE_BUDGET_MS = 50;

/** Pushes the function and its arguments on the coroutine; returns how many values it pushed. */
export type Setup = (T: LuaState) => number;
/** Reads the `nres` results from the top of the coroutine's stack. */
export type Finish<R> = (T: LuaState, nres: number) => R;

export class Driver {
  /** Watchdog for runs with a CPU budget or deadline; set by the runtime. */
  guard: RunGuard | null = null;

  constructor(
    private readonly api: LuaApi,
    private readonly L: LuaState,
    private readonly bridge: HostBridge,
    private readonly budget: Budget,
    private readonly threads: ThreadPool,
    private readonly isClosed: () => boolean,
  ) {}

  /**
   * Runs a function in a pooled coroutine until it returns. Returns the result directly when
   * the run never waited on the host, else a promise. Errors are thrown (or rejected) as
   * LuaError, LuaBudgetError or LuaTimeoutError.
   */
  run<R>(setup: Setup, finish: Finish<R>, options: DriveOptions = {}): R | Promise<R> {
    if (this.isClosed()) throw new Error('the Lua VM is closed');
    const thread = this.threads.take();
    let nargs: number;
    try {
      nargs = setup(thread.T) - 1;
    } catch (err) {
      this.threads.drop(thread);
      throw err;
    }
    return this.step(thread, nargs, this.budget.sliceFor(options), finish, options.deadline);
  }

  /** Drops a failed or abandoned coroutine after closing its pending to-be-closed variables
   *  (db:transaction rolls back this way), under a small budget of their own. */
  private abandon(thread: PooledThread): void {
    if (this.isClosed()) return;
    const T = thread.T;
    const slice = this.budget.forClosing(T, CLOSE_BUDGET_MS);
    if (slice === null) {
      this.api.raw._lua_resetthread(T);
    } else {
      this.begin(T, slice);
      try {
        this.guard?.arm(slice.start + CLOSE_BUDGET_MS + GUARD_MARGIN_MS);
        this.api.raw._lua_resetthread(T);
      } finally {
        this.end(slice, this.guard);
      }
    }
    this.threads.drop(thread);
  }

  /** Same as run, always as a promise. */
  async drive<R>(setup: Setup, finish: Finish<R>, options: DriveOptions = {}): Promise<R> {
    return this.run(setup, finish, options);
  }

  /**
   * The one place Lua is entered for a run (and left again): a resume of coroutine T, timed
   * against its slice. A watchdog that must stop Lua past a deadline arms and disarms here.
   */
  private enter(T: LuaState, nargs: number, slice: Slice | null, deadline: number | undefined): number {
    const raw = this.api.raw;
    // A wait started where the yield then failed (a C boundary) must not leak into this one.
    this.bridge.pending = null;
    if (slice === null) return raw._lua_resume(T, this.L, nargs, this.api.resultCountPtr);
    // Watched with a finite time left: the CPU budget's, else the handler deadline's.
    let guard = this.guard;
    let left = slice.cpuBudgetMs - slice.used;
    if (guard !== null && left === Infinity && deadline !== undefined) left = deadline - Date.now();
    const lazy = this.budget.lazy;
    if (left === Infinity && !(lazy && slice.memoryLimit !== Infinity)) guard = null;
    this.begin(T, slice);
    // A request that has computed for a while, or that resumes with the heap over its limit, is
    // checked by the hook from the start of this run.
    if (lazy && !slice.engaged && (slice.used >= ENGAGE_AFTER_MS || this.budget.overMemory(slice))) this.budget.engage();
    // Not yet checked by the hook: the watchdog hands it over if this run goes on.
    const engageAt = lazy && !slice.engaged ? slice.start + Math.min(ENGAGE_AFTER_MS, Math.max(0, left)) : Infinity;
    try {
      // May throw: the VM was discarded after a forced stop that is only now being noticed.
      guard?.arm(slice.start + Math.max(0, left) + GUARD_MARGIN_MS, engageAt);
      return raw._lua_resume(T, this.L, nargs, this.api.resultCountPtr);
    } finally {
      // A forced stop unwinds past this: the VM is discarded then.
      this.end(slice, guard);
    }
  }

  private begin(T: LuaState, slice: Slice): void {
    slice.start = performance.now();
    this.budget.current = slice;
    this.budget.thread = T;
  }

  private end(slice: Slice, guard: RunGuard | null): void {
    guard?.disarm();
    this.budget.current = null;
    this.budget.thread = 0;
    slice.used += performance.now() - slice.start;
  }

  /** Resumes until the coroutine returns (synchronously) or waits on the host (a promise). */
  private step<R>(thread: PooledThread, nargs: number, slice: Slice | null, finish: Finish<R>, deadline: number | undefined): R | Promise<R> {
    const raw = this.api.raw;
    const T = thread.T;
    let pending: Promise<Settled> | null;
    try {
      const status = this.enter(T, nargs, slice, deadline);
      const nres = raw.HEAP32[this.api.resultCountPtr >> 2];
      // Checked first: a runaway user coroutine may have been stopped while its caller went on.
      if (slice?.exceeded) {
        this.bridge.pending = null;
        throw new LuaBudgetError(slice.exceeded, slice.exceeded === 'cpu' ? slice.cpuBudgetMs : slice.memoryLimit);
      }
      if (status === LUA_OK) {
        const result = finish(T, nres);
        this.budget.release(T, slice);
        this.threads.release(thread);
        return result;
      }
      if (status !== LUA_YIELD) throw this.errorFrom(T);
      pending = this.bridge.pending;
      this.bridge.pending = null;
      const isHostWait = pending !== null && nres === 1 && raw._lua_type(T, -1) === T_LIGHTUSERDATA &&
        raw._lua_touserdata(T, -1) === SENTINEL;
      raw._lua_settop(T, -nres - 1);
      if (!isHostWait) throw new LuaError('coroutine.yield was called outside of a coroutine');
    } catch (err) {
      this.abandon(thread);
      throw err;
    }
    return this.wait(thread, pending!, slice, finish, deadline);
  }

  private async wait<R>(thread: PooledThread, pending: Promise<Settled>, slice: Slice | null, finish: Finish<R>, deadline: number | undefined): Promise<R> {
    let nargs: number;
    try {
      const settled = await withDeadline(pending, deadline);
      if (this.isClosed()) throw new Error('the Lua VM was closed while a coroutine was waiting');
      nargs = this.bridge.settle(thread.T, settled);
    } catch (err) {
      this.abandon(thread);
      throw err;
    }
    return this.step(thread, nargs, slice, finish, deadline);
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
