// Per-request CPU and memory budgets, enforced by a Lua count hook: every HOOK_INSTRUCTIONS
// instructions it checks the running slice's clock and the heap, and stops a runaway coroutine
// by yielding out of it (pcall cannot catch a yield).
//
// A count hook makes Lua 5.4 call into the hook machinery before every instruction (about 2x
// slower Lua), however rarely the hook itself fires. So when a watchdog guards the runs (the
// default for servers), the budget is lazy: a request's coroutine runs without the hook and
// gets it only once it is worth checking (engage(): the watchdog's call when one run passes
// ENGAGE_AFTER_MS, or the driver's at a resume once the request has used that much or the heap
// is over its limit). The hook then goes on the request's coroutine and on every coroutine it
// is resuming (runningChain()), since any of them may be the one running. Without a watchdog,
// every thread inherits the hook from the main state, as before.
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
  /** The slice's coroutine carries the count hook (lazy budgets): it is removed on release. */
  engaged: boolean;
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
/** Lua time after which a run is checked by the hook (lazy budgets). Short runs, nearly all of
 *  them, never pay for it; the watchdog's inspector session is connected only for longer ones. */
export const ENGAGE_AFTER_MS = 50;
// lua_Debug (lua.h): where `what` ("C", "Lua", "main") sits in a 32-bit build, and room for the
// whole struct (~110 bytes).
const AR_WHAT = 12;
const AR_BYTES = 256;
// Coroutines resuming one another deeper than this exhaust Lua's C stack first (LUAI_MAXCCALLS).
const MAX_NESTING = 200;

export class Budget {
  /** The slice being resumed right now, as the hook sees it. */
  current: Slice | null = null;
  /** The coroutine the driver resumed for that slice (nested user coroutines run inside it). */
  thread: LuaState = 0;
  installed = false;
  /** Hook set only where needed (see the top of this file); false: inherited everywhere. */
  lazy = false;
  private hook = 0;
  /** A lua_Debug for runningChain(), its option strings, and the C function behind
   *  coroutine.resume. Allocated at install: runningChain() runs wherever the watchdog
   *  interrupted the VM, possibly inside malloc, so it must not allocate in the wasm heap. */
  private ar = 0;
  private optS = 0;
  private optF = 0;
  private coresume = 0;

  constructor(private readonly api: LuaApi, private readonly heap: HeapCounter, private readonly L: LuaState) {}

