// The host functions the core Lua modules call (through the `host` table, which apps never see):
// print, require's file lookup, logging, redox.sleep/now/env, the registry setter and
// json.encode.
import { randomBytes } from 'node:crypto';
import { LuaApi, LuaState, LUA_REGISTRYINDEX, T_NUMBER, T_TABLE } from '../lua/api';
import { async, HostFunction, sync } from '../lua/host';
import { encodeJson } from '../lua/json-encode';
import { LuaMulti, LuaValue } from '../lua/marshal';
import { FormError, parseForm } from './http/form';
import { RawFunction } from '../lua/vm';
import { Level, Logger } from './log';
import { ModuleSource } from './modules';

export interface HostSettings {
  features: string[];
  catalogue: string[];
  modules: ModuleSource;
  log: Logger;
  write?: (bytes: Buffer) => void;
}

export function hostFunctions(settings: HostSettings): Record<string, HostFunction> {
  const installed = new Set(settings.features);
  const write = settings.write ?? ((b: Buffer) => process.stdout.write(b));
  return {
    write: sync((bytes: Buffer) => { write(bytes); }, { bytes: true, name: 'print' }),
    missing_feature: sync((name: string) => {
      if (installed.has(name) || !settings.catalogue.includes(name)) return undefined;
      return `feature "${name}" is not included in this build (features: ${settings.features.join(', ') || 'none'}); rebuild with --features ${name}`;
    }),
    read_module: sync((name: string) => {
      const found = settings.modules.read(name);
      if (typeof found === 'string') return new LuaMulti([undefined, found]);
      return new LuaMulti([found.source, found.chunkName]);
    }, { name: 'require' }),
    log: sync((level: Level, msg: string, fields?: Record<string, unknown>) => {
      settings.log[level](msg, fields);
    }, { name: 'log' }),
    sleep: async((ms: unknown) => {
      if (typeof ms !== 'number' || !(ms >= 0)) throw new TypeError(`redox.sleep expects milliseconds (a number >= 0), got ${typeof ms}`);
      return new Promise<void>((resolve) => setTimeout(resolve, ms));
    }, { name: 'redox.sleep' }),
    now: sync(() => Date.now(), { name: 'redox.now' }),
    // req:form(): busboy on the body the server already holds; FormError carries the status.
    parse_form: async((contentType: Buffer, body: Buffer, fieldBytes?: number, fileBytes?: number, parts?: number) =>
      parseForm(contentType.toString('latin1'), body, { fieldBytes: fieldBytes ?? Infinity, fileBytes: fileBytes ?? Infinity, parts: parts ?? 1000 })
        .then((form) => new LuaMulti([{ fields: form.fields, file_list: form.file_list as unknown as LuaValue }]),
          (err: unknown) => {
            if (err instanceof FormError) return new LuaMulti([undefined, err.status, err.message]);
            throw err;
          }), { name: 'req:form', bytes: true }),
    // math.random would give every process the same sequence (the wasm build's seed is fixed).
    random_seed: sync(() => new LuaMulti([randomSeedPart(), randomSeedPart()])),
    env: sync((name: unknown) => {
      if (typeof name !== 'string') throw new TypeError(`redox.env expects a variable name, got ${typeof name}`);
      // null is one nil value: tostring(redox.env("UNSET")) must work as in Lua.
      return envAllowed(name) ? process.env[name] ?? null : null;
    }, { name: 'redox.env' }),
  };
}

/** Host functions that work on the Lua stack directly (no conversion of arguments). */
export function rawHostFunctions(api: LuaApi): Record<string, RawFunction> {
  return {
    // host.set_registry(key, value): the core modules' shared values (keys from REGISTRY).
    set_registry: (L: LuaState) => {
      api.raw._lua_settop(L, 2);
      api.raw._lua_setfield(L, LUA_REGISTRYINDEX, api.cstr(api.toString(L, 1)!));
      return 0;
    },
    json_encode: (L: LuaState) => {
      const text = encodeArgument(api, L);
      if (text instanceof Error) throw text;
      api.pushString(L, text);
      return 1;
    },
    // For response.lua's {json = ...}: an unencodable value is an invalid response, returned as
    // nil, message (a pcall around json.encode would cost a protected call on every response).
    json_try_encode: (L: LuaState) => {
      const text = encodeArgument(api, L);
      if (text instanceof Error) {
        api.raw._lua_pushnil(L);
        api.pushString(L, text.message);
        return 2;
      }
      api.pushString(L, text);
      return 1;
    },
  };
}

/** json.encode(value, opts) of the arguments on L's stack, or the error saying why not. */
function encodeArgument(api: LuaApi, L: LuaState): string | Error {
  let maxDepth = 200;
  if (api.raw._lua_type(L, 2) === T_TABLE && api.getField(L, 2, 'max_depth') === T_NUMBER) {
    maxDepth = Number(api.raw._lua_tonumberx(L, -1, 0));
  }
  try {
    return encodeJson(api, L, 1, maxDepth);
  } catch (err) {
    return new Error(`json.encode: ${(err as Error).message}`);
  }
}

/** REDOX_ENV_ALLOW (comma-separated names, PREFIX_* allowed) restricts what redox.env reveals. */
export function envAllowed(name: string): boolean {
  const allow = process.env.REDOX_ENV_ALLOW;
  if (allow === undefined || allow === '') return true;
  return allow.split(',').map((s) => s.trim()).some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : p === name));
}

/** 48 random bits from the OS's secure source (a safe integer, so it reaches Lua exactly). */
function randomSeedPart(): number {
  return randomBytes(6).readUIntBE(0, 6);
}
