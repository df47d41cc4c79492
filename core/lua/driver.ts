// The coroutine driver. Every piece of Lua (app loading, each request, `redox run` scripts) runs
// in a pooled coroutine. `run` resumes it at once: a run that never waits on the host finishes
// synchronously, with no promise. A host wait yields the coroutine with a sentinel; only then
// does the run become asynchronous: the driver awaits the promise, pushes the result and
// resumes. Other coroutines run meanwhile, so Lua code reads as blocking.
import { LuaApi, LuaState, LUA_OK, LUA_YIELD, T_LIGHTUSERDATA, T_STRING, T_TABLE } from './api';
import { HostBridge, SENTINEL, Settled } from './bridge';
import { Budget, BudgetOptions, Slice } from './budget';
import { LuaBudgetError, LuaError, LuaTimeoutError } from './errors';
import { PooledThread, ThreadPool } from './threads';

export interface DriveOptions extends BudgetOptions {
  /** Abandon the coroutine (LuaTimeoutError) when it is still waiting at this time (ms epoch). */
  deadline?: number;
}

/** Pushes the function and its arguments on the coroutine; returns how many values it pushed. */
export type Setup = (T: LuaState) => number;
/** Reads the `nres` results from the top of the coroutine's stack. */
export type Finish<R> = (T: LuaState, nres: number) => R;

export class Driver {
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

  /** Same as run, always as a promise. */
  async drive<R>(setup: Setup, finish: Finish<R>, options: DriveOptions = {}): Promise<R> {
    return this.run(setup, finish, options);
  }

  /**
   * The one place Lua is entered for a run (and left again): a resume of coroutine T, timed
   * against its slice. A watchdog that must stop Lua past a deadline arms and disarms here.
   */
  private enter(T: LuaState, nargs: number, slice: Slice | null): number {
    const raw = this.api.raw;
    // A wait started where the yield then failed (a C boundary) must not leak into this one.
    this.bridge.pending = null;
    if (slice === null) return raw._lua_resume(T, this.L, nargs, this.api.resultCountPtr);
    slice.start = performance.now();
    this.budget.current = slice;
    try {
      return raw._lua_resume(T, this.L, nargs, this.api.resultCountPtr);
    } finally {
      this.budget.current = null;
      slice.used += performance.now() - slice.start;
    }
  }

  /** Resumes until the coroutine returns (synchronously) or waits on the host (a promise). */
  private step<R>(thread: PooledThread, nargs: number, slice: Slice | null, finish: Finish<R>, deadline: number | undefined): R | Promise<R> {
    const raw = this.api.raw;
    const T = thread.T;
    let pending: Promise<Settled> | null;
    try {
      const status = this.enter(T, nargs, slice);
      const nres = raw.HEAP32[this.api.resultCountPtr >> 2];
      // Checked first: a runaway user coroutine may have been stopped while its caller went on.
      if (slice?.exceeded) {
        this.bridge.pending = null;
        throw new LuaBudgetError(slice.exceeded, slice.exceeded === 'cpu' ? slice.cpuBudgetMs : slice.memoryLimit);
      }
      if (status === LUA_OK) {
        const result = finish(T, nres);
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
      if (!this.isClosed()) this.threads.drop(thread);
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
      if (!this.isClosed()) this.threads.drop(thread);
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
