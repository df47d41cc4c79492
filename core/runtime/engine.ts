// A Lua VM with the core modules, the given features and (after loadApp) an app: the unit one
// worker process runs. It knows features only through the contract in core/feature.ts.
//
// Per request (serve): the host routes (app-routes.ts, routes.ts), answers 404/405/OPTIONS
// itself, and enters Lua once to run the handler in a pooled coroutine with a lazy request
// object (requests.ts). A handler that never waits on the host completes synchronously.
import { FeatureContext, FeatureDefinition, FeatureModule } from '../feature';
import { LuaState } from '../lua/api';
import { LuaValue } from '../lua/marshal';
import { LuaVM, LuaError, DriveOptions } from '../lua/vm';
import { ChunkStore } from '../lua/chunks';
import { RedoxError } from '../errors';
import { Logger } from './log';
import { ModuleSource } from './modules';
import { orderForInstall } from './install-order';
import { AppRoutes } from './app-routes';
import { bootCore, CoreEntries, pushTable } from './engine-boot';
import { hostFunctions, rawHostFunctions } from './engine-host';
import { HostResponse, JSON_TYPE, readResponse } from './engine-response';
import { runScriptIn } from './engine-script';
import { HostRequest, RequestSlots } from './requests';
import { Params } from './routes';

export type { HostRequest } from './requests';
export type { HostResponse } from './engine-response';

/** What every feature's context shares; `setting` is bound per feature from `settingOf`. */
export type EngineContext = Omit<FeatureContext, 'log' | 'setting'> & {
  settingOf(def: FeatureDefinition, name: string): string | undefined;
};

export interface EngineOptions {
  wasmPath: string;
  /** Bytecode of core and feature chunks (see core/lua/chunks.ts); flushed after boot. */
  chunks?: ChunkStore;
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
  /** Requests arrive over TLS (req.secure; cookies get Secure by default). */
  secure?: boolean;
}

/** A request in the older, text form (dispatch); serve takes HostRequest. */
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

/** What a request handler of the server needs from an engine (the dev server swaps engines). */
export interface RequestEngine {
  serve(req: HostRequest, options?: DriveOptions): HostResponse | Promise<HostResponse>;
  collect(): Promise<void>;
}

export class Engine implements RequestEngine {
  readonly vm: LuaVM;
  readonly features: string[];
  private readonly options: EngineOptions;
  private readonly instances: FeatureModule[] = [];
  private readonly app: AppRoutes;
  private readonly slots: RequestSlots;
  private entries: CoreEntries = { run: 0, loadApp: 0, installFeature: 0 };
  private cpuBudgetMs: number | undefined;
  private memoryLimit: number | undefined;

  static async create(options: EngineOptions): Promise<Engine> {
    const { chunks } = options;
    const before = chunks && { ...chunks.stats };
    const engine = new Engine(await LuaVM.create(options.wasmPath, chunks), options);
    await engine.boot();
    if (chunks && before) {
      chunks.flush();
      options.log.debug('lua chunks', { precompiled: chunks.stats.hits - before.hits, parsed: chunks.stats.misses - before.misses });
    }
    return engine;
  }

  private constructor(vm: LuaVM, options: EngineOptions) {
    this.vm = vm;
    this.options = options;
    this.features = options.features.map((f) => f.name).sort();
    this.app = new AppRoutes(vm);
    this.slots = new RequestSlots(vm.api);
  }

  private async boot(): Promise<void> {
    const { vm, options } = this;
    this.entries = await bootCore(vm, {
      functions: hostFunctions({ features: this.features, catalogue: options.catalogue, modules: options.modules, log: options.log, write: options.write }),
      raw: { ...rawHostFunctions(vm.api), ...this.slots.rawFunctions(), set_routes: this.app.rawFunction() },
      values: { dev: Boolean(options.dev), version: options.version, features: this.features, secure: Boolean(options.secure) },
    });
    for (const def of orderForInstall(options.features)) await this.installFeature(def);
    const budgets = options.budgets;
    if (budgets && (budgets.cpuMs > 0 || budgets.memoryBytes > 0)) {
      vm.enableBudgets();
      if (budgets.memoryBytes > 0 && !(await vm.calibrateHeapCounter())) {
        options.log.warn('memory limit unavailable: cannot locate the Lua heap counter in this wasm build');
      }
      this.cpuBudgetMs = budgets.cpuMs > 0 ? budgets.cpuMs : Infinity;
      this.memoryLimit = budgets.memoryBytes > 0 ? budgets.memoryBytes : Infinity;
    }
  }

