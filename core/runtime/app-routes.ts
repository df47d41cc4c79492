// The app as the host routes it: a route table (a router without middleware) or one Lua handler
// that gets every request (a function app, or a router whose middleware must run in Lua). Lua
// hands it over through host.set_routes when the app loads and whenever its router changes.
import { LuaApi, LuaState, T_TABLE } from '../lua/api';
import { LuaVM, RawFunction } from '../lua/vm';
import { Routes } from './routes';

export type AppShape = { kind: 'none' } | { kind: 'handler'; ref: number } | { kind: 'routes'; routes: Routes<number> };

export class AppRoutes {
  shape: AppShape = { kind: 'none' };
  private refs: number[] = [];

  constructor(private readonly vm: LuaVM) {}

  /** host.set_routes("routes", list of {method, path, fn}) or host.set_routes("handler", fn). */
  rawFunction(): RawFunction {
    const vm = this.vm;
    const api: LuaApi = vm.api;
    const raw = api.raw;
    return (L: LuaState) => {
      const kind = api.toString(L, 1);
      const old = this.refs;
      this.refs = [];
      if (kind === 'handler') {
        raw._lua_settop(L, 2);
        const ref = vm.ref(L);
        this.refs.push(ref);
        this.shape = { kind: 'handler', ref };
      } else if (kind === 'routes' && raw._lua_type(L, 2) === T_TABLE) {
        const routes = new Routes<number>();
        const n = Number(raw._lua_rawlen(L, 2));
        for (let i = 1; i <= n; i++) {
          raw._lua_rawgeti(L, 2, BigInt(i));
          raw._lua_rawgeti(L, -1, 1n);
          const method = api.toString(L, -1)!;
          raw._lua_rawgeti(L, -2, 2n);
          const path = api.toString(L, -1)!;
          raw._lua_rawgeti(L, -3, 3n);
          const ref = vm.ref(L);
          this.refs.push(ref);
          routes.add(method, path, ref);
          raw._lua_settop(L, -4);
        }
        this.shape = { kind: 'routes', routes };
      } else {
        throw new Error('set_routes: expected ("routes", list) or ("handler", function)');
      }
      for (const ref of old) vm.unref(ref);
      return 0;
    };
  }
}
