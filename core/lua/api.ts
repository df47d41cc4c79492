// A thin, binary-safe layer over the raw Lua 5.4 C API that wasmoon's wasm build exports.
// wasmoon's own wrappers cost ~12 us a call and decode strings lossily; the raw exports cost
// well under a microsecond, so everything on the request path goes through here.
import type { LuaWasm } from 'wasmoon';
import { applyWasmTiering } from './tiering';

export type LuaState = number;

/** Buffer's encoders without the argument parsing of write() and toString() (Node has them on
 *  every Buffer; @types/node does not declare them). */
interface FastBuffer extends Buffer {
  utf8Write(s: string, offset: number, length: number): number;
  utf8Slice(start: number, end: number): string;
}

// Only the values the host compares against (lua.h has the rest: error statuses 2-4, type tags
// 7-8 for userdata and threads).
export const LUA_OK = 0;
export const LUA_YIELD = 1;

export const T_NONE = -1;
export const T_NIL = 0;
export const T_BOOLEAN = 1;
export const T_LIGHTUSERDATA = 2;
export const T_NUMBER = 3;
export const T_STRING = 4;
export const T_TABLE = 5;
export const T_FUNCTION = 6;

export const LUA_REGISTRYINDEX = -1001000;
export const upvalueIndex = (i: number) => LUA_REGISTRYINDEX - i;

/** The raw exports we use, typed loosely: they take and return numbers (bigint for lua_Integer). */
export interface RawLua {
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  HEAPU32: Uint32Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  addFunction(fn: (...args: number[]) => number | void, sig: string): number;
  [name: `_lua${string}`]: (...args: any[]) => any;
}

type InvokeVii = (index: number, a: number, b: number) => void;

/**
 * emscripten's `invoke_vii`, the JS trampoline every setjmp-protected call of Lua goes through
 * (lua_resume, lua_pcall: at least once per request). The generated one reaches stackSave
 * through an assertion wrapper and reads the function table twice per call; this one calls the
 * exports directly, with the same semantics: a longjmp arrives as a thrown number, which
 * restores the stack and sets the threw flag.
 */
class FastInvoke {
  private table: { get(i: number): (a: number, b: number) => void; length: number } | null = null;
  /** The table's entries as of instantiation: Lua's own C functions, which never change. */
  private readonly mirror: ((a: number, b: number) => void)[] = [];
  private staticEntries = 0;
  private stackSave: () => number = () => 0;
  private stackRestore: (sp: number) => void = () => undefined;
  private setThrew: (threw: number, value: number) => void = () => undefined;

  constructor(private readonly generated: InvokeVii) {}

  bind(exports: Record<string, any>): void {
    const { __indirect_function_table: table, stackSave, stackRestore, setThrew } = exports;
    if (!table || typeof stackSave !== 'function' || typeof stackRestore !== 'function' || typeof setThrew !== 'function') return;
    this.stackSave = stackSave;
    this.stackRestore = stackRestore;
    this.setThrew = setThrew;
    this.staticEntries = table.length;
    this.table = table;
  }

  readonly call = (index: number, a: number, b: number): void => {
    const table = this.table;
    if (table === null) return this.generated(index, a, b);
    const sp = this.stackSave();
    try {
      let fn = this.mirror[index];
      if (fn === undefined) {
        fn = table.get(index);
        // Entries added later (addFunction) may be replaced: only the static ones are kept.
        if (index < this.staticEntries) this.mirror[index] = fn;
      }
      fn(a, b);
    } catch (e) {
      this.stackRestore(sp);
      if (e !== (e as number) + 0) throw e;
      this.setThrew(1, 0);
    }
  };
}

/** The load in progress, if any (see LuaApi.load). */
let loading: Promise<unknown> = Promise.resolve();

/** One wasm instance hosting one Lua state, with helpers that move strings in and out of the
 *  wasm heap as bytes. */
