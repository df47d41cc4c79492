// Per-request CPU and memory budgets, enforced by a Lua count hook: every HOOK_INSTRUCTIONS
// instructions it checks the running slice's clock and the heap, and stops a runaway coroutine
// by yielding out of it (pcall cannot catch a yield).
import { LuaApi, LuaState, LUA_REGISTRYINDEX, T_FUNCTION } from './api';
import { HeapCounter } from './heap';
import { REGISTRY } from './registry';

/** The budget of one coroutine run, across all its resumes. */
export interface Slice {
  start: number;
  used: number;
  cpuBudgetMs: number;
  memoryLimit: number;
  exceeded: 'cpu' | 'memory' | null;
  collections: number;
}

export interface BudgetOptions {
  /** Lua execution time the coroutine may use, not counting waits on the host (ms). */
  cpuBudgetMs?: number;
  /** Lua heap size (bytes) above which the running coroutine is stopped. */
  memoryLimit?: number;
}

// Often enough to stop a runaway loop within a fraction of a millisecond, rarely enough that
// its JS call is noise.
const HOOK_INSTRUCTIONS = 10_000;
const LUA_MASKCOUNT = 8;

export class Budget {
  /** The slice being resumed right now, as the hook sees it. */
  current: Slice | null = null;
  installed = false;

  constructor(private readonly api: LuaApi, private readonly heap: HeapCounter) {}

  /** Sets the hook on the main state; coroutines created afterwards inherit it. */
  install(L: LuaState): void {
    if (this.installed) return;
    const hook = this.api.raw.addFunction((T: number) => this.onHook(T), 'vii');
    this.api.raw._lua_sethook(L, hook, LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
    this.installed = true;
  }

  /** A fresh slice for a run with these options, or null when no budget applies. */
  sliceFor(options: BudgetOptions): Slice | null {
    if (options.cpuBudgetMs === undefined || !this.installed) return null;
    return { start: 0, used: 0, cpuBudgetMs: options.cpuBudgetMs, memoryLimit: options.memoryLimit ?? Infinity, exceeded: null, collections: 0 };
  }

  private onHook(L: LuaState): void {
    const slice = this.current;
    if (slice === null || slice.exceeded) return this.stopRunaway(L, slice);
    // Memory first: a request that allocates fast also burns CPU, and memory is the cause.
    if (this.heap.known && this.heap.bytes() > slice.memoryLimit) {
      // Garbage (including abandoned coroutines) must not count against the limit: collect,
      // then judge what is really live.
      this.collectGarbage(L);
      slice.collections++;
      const live = this.heap.bytes();
      // Live data hovering near the limit would make every hook run a full collection.
      if (live > slice.memoryLimit || (slice.collections >= 3 && live > slice.memoryLimit * 0.75)) slice.exceeded = 'memory';
    }
    if (!slice.exceeded && performance.now() - slice.start + slice.used > slice.cpuBudgetMs) slice.exceeded = 'cpu';
    if (!slice.exceeded) return;
    this.stopRunaway(L, slice);
  }

  /** A full collection through the original collectgarbage, kept in the registry. */
  private collectGarbage(L: LuaState): void {
    const { raw } = this.api;
    if (this.api.getField(L, LUA_REGISTRYINDEX, REGISTRY.collect) !== T_FUNCTION) {
      raw._lua_settop(L, -2);
      return;
    }
    this.api.pushString(L, 'collect');
    raw._lua_callk(L, 1, 0, 0, 0);
  }

  /** Yields out of the runaway coroutine; the driver abandons it. */
  private stopRunaway(L: LuaState, slice: Slice | null): void {
    if (slice === null || !slice.exceeded) return;
    const { raw } = this.api;
    if (raw._lua_isyieldable(L)) {
      raw._lua_yieldk(L, 0, 0, 0);
      return;
    }
    // Inside a C callback (table.sort, gsub) a yield is impossible: raise instead; the hook
    // fires again in the caller and yields from there.
    this.api.pushString(L, slice.exceeded === 'cpu' ? 'CPU budget exceeded' : 'memory limit exceeded');
    raw._lua_error(L);
  }
}
