// A Lua VM with the core modules, the given features and (after loadApp) an app: the unit one
// worker process runs. It knows features only through the contract in core/feature.ts.
import { randomBytes } from 'node:crypto';
import { FeatureContext, FeatureDefinition, FeatureModule } from '../feature';
import { LUA_REGISTRYINDEX, LuaState, T_NUMBER, T_TABLE } from '../lua/api';
import { async, HostFunction, sync } from '../lua/host';
import { LuaMulti, LuaValue, pushValue } from '../lua/marshal';
import { LuaVM, LuaError, DriveOptions } from '../lua/vm';
import { PRELUDE_LUA } from '../lua/prelude.lua';
import { JSON_LUA } from '../lua/json.lua';
import { ROUTER_LUA } from '../lua/router.lua';
import { HTTP_LUA } from '../lua/http.lua';
import { encodeJson } from '../lua/json-encode';
import { RedoxError } from '../errors';
import { Logger, Level } from './log';
import { ModuleSource } from './modules';
import { orderForInstall } from './install-order';

const CORE_LUA = String.raw`
local host, internal, json, router, http = ...
json.encode = host.json_encode
host.set_registry("redox.json_null", json.null)
internal.provide("json", json)
internal.provide("redox", {
  router = router.router, abort = http.abort, sleep = host.sleep, now = host.now, env = host.env,
  version = host.version, features = host.features, null = json.null,
})
local log = {}
for _, level in ipairs({ "debug", "info", "warn", "error" }) do
  log[level] = function(msg, fields)
    if fields ~= nil and type(fields) ~= "table" then error("log." .. level .. ": fields must be a table, got " .. type(fields), 2) end
    host.log(level, tostring(msg), fields)
  end
end
internal.provide("log", log)
print = function(...)
  local n, parts = select("#", ...), {}
  for i = 1, n do parts[i] = tostring((select(i, ...))) end
  host.write(table.concat(parts, "\t") .. "\n")
end
http.install_globals()
function internal.install_feature(name, chunk, fns)
  local mod = fns
  if chunk then mod = chunk(fns) end
  internal.provide(name, mod)
end
local function load_app(chunk, attr, where)
  return http.set_app(chunk(), attr, where)
end
return http.dispatch, load_app, internal.install_feature
`;

/** What every feature's context shares; `setting` is bound per feature from `settingOf`. */
export type EngineContext = Omit<FeatureContext, 'log' | 'setting'> & {
  settingOf(def: FeatureDefinition, name: string): string | undefined;
};

export interface EngineOptions {
  wasmPath: string;
  /** The features of this build or run; their `requires` must be among them. */
  features: FeatureDefinition[];
  /** Names of every feature that exists, so a missing one gets a helpful message. */
  catalogue: string[];
  modules: ModuleSource;
  context: EngineContext;
  log: Logger;
  version: string;
  /** Show error messages and tracebacks to HTTP clients. */
  dev?: boolean;
  /** Where print() writes. */
  write?: (bytes: Buffer) => void;
  /** Per-request CPU budget and heap limit; 0 or absent disables each. */
  budgets?: { cpuMs: number; memoryBytes: number };
}

export interface LuaRequest {
  method: string;
  path: string;
  query: string;
  /** Raw header lines "name\nvalue\n..." as received. */
  headers: string;
  body: Buffer | undefined;
  ip: string;
  id: string;
}

export interface LuaResponse {
  status: number;
  body: Buffer | undefined;
  /** Set when the handler failed: what to log (message and traceback). */
  error: string | undefined;
  /** Flat name, value list. */
  headers: string[];
}

export class Engine {
  readonly vm: LuaVM;
  readonly features: string[];
  private readonly options: EngineOptions;
  private readonly instances: FeatureModule[] = [];
  private dispatchRef = 0;
  private setAppRef = 0;
  private installRef = 0;
  private requestBudget: { cpuBudgetMs: number; memoryLimit: number } | undefined;

  static async create(options: EngineOptions): Promise<Engine> {
    const engine = new Engine(await LuaVM.create(options.wasmPath), options);
    await engine.boot();
    return engine;
  }