export class LuaApi {
  readonly raw: RawLua;
  private view: Buffer;
  private scratch: number;
  private scratchSize: number;
  private readonly lenPtr: number;
  private readonly cstrings = new Map<string, number>();
  private readonly keys = new Map<string, number>();

  /** Loads one at a time: the capture below swaps the process-wide WebAssembly.instantiate, and
   *  two loads interleaved at its await bound one instance's invoke_vii to the other's exports
   *  (memory faults and aborts when several VMs booted at once, as a multi-distro build does). */
  static load(wasmPath: string): Promise<LuaApi> {
    const loaded = loading.then(() => LuaApi.loadAlone(wasmPath));
    loading = loaded.catch(() => undefined);
    return loaded;
  }

  private static async loadAlone(wasmPath: string): Promise<LuaApi> {
    applyWasmTiering();
    // wasmoon's build wraps every export in an assertion shim (~15% of a request's CPU).
    // Capture the instance's exports while it instantiates and call them directly.
    const wa = (globalThis as any).WebAssembly;
    const original = wa.instantiate;
    let exports: Record<string, unknown> | undefined;
    wa.instantiate = async (...args: unknown[]) => {
      const imports = args[1] as { env?: Record<string, unknown> } | undefined;
      let fast: FastInvoke | undefined;
      if (imports?.env && typeof imports.env.invoke_vii === 'function') {
        fast = new FastInvoke(imports.env.invoke_vii as InvokeVii);
        imports.env = { ...imports.env, invoke_vii: fast.call };
      }
      const result: any = await original.apply(wa, args);
      exports ??= (result.instance ?? result).exports;
      fast?.bind(exports!);
      return result;
    };
    let wasm: LuaWasm;
    try {
      // Required here: this file's constants are imported by commands that never start Lua.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { LuaWasm: Wasm } = require('wasmoon') as typeof import('wasmoon');
      wasm = await Wasm.initialize(wasmPath, {});
    } finally {
      wa.instantiate = original;
    }
    const raw = wasm.module as unknown as RawLua;
    if (exports) {
      for (const [name, fn] of Object.entries(exports)) {
        if (typeof fn === 'function' && /^(lua|luaL|luaopen)_/.test(name) && typeof (raw as any)['_' + name] === 'function') {
          (raw as any)['_' + name] = fn;
        }
      }
    }
    return new LuaApi(raw);
  }

  constructor(raw: RawLua) {
    this.raw = raw;
    this.view = Buffer.from(raw.HEAPU8.buffer);
    this.scratchSize = 64 * 1024;
    this.scratch = raw._malloc(this.scratchSize);
    this.lenPtr = raw._malloc(8);
  }

  /** A Buffer over the current wasm memory (memory growth detaches the old one). */
  heap(): Buffer {
    // Growth detaches the old ArrayBuffer, and a view over a detached buffer has length 0: one
    // field read per call instead of fetching the module's current buffer.
    if (this.view.length === 0) this.view = Buffer.from(this.raw.HEAPU8.buffer);
    return this.view;
  }

  private ensureScratch(bytes: number): void {
    if (bytes <= this.scratchSize) return;
    this.raw._free(this.scratch);
    this.scratchSize = Math.max(bytes, this.scratchSize * 2);
    this.scratch = this.raw._malloc(this.scratchSize);
  }

  /** A NUL-terminated copy of a constant name, kept for the life of the state. */
  cstr(s: string): number {
    let ptr = this.cstrings.get(s);
    if (ptr === undefined) {
      const bytes = Buffer.from(s + '\0', 'utf8');
      ptr = this.raw._malloc(bytes.length);
      this.heap().set(bytes, ptr);
      this.cstrings.set(s, ptr);
    }
    return ptr;
  }

