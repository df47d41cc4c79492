// Coroutines kept for reuse: creating and anchoring one per request costs more than resetting a
// finished one. Threads inherit the main state's count hook when created, so a change of it
// (enabling budgets, lazy budgets) empties the pool.
import { LuaApi, LuaState, LUA_REGISTRYINDEX } from './api';

export interface PooledThread {
  T: LuaState;
  ref: number;
}

const IDLE_THREADS = 64;

export class ThreadPool {
  private idle: PooledThread[] = [];

  constructor(private readonly api: LuaApi, private readonly L: LuaState) {}

  take(): PooledThread {
    const t = this.idle.pop();
    if (t) return t;
    const T = this.api.raw._lua_newthread(this.L);
    return { T, ref: this.api.raw._luaL_ref(this.L, LUA_REGISTRYINDEX) };
  }

  /** A coroutine that returned can run another function. */
  release(t: PooledThread): void {
    if (this.idle.length >= IDLE_THREADS) return this.drop(t);
    this.api.raw._lua_settop(t.T, 0);
    this.idle.push(t);
  }

  /** Failed or abandoned coroutines are dropped so the GC reclaims them. */
  drop(t: PooledThread): void {
    this.api.raw._luaL_unref(this.L, LUA_REGISTRYINDEX, t.ref);
  }

  clear(): void {
    for (const t of this.idle) this.drop(t);
    this.idle = [];
  }
}