  private constructor(vm: LuaVM, options: EngineOptions) {
    this.vm = vm;
    this.options = options;
    this.features = options.features.map((f) => f.name).sort();
  }

  private hostFunctions(): Record<string, HostFunction> {
    const { options } = this;
    const installed = new Set(this.features);
    const write = options.write ?? ((b: Buffer) => process.stdout.write(b));
    return {
      write: sync((bytes: Buffer) => { write(bytes); }, { bytes: true, name: 'print' }),
      missing_feature: sync((name: string) => {
        if (installed.has(name) || !options.catalogue.includes(name)) return undefined;
        return `feature "${name}" is not included in this build (features: ${this.features.join(', ') || 'none'}); rebuild with --features ${name}`;
      }),
      read_module: sync((name: string) => {
        const found = options.modules.read(name);
        if (typeof found === 'string') return new LuaMulti([undefined, found]);
        return new LuaMulti([found.source, found.chunkName]);
      }, { name: 'require' }),
      log: sync((level: Level, msg: string, fields?: Record<string, unknown>) => {
        options.log[level](msg, fields);
      }, { name: 'log' }),
      sleep: async((ms: unknown) => {
        if (typeof ms !== 'number' || !(ms >= 0)) throw new TypeError(`redox.sleep expects milliseconds (a number >= 0), got ${typeof ms}`);
        return new Promise<void>((resolve) => setTimeout(resolve, ms));
      }, { name: 'redox.sleep' }),
      now: sync(() => Date.now(), { name: 'redox.now' }),
      // math.random would give every process the same sequence (the wasm build's seed is fixed).
      random_seed: sync(() => new LuaMulti([randomSeedPart(), randomSeedPart()])),
      env: sync((name: unknown) => {
        if (typeof name !== 'string') throw new TypeError(`redox.env expects a variable name, got ${typeof name}`);
        // null is one nil value: tostring(redox.env("UNSET")) must work as in Lua.
        return envAllowed(name) ? process.env[name] ?? null : null;
      }, { name: 'redox.env' }),
    };
  }

  private pushTable(T: LuaState, functions: Record<string, HostFunction>, values: Record<string, LuaValue> = {}): void {
    const { vm } = this;
    vm.api.raw._lua_createtable(T, 0, Object.keys(functions).length + Object.keys(values).length);
    for (const [name, fn] of Object.entries(functions)) {
      vm.pushFunction(T, fn);
      vm.api.setField(T, -2, name);
    }
    for (const [name, value] of Object.entries(values)) {
      pushValue(vm.api, T, value);
      vm.api.setField(T, -2, name);
    }
  }

  /** Runs a compiled chunk with arguments and anchors each of its results in the registry. */
  private async runChunk(ref: number, pushArgs: (T: LuaState) => number): Promise<number[]> {
    return this.vm.drive((T) => {
      this.vm.pushRef(T, ref);
      return 1 + pushArgs(T);
    }, (T, nres) => {
      const refs: number[] = [];
      for (let i = 0; i < nres; i++) refs.unshift(this.vm.ref(T));
      return refs;
    });
  }