  /** A cached C string for a table key (column names, object keys), or 0 when the key should be
   *  pushed as a string instead: long, containing NUL, or the cache is full. Bounded, since keys
   *  may come from data. */
  keyPtr(key: string): number {
    const ptr = this.keys.get(key);
    if (ptr !== undefined) return ptr;
    if (key.length > 64 || this.keys.size >= 4096 || key.includes('\0')) return 0;
    const bytes = Buffer.from(key + '\0', 'utf8');
    const at = this.raw._malloc(bytes.length);
    this.heap().set(bytes, at);
    this.keys.set(key, at);
    return at;
  }

  pushString(L: LuaState, s: string): void {
    // Worst case 3 bytes per UTF-16 unit.
    this.ensureScratch(s.length * 3 + 1);
    // utf8Write/utf8Slice are Buffer's own encoders, without write()/toString()'s argument
    // parsing: these two run for every string crossing the boundary.
    const written = (this.heap() as FastBuffer).utf8Write(s, this.scratch, this.scratchSize);
    this.raw._lua_pushlstring(L, this.scratch, written);
  }

  pushBytes(L: LuaState, bytes: Uint8Array): void {
    this.ensureScratch(bytes.length + 1);
    this.heap().set(bytes, this.scratch);
    this.raw._lua_pushlstring(L, this.scratch, bytes.length);
  }

  /** The string at idx decoded as UTF-8, or null when the value is not a string or number. */
  toString(L: LuaState, idx: number): string | null {
    const ptr = this.raw._lua_tolstring(L, idx, this.lenPtr);
    if (ptr === 0) return null;
    const heap = this.heap();
    const len = this.raw.HEAPU32[this.lenPtr >> 2];
    return (heap as FastBuffer).utf8Slice(ptr, ptr + len);
  }

  /** The string at idx as a copy of its bytes. */
  toBytes(L: LuaState, idx: number): Buffer | null {
    const ptr = this.raw._lua_tolstring(L, idx, this.lenPtr);
    if (ptr === 0) return null;
    const len = this.raw.HEAPU32[this.lenPtr >> 2];
    return Buffer.from(this.heap().subarray(ptr, ptr + len));
  }

  /** luaL_tolstring: any value as text, honouring __tostring. Leaves the stack as it was. */
  describe(L: LuaState, idx: number): string {
    const abs = this.raw._lua_absindex(L, idx);
    const ptr = this.raw._luaL_tolstring(L, abs, this.lenPtr);
    const len = this.raw.HEAPU32[this.lenPtr >> 2];
    const text = this.heap().toString('utf8', ptr, ptr + len);
    this.raw._lua_settop(L, -2);
    return text;
  }

  getField(L: LuaState, idx: number, name: string): number {
    return this.raw._lua_getfield(L, idx, this.cstr(name));
  }

  setField(L: LuaState, idx: number, name: string): void {
    this.raw._lua_setfield(L, idx, this.cstr(name));
  }

  setGlobal(L: LuaState, name: string): void {
    this.raw._lua_setglobal(L, this.cstr(name));
  }

  pop(L: LuaState, n: number): void {
    this.raw._lua_settop(L, -n - 1);
  }

  /** Loads a text chunk (binary chunks are refused) and leaves the function or an error message. */
  load(L: LuaState, source: string | Uint8Array, chunkName: string): number {
    return this.loadMode(L, typeof source === 'string' ? Buffer.from(source, 'utf8') : source, chunkName, 't');
  }

  /** Loads bytecode the host made itself (chunks.ts); never anything an app supplied. */
  loadBytecode(L: LuaState, bytecode: Uint8Array, chunkName: string): number {
    return this.loadMode(L, bytecode, chunkName, 'b');
  }

  private loadMode(L: LuaState, bytes: Uint8Array, chunkName: string, mode: 't' | 'b'): number {
    this.ensureScratch(bytes.length + 1);
    this.heap().set(bytes, this.scratch);
    return this.raw._luaL_loadbufferx(L, this.scratch, bytes.length, this.cstr(chunkName), this.cstr(mode));
  }

  /** Space for lua_resume's result count. */
  get resultCountPtr(): number {
    return this.lenPtr;
  }
}
