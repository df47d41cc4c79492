// The one file through which `redox test` uses the engine: creating a VM with extra modules,
// loading the app, running a file, dispatching one request in-process, closing. When the
// engine's interface changes, only this file follows it.
import { HostFunction } from '../../feature';
import { LuaValue } from '../../lua/marshal';
import { LuaError } from '../../lua/vm';
import { Engine } from '../../runtime/engine';
import { featureContext, RuntimeProfile } from '../../runtime/launch';
import { ModuleFile, ModuleSource } from '../../runtime/modules';
import { Logger } from '../../runtime/log';

export interface InProcessRequest {
  method: string;
  path: string;
  query: string;
  /** Header lines "name\nvalue\n..." as a server would hand them over. */
  headers: string;
  body: Buffer | undefined;
  id: string;
}

export interface InProcessResponse {
  status: number;
  body: Buffer | undefined;
  /** Lower-case name -> value; repeated headers become a list. */
  headers: Record<string, string | string[]>;
  /** What the server would have logged when the handler failed (message and traceback). */
  error: string | undefined;
}

export interface TestVM {
  loadApp(main: ModuleFile, attr?: string): Promise<void>;
  /** Runs a chunk to completion with arguments; returns its first result. */
  run(main: ModuleFile, args: string[]): Promise<LuaValue>;
  dispatch(req: InProcessRequest): Promise<InProcessResponse>;
  close(): Promise<void>;
}

export interface TestVMOptions {
  profile: RuntimeProfile;
  /** A library installed after the features: a Lua chunk receiving a table of host functions. */
  library: { lua: string; chunkName: string; functions: Record<string, HostFunction> };
  modules: ModuleSource;
  log: Logger;
  /** Where print() writes. */
  write: (bytes: Buffer) => void;
  /** Hang guard for one in-process request (ms). */
  requestTimeoutMs: number;
}

export async function openTestVM(options: TestVMOptions): Promise<TestVM> {
  const { profile } = options;
  const engine = await Engine.create({
    wasmPath: profile.wasmPath(),
    features: profile.features,
    catalogue: profile.catalogue,
    modules: options.modules,
    context: featureContext(profile),
    log: options.log,
    version: profile.version,
    // Responses are what production clients get; the handler's error reaches the test beside
    // the response (InProcessResponse.error).
    dev: false,
    write: options.write,
  });
  const { vm } = engine;
  const lib = options.library;
  const ref = vm.compile(lib.lua, `=${lib.chunkName}`);
  try {
    await vm.drive((T) => {
      vm.pushRef(T, ref);
      vm.api.raw._lua_createtable(T, 0, Object.keys(lib.functions).length);
      for (const [name, fn] of Object.entries(lib.functions)) {
        vm.pushFunction(T, fn);
        vm.api.setField(T, -2, name);
      }
      return 2;
    }, () => undefined);
  } catch (err) {
    await engine.close();
    throw err;
  } finally {
    vm.unref(ref);
  }
  return {
    loadApp: (main, attr) => engine.loadApp(main, attr),
    run: (main, args) => engine.runScript(main, args),
    dispatch: async (req) => {
      const rawHeaders = req.headers.split('\n');
      rawHeaders.length -= rawHeaders.length % 2;
      const out = await engine.serve({ method: req.method, path: req.path, query: req.query, rawHeaders, body: req.body, id: req.id, ip: '127.0.0.1' },
        { deadline: Date.now() + options.requestTimeoutMs });
      const headers: Record<string, string | string[]> = {};
      const list = out.headers ?? [];
      for (let i = 0; i < list.length; i += 2) {
        const name = list[i].toLowerCase();
        const old = headers[name];
        headers[name] = old === undefined ? list[i + 1] : [...(Array.isArray(old) ? old : [old]), list[i + 1]];
      }
      if (out.contentType && headers['content-type'] === undefined) headers['content-type'] = out.contentType;
      // A string body is ASCII (the engine keeps other bodies as bytes).
      const body = typeof out.body === 'string' ? Buffer.from(out.body, 'latin1') : out.body;
      return { status: out.status, body, headers, error: out.error };
    },
    close: () => engine.close(),
  };
}

/** The text of a Lua error with its traceback, for reports. */
export function luaErrorText(err: unknown): string {
  if (err instanceof LuaError) return err.traceback ? `${err.message}\n${err.traceback}` : err.message;
  return (err as Error).message ?? String(err);
}