  private async boot(): Promise<void> {
    const { vm, options } = this;
    const api = vm.api;
    const host = this.hostFunctions();
    const setRegistry = (L: LuaState) => {
      api.raw._lua_settop(L, 2);
      api.raw._lua_setfield(L, LUA_REGISTRYINDEX, api.cstr(api.toString(L, 1)!));
      return 0;
    };
    const jsonEncode = (L: LuaState) => {
      let maxDepth = 200;
      if (api.raw._lua_type(L, 2) === T_TABLE && api.getField(L, 2, 'max_depth') === T_NUMBER) {
        maxDepth = Number(api.raw._lua_tonumberx(L, -1, 0));
      }
      let text: string;
      try {
        text = encodeJson(api, L, 1, maxDepth);
      } catch (err) {
        throw new Error(`json.encode: ${(err as Error).message}`);
      }
      api.pushString(L, text);
      return 1;
    };
    // One host table, shared by the core chunks (each push would register its functions again).
    let hostRef = 0;
    const pushHost = (T: LuaState) => {
      if (hostRef) {
        vm.pushRef(T, hostRef);
        return 1;
      }
      this.pushTable(T, host, { dev: Boolean(options.dev), version: options.version, features: this.features });
      vm.pushSentinel(T);
      api.setField(T, -2, 'sentinel');
      vm.pushRawFunction(T, setRegistry);
      api.setField(T, -2, 'set_registry');
      vm.pushRawFunction(T, jsonEncode);
      api.setField(T, -2, 'json_encode');
      api.raw._lua_pushvalue(T, -1);
      hostRef = vm.ref(T);
      return 1;
    };
    const [internal] = await this.runChunk(vm.compile(PRELUDE_LUA, '=[redox prelude]'), pushHost);
    const [json] = await this.runChunk(vm.compile(JSON_LUA, '=[json]'), (T) => {
      api.getField(T, LUA_REGISTRYINDEX, 'redox.array_mt');
      return 1;
    });
    const [router] = await this.runChunk(vm.compile(ROUTER_LUA, '=[router]'), () => 0);
    const [http] = await this.runChunk(vm.compile(HTTP_LUA, '=[http]'), (T) => {
      pushHost(T);
      for (const ref of [router, json, internal]) vm.pushRef(T, ref);
      return 4;
    });
    [this.dispatchRef, this.setAppRef, this.installRef] = await this.runChunk(vm.compile(CORE_LUA, '=[redox core]'), (T) => {
      pushHost(T);
      for (const ref of [internal, json, router, http]) vm.pushRef(T, ref);
      return 5;
    });
    for (const def of orderForInstall(options.features)) await this.installFeature(def);
    const budgets = options.budgets;
    if (budgets && (budgets.cpuMs > 0 || budgets.memoryBytes > 0)) {
      vm.enableBudgets();
      if (budgets.memoryBytes > 0 && !(await vm.calibrateHeapCounter())) {
        options.log.warn('memory limit unavailable: cannot locate the Lua heap counter in this wasm build');
      }
      this.requestBudget = {
        cpuBudgetMs: budgets.cpuMs > 0 ? budgets.cpuMs : Infinity,
        memoryLimit: budgets.memoryBytes > 0 ? budgets.memoryBytes : Infinity,
      };
    }
  }

  /** A full garbage collection (after a request was stopped for its memory use). */
  async collect(): Promise<void> {
    const ref = this.vm.compile('collectgarbage()', '=[gc]');
    try {
      await this.vm.drive((T) => { this.vm.pushRef(T, ref); return 1; }, () => undefined);
    } finally {
      this.vm.unref(ref);
    }
  }

  private async installFeature(def: FeatureDefinition): Promise<void> {
    const { vm } = this;
    let mod: FeatureModule;
    try {
      const { settingOf, ...context } = this.options.context;
      mod = await def.install({ ...context, setting: (name) => settingOf(def, name), log: this.options.log });
    } catch (err) {
      throw new RedoxError('REDOX_FEATURE_INSTALL', `feature "${def.name}" failed to start: ${(err as Error).message}`);
    }
    this.instances.push(mod);
    for (const [fname, fn] of Object.entries(mod.functions)) {
      if (!fn.options.name) (fn.options as { name?: string }).name = `${def.name}.${fname}`;
    }
    const chunkRef = mod.lua ? vm.compile(mod.lua, `=[${def.name}]`) : 0;
    await vm.drive((T) => {
      vm.pushRef(T, this.installRef);
      vm.api.pushString(T, def.name);
      if (chunkRef) vm.pushRef(T, chunkRef);
      else vm.api.raw._lua_pushnil(T);
      this.pushTable(T, mod.functions, mod.values);
      return 4;
    }, () => undefined);
  }

  /** Loads the app file and selects its handler. Errors are RedoxErrors with the Lua message. */
  async loadApp(main: { source: Buffer; chunkName: string }, attr?: string): Promise<void> {
    const { vm } = this;
    let ref: number;
    try {
      ref = vm.compile(main.source, '@' + main.chunkName);
    } catch (err) {
      throw new RedoxError('REDOX_APP_LOAD', (err as Error).message);
    }
    try {
      await vm.drive((T) => {
        vm.pushRef(T, this.setAppRef);
        vm.pushRef(T, ref);
        if (attr) vm.api.pushString(T, attr);
        else vm.api.raw._lua_pushnil(T);
        vm.api.pushString(T, main.chunkName);
        return 4;
      }, () => undefined);
    } catch (err) {
      const e = err as LuaError;
      throw new RedoxError('REDOX_APP_LOAD', e.traceback ? `${e.message}\n${e.traceback}` : e.message);
    }
  }