  /** A full garbage collection (after a request was stopped for its memory use). */
  async collect(): Promise<void> {
    const ref = this.vm.compileHost(/* lua */ 'collectgarbage()', '=[gc]');
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
    const chunkRef = mod.lua ? vm.compileHost(mod.lua, `=[${def.name}]`) : 0;
    const extras = Object.entries(mod.extraModules ?? {}).map(([name, lua]) => [name, vm.compileHost(lua, `=[${def.name}:${name}]`)] as const);
    await vm.drive((T) => {
      vm.pushRef(T, this.entries.installFeature);
      vm.api.pushString(T, def.name);
      if (chunkRef) vm.pushRef(T, chunkRef);
      else vm.api.raw._lua_pushnil(T);
      pushTable(vm, T, mod.functions, mod.values);
      vm.api.raw._lua_createtable(T, 0, extras.length);
      for (const [name, ref] of extras) {
        vm.pushRef(T, ref);
        vm.api.setField(T, -2, name);
      }
      return 5;
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
        vm.pushRef(T, this.entries.loadApp);
        vm.pushRef(T, ref);
        if (attr) vm.api.pushString(T, attr);
        else vm.api.raw._lua_pushnil(T);
        vm.api.pushString(T, main.chunkName);
        return 4;
      }, () => undefined);
    } catch (err) {
      const e = err as LuaError;
      throw new RedoxError('REDOX_APP_LOAD', e.traceback ? `${e.message}\n${e.traceback}` : e.message);
    } finally {
      vm.unref(ref);
    }
  }

  /**
   * Handles one request: routes it on the host and runs its handler in Lua. The response comes
   * back directly when the handler never waited on the host, else as a promise. Throws (or
   * rejects with) LuaBudgetError, LuaTimeoutError or LuaError when the run fails as a whole.
   */
  serve(req: HostRequest, options: DriveOptions = {}): HostResponse | Promise<HostResponse> {
    const shape = this.app.shape;
    let handler: number;
    let params: Params | null = null;
    let route = '*';
    if (shape.kind === 'routes') {
      const found = shape.routes.match(req.method, req.path);
      if (found === null) return errorResponse(404, 'not found', req.id);
      if (found.allow !== undefined) {
        if (req.method === 'OPTIONS') return { status: 204, body: undefined, contentType: undefined, headers: ['allow', found.allow], error: undefined };
        return errorResponse(405, `method ${req.method} not allowed`, req.id, ['allow', found.allow]);
      }
      handler = found.handler;
      params = found.params;
      route = this.app.patterns.get(handler) ?? '*';
    } else if (shape.kind === 'handler') {
      handler = shape.ref;
    } else {
      throw new Error('no app is loaded (call loadApp first)');
    }
    const slot = this.slots.add(req, params);
    const run = this.entries.run;
    const vm = this.vm;
    const opts: DriveOptions = this.cpuBudgetMs === undefined ? options
      : { cpuBudgetMs: options.cpuBudgetMs ?? this.cpuBudgetMs, memoryLimit: options.memoryLimit ?? this.memoryLimit, deadline: options.deadline };
    let out: HostResponse | Promise<HostResponse>;
    try {
      out = vm.run((T: LuaState) => {
        vm.pushRef(T, run);
        vm.pushRef(T, handler);
        vm.api.raw._lua_pushnumber(T, slot);
        return 3;
      }, (T, nres) => readResponse(vm.api, T, nres), opts);
    } catch (err) {
      this.slots.remove(slot);
      throw err;
    }
    if (out instanceof Promise) {
      return out.then((r) => { this.slots.remove(slot); r.route = route; return r; }, (err) => { this.slots.remove(slot); throw err; });
    }
    this.slots.remove(slot);
    out.route = route;
    return out;
  }

  /** The older form of serve: text headers in, LuaResponse (bytes body, full header list) out. */
  async dispatch(req: LuaRequest, options: DriveOptions = {}): Promise<LuaResponse> {
    const rawHeaders = req.headers.split('\n');
    rawHeaders.length -= rawHeaders.length % 2;
    const out = await this.serve({ method: req.method, path: req.path, query: req.query, rawHeaders, body: req.body, id: req.id, ip: req.ip }, options);
    const headers = out.headers ?? [];
    if (out.contentType) headers.push('content-type', out.contentType);
    const body = out.body === undefined ? undefined : typeof out.body === 'string' ? Buffer.from(out.body, 'latin1') : out.body;
    return { status: out.status, body, error: out.error, headers };
  }

  /** Runs a script to completion (`redox run`): `arg` holds the arguments. Returns what the
   *  script returned (an integer is used as the exit code). */
  /** Runs a script and returns its first result; with `onlyNumber`, only a numeric one. */
  runScript(main: { source: Buffer; chunkName: string }, args: string[], onlyNumber = false): Promise<LuaValue> {
    return runScriptIn(this.vm, main, args, onlyNumber);
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

/** A JSON error answered by the host: {"error": ..., "request_id": ...}, as error_response in Lua. */
export function errorResponse(status: number, message: string, id: string, headers?: string[]): HostResponse {
  return { status, body: JSON.stringify({ error: message, request_id: id }), contentType: JSON_TYPE, headers, error: undefined };
}
