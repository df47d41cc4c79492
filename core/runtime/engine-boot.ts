// Boot of a VM's core Lua: the prelude (sandbox, require), then the core modules registered in
// package.preload, then the boot chunk that builds what apps see. Returns the host's entry points.
import { LuaState } from '../lua/api';
import { BOOT_LUA } from '../lua/boot.lua';
import { HostFunction } from '../lua/host';
import { HTTP_LUA } from '../lua/http.lua';
import { JSON_LUA } from '../lua/json.lua';
import { LuaValue, pushValue } from '../lua/marshal';
import { PRELUDE_LUA } from '../lua/prelude.lua';
import { REGISTRY } from '../lua/registry';
import { RESPONSE_LUA } from '../lua/response.lua';
import { ROUTER_LUA } from '../lua/router.lua';
import { COOKIES_LUA } from '../lua/cookies.lua';
import { CORS_LUA } from '../lua/cors.lua';
import { HTML_LUA } from '../lua/html.lua';
import { LuaVM, RawFunction } from '../lua/vm';

/** The core modules, by the name they require one another with. */
const CORE_MODULES: [string, string][] = [
  ['redox.core.json', JSON_LUA],
  ['redox.core.cookies', COOKIES_LUA],
  ['redox.core.cors', CORS_LUA],
  ['redox.core.html', HTML_LUA],
  ['redox.core.response', RESPONSE_LUA],
  ['redox.core.router', ROUTER_LUA],
  ['redox.core.http', HTTP_LUA],
];

export interface CoreEntries {
  /** http.run(handler, slot): one request. */
  run: number;
  /** http.load_app(chunk, attr, where). */
  loadApp: number;
  /** install_feature(name, chunk, functions). */
  installFeature: number;
}

export interface HostTable {
  functions: Record<string, HostFunction>;
  raw: Record<string, RawFunction>;
  values: Record<string, LuaValue>;
}

/** Pushes a table of host functions and values onto T. */
export function pushTable(vm: LuaVM, T: LuaState, functions: Record<string, HostFunction>, values: Record<string, LuaValue> = {}, rawFns: Record<string, RawFunction> = {}): void {
  vm.api.raw._lua_createtable(T, 0, Object.keys(functions).length + Object.keys(values).length + Object.keys(rawFns).length);
  for (const [name, fn] of Object.entries(functions)) {
    vm.pushFunction(T, fn);
    vm.api.setField(T, -2, name);
  }
  for (const [name, fn] of Object.entries(rawFns)) {
    vm.pushRawFunction(T, fn);
    vm.api.setField(T, -2, name);
  }
  for (const [name, value] of Object.entries(values)) {
    pushValue(vm.api, T, value);
    vm.api.setField(T, -2, name);
  }
}

export async function bootCore(vm: LuaVM, host: HostTable): Promise<CoreEntries> {
  const api = vm.api;
  // One host table, shared by every core chunk.
  let hostRef = 0;
  const pushHost = (T: LuaState) => {
    if (hostRef) return vm.pushRef(T, hostRef);
    pushTable(vm, T, host.functions, { ...host.values, keys: { ...REGISTRY } }, host.raw);
    vm.pushSentinel(T);
    api.setField(T, -2, 'sentinel');
    api.raw._lua_pushvalue(T, -1);
    hostRef = vm.ref(T);
  };
  const prelude = vm.compileHost(PRELUDE_LUA, '=[redox prelude]');
  const internal = await vm.drive((T) => {
    vm.pushRef(T, prelude);
    pushHost(T);
    return 2;
  }, (T) => vm.ref(T));
  const chunks = CORE_MODULES.map(([name, source]) => [name, vm.compileHost(source, `=[${name.slice('redox.core.'.length)}]`)] as const);
  const boot = vm.compileHost(BOOT_LUA, '=[redox core]');
  const [run, loadApp, installFeature] = await vm.drive((T) => {
    vm.pushRef(T, boot);
    pushHost(T);
    vm.pushRef(T, internal);
    api.raw._lua_createtable(T, 0, chunks.length);
    for (const [name, ref] of chunks) {
      vm.pushRef(T, ref);
      api.setField(T, -2, name);
    }
    return 4;
  }, (T, nres) => {
    const refs: number[] = [];
    for (let i = 0; i < nres; i++) refs.unshift(vm.ref(T));
    return refs;
  });
  for (const ref of [prelude, boot, ...chunks.map(([, r]) => r)]) vm.unref(ref);
  return { run, loadApp, installFeature };
}