  /** Sets the hook on the main state; coroutines created afterwards inherit it. */
  install(): void {
    if (this.installed) return;
    const hook = this.api.raw.addFunction((T: number) => this.onHook(T), 'vii');
    this.api.raw._lua_sethook(this.L, hook, LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
    this.hook = hook;
    this.installed = true;
    const { raw } = this.api;
    this.ar = raw._malloc(AR_BYTES);
    this.optS = this.api.cstr('S');
    this.optF = this.api.cstr('f');
    if (this.api.getField(this.L, LUA_REGISTRYINDEX, REGISTRY.coresume) === T_FUNCTION) this.coresume = raw._lua_tocfunction(this.L, -1);
    raw._lua_settop(this.L, -2);
  }

  /** Lazy budgets (a watchdog guards the runs): the main state drops the hook, so coroutines
   *  made from it start without. Returns whether that changed (pooled threads must go then). */
  setLazy(lazy: boolean): boolean {
    if (!this.installed || lazy === this.lazy) return false;
    this.lazy = lazy;
    if (lazy) this.api.raw._lua_sethook(this.L, 0, 0, 0);
    else this.api.raw._lua_sethook(this.L, this.hook, LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
    return true;
  }

  /** The running slice is checked by the hook from now on. Safe while Lua runs: lua_sethook
   *  only sets fields the interpreter reads at its next instruction (Lua allows it from a
   *  signal handler). */
  engage(): void {
    const slice = this.current;
    if (!slice || !this.thread || !this.lazy || slice.engaged) return;
    slice.engaged = true;
    for (const T of this.runningChain(this.thread)) this.api.raw._lua_sethook(T, this.hook, LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
  }

  /**
   * T0 and the coroutines it is resuming, outermost first. A thread that resumes a coroutine is
   * inside the C function coroutine.resume (the prelude's wrap and resume call it too), whose
   * first argument is that coroutine. Only threads that are inside a C function are read
   * further (their stack tops are consistent); a thread that is running Lua is only asked what
   * runs (lua_getinfo "S", which reads).
   */
  private runningChain(T0: LuaState): LuaState[] {
    const { api } = this;
    const raw = api.raw;
    const chain = [T0];
    if (this.ar === 0 || this.coresume === 0) return chain;
    const ar = this.ar;
    let T = T0;
    for (let depth = 0; depth < MAX_NESTING; depth++) {
      if (!raw._lua_getstack(T, 0, ar) || !raw._lua_getinfo(T, this.optS, ar)) break;
      const what: number = raw.HEAPU32[(ar + AR_WHAT) >> 2];
      const heap = api.heap();
      if (heap[what] !== 0x43 || heap[what + 1] !== 0) break; // not "C"
      raw._lua_getinfo(T, this.optF, ar); // pushes the function
      const fn: number = raw._lua_tocfunction(T, -1);
      raw._lua_settop(T, -2);
      if (fn !== this.coresume || !raw._lua_getlocal(T, ar, 1)) break; // getlocal pushes argument 1
      const co: LuaState = raw._lua_tothread(T, -1);
      raw._lua_settop(T, -2);
      if (!co || chain.includes(co)) break;
      chain.push(co);
      T = co;
    }
    return chain;
  }

  /** The heap is over the slice's limit (the hook then collects garbage and judges). */
  overMemory(slice: Slice): boolean {
    return slice.memoryLimit !== Infinity && this.heap.known && this.heap.bytes() > slice.memoryLimit;
  }

  /** A pooled coroutine goes back without the hook its slice was engaged with. */
  release(T: LuaState, slice: Slice | null): void {
    if (this.lazy && slice?.engaged) this.api.raw._lua_sethook(T, 0, 0, 0);
  }

  /** Stops the running slice at its next Lua instruction (the watchdog calls this on the main
   *  thread while that run is on the stack). */
  interrupt(): void {
    const slice = this.current;
    if (!slice || !this.thread || !this.installed) return;
    slice.exceeded ??= 'cpu';
    this.trapEveryInstruction(this.thread);
  }

  /** From now on every instruction of T (and of the slice's coroutine, and under lazy budgets
   *  of every coroutine it is resuming) runs the hook: a pcall loop inside a C boundary (sort
   *  comparator, gsub callback, load reader), where the hook can only raise, cannot run on, and
   *  nested coroutines cannot keep resuming one another. */
  private trapEveryInstruction(T: LuaState): void {
    const { raw } = this.api;
    raw._lua_sethook(T, this.hook, LUA_MASKCOUNT, 1);
    if (!this.thread) return;
    const chain = this.lazy ? this.runningChain(this.thread) : [this.thread];
    for (const C of chain) if (C !== T) raw._lua_sethook(C, this.hook, LUA_MASKCOUNT, 1);
  }

  /** Raw function for string.rep and the like: raises (and stops the request as over its
   *  memory limit) when `bytes` more would not fit under the heap limit. */
  reserve(T: LuaState, bytes: number): boolean {
    const slice = this.current;
    if (!slice || !this.heap.known || this.heap.bytes() + bytes <= slice.memoryLimit) return true;
    slice.exceeded = 'memory';
    this.trapEveryInstruction(T);
    return false;
  }

  /** Lets the __close handlers of an abandoned coroutine run under a small budget of their
   *  own: back to the normal count, on a fresh slice. */
  forClosing(T: LuaState, cpuBudgetMs: number): Slice | null {
    if (!this.installed) return null;
    this.api.raw._lua_sethook(T, this.hook, LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
    return { start: 0, used: 0, cpuBudgetMs, memoryLimit: Infinity, exceeded: null, collections: 0, engaged: false };
  }

  /** A fresh slice for a run with these options, or null when no budget applies. */
  sliceFor(options: BudgetOptions): Slice | null {
    if (options.cpuBudgetMs === undefined || !this.installed) return null;
    return { start: 0, used: 0, cpuBudgetMs: options.cpuBudgetMs, memoryLimit: options.memoryLimit ?? Infinity, exceeded: null, collections: 0, engaged: false };
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
    this.trapEveryInstruction(L);
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