  /** Handles one request in its own coroutine. */
  dispatch(req: LuaRequest, options: DriveOptions = {}): Promise<LuaResponse> {
    const { vm } = this;
    if (this.requestBudget) options = { ...this.requestBudget, ...options };
    const api = vm.api;
    return vm.drive((T) => {
      vm.pushRef(T, this.dispatchRef);
      api.pushString(T, req.method);
      api.pushString(T, req.path);
      api.pushString(T, req.query);
      api.pushString(T, req.headers);
      if (req.body) api.pushBytes(T, req.body);
      else api.raw._lua_pushnil(T);
      api.pushString(T, req.ip);
      api.pushString(T, req.id);
      return 8;
    }, (T, nres) => {
      const raw = api.raw;
      const base = raw._lua_gettop(T) - nres + 1;
      const status = Number(raw._lua_tointegerx(T, base, 0));
      const body = api.toBytes(T, base + 1) ?? undefined;
      const error = api.toString(T, base + 2) ?? undefined;
      // headers: name -> string, or name -> list of strings (repeated header)
      const headers: string[] = [];
      const tbl = base + 3;
      raw._lua_pushnil(T);
      while (raw._lua_next(T, tbl) !== 0) {
        const name = api.toString(T, -2)!;
        if (raw._lua_type(T, -1) === T_TABLE) {
          const n = Number(raw._lua_rawlen(T, -1));
          for (let i = 1; i <= n; i++) {
            raw._lua_rawgeti(T, -1, BigInt(i));
            headers.push(name, api.toString(T, -1)!);
            raw._lua_settop(T, -2);
          }
        } else {
          headers.push(name, api.toString(T, -1)!);
        }
        raw._lua_settop(T, -2);
      }
      return { status, body, error, headers };
    }, options);
  }

  /** Runs a script to completion (`redox run`): `arg` holds the arguments. Returns what the
   *  script returned (an integer is used as the exit code). */
  /** Runs a script and returns its first result; with `onlyNumber`, only a numeric one. */
  async runScript(main: { source: Buffer; chunkName: string }, args: string[], onlyNumber = false): Promise<LuaValue> {
    const { vm } = this;
    const { api } = vm;
    api.raw._lua_createtable(vm.L, args.length, 1);
    [main.chunkName, ...args].forEach((a, i) => {
      api.pushString(vm.L, a);
      api.raw._lua_rawseti(vm.L, -2, BigInt(i));
    });
    api.setGlobal(vm.L, 'arg');
    const ref = vm.compile(main.source, '@' + main.chunkName);
    try {
      return await vm.drive((T) => {
        vm.pushRef(T, ref);
        for (const a of args) vm.api.pushString(T, a);
        return 1 + args.length;
      }, (T, nres) => {
        if (nres === 0) return undefined;
        // An exit code can only be a number: a module table (functions and all) is ignored.
        if (onlyNumber && api.raw._lua_type(T, -nres) !== T_NUMBER) return undefined;
        return vm.result(T, nres, 1);
      });
    } finally {
      vm.unref(ref);
    }
  }

  async close(): Promise<void> {
    for (const mod of this.instances.reverse()) {
      try {
        await mod.cleanup?.();
      } catch (err) {
        this.options.log.warn('feature cleanup failed', { error: (err as Error).message });
      }
    }
    this.vm.close();
  }
}

/** REDOX_ENV_ALLOW (comma-separated names, PREFIX_* allowed) restricts what redox.env reveals. */
function envAllowed(name: string): boolean {
  const allow = process.env.REDOX_ENV_ALLOW;
  if (allow === undefined || allow === '') return true;
  return allow.split(',').map((s) => s.trim()).some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : p === name));
}

/** 48 random bits from the OS's secure source (a safe integer, so it reaches Lua exactly). */
function randomSeedPart(): number {
  return randomBytes(6).readUIntBE(0, 6);
}
