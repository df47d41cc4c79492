// The feature contract. A feature is a folder under features/ whose index.ts default-exports
// defineFeature({...}). Core installs the features it is given and never names one.
import type { HostFunction } from './lua/host';
import type { LuaValue } from './lua/marshal';
import { parseLimit } from './runtime/limits';
import type { Logger } from './runtime/log';

export { sync, async, LuaArgumentError } from './lua/host';
export type { HostFunction } from './lua/host';
export { LuaFailure, LuaFloat, LuaMulti } from './lua/marshal';
export type { LuaValue } from './lua/marshal';
export type { Logger } from './runtime/log';

/** Parses a size such as "1048576", "512KiB" or "2MB" into bytes; `source` names the flag or
 *  variable in the usage error a bad value gets. */
export function parseSize(text: string, source: string): number {
  return parseLimit({ kind: 'bytes' }, text, source);
}

/** Parses a duration such as "500ms", "30s" or "30000" (milliseconds) into milliseconds. */
export function parseDuration(text: string, source: string): number {
  return parseLimit({ kind: 'ms' }, text, source);
}

/** What a feature gets when it is installed into one Lua VM. */
export interface FeatureContext {
  /** Absolute path of a native or data asset declared in features.json ("assets"). In a
   *  single executable the asset is extracted once to a content-addressed cache folder. */
  assetPath(name: string): string;
  /** Loads a native addon asset (a `.node` file) and returns its exports. */
  loadNativeAddon(name: string): unknown;
  /** Environment lookup (process.env in a normal run). */
  env(name: string): string | undefined;
  /** The absolute folder where features keep their files (`--data-dir`, env REDOX_DATA_DIR;
   *  by default the app's folder). Paths Lua gives resolve here. */
  dataDir: string;
  /** The value of one of this feature's own `settings` (flag, else its env variable);
   *  a boolean setting given on the command line reads "1". */
  setting(name: string): string | undefined;
  log: Logger;
}

/** A run-time option a feature offers: the CLI shows it on serve/run/dev as `flag`. */
export interface FeatureSetting {
  /** "--<feature>-..." so features cannot clash with each other or with core flags. */
  flag: string;
  env: string;
  description: string;
  /** A switch (no value), e.g. --sqlite-any-path. */
  boolean?: boolean;
}

/** What install() returns: the functions Lua can call, and optional Lua code that shapes them
 *  into the module users see. */
export interface FeatureModule {
  /** Host functions, by name. Without `lua`, these are the module. */
  functions: Record<string, HostFunction>;
  /** Values (strings, numbers, tables) added beside the functions. */
  values?: Record<string, LuaValue>;
  /** A Lua chunk that receives the functions table as `...` and returns the module value. */
  lua?: string;
  /** Further modules this feature provides under other names (for example a compatibility
   *  API): name -> a Lua chunk that receives the feature's module as `...` and returns the
   *  value, made available as require(name) and as the global of the same name. */
  extraModules?: Record<string, string>;
  /** Releases what this VM's instance holds (open databases, connection pools, timers). */
  cleanup?(): void | Promise<void>;
}

/** What a feature's index.ts default-exports (through defineFeature): its behaviour. Its name
 *  (the folder), description and requires are its features.json entry; core adds them. */
export interface FeatureSpec {
  /** Run-time options, by the name install() reads them with ctx.setting(name). */
  settings?: Record<string, FeatureSetting>;
  /** Called once per Lua VM; returns that VM's module. */
  install(ctx: FeatureContext): FeatureModule | Promise<FeatureModule>;
  /** Process-level operations hooks, called once by each process that serves requests (the
   *  single process, or each worker of `serve --workers`), after the app loaded. */
  operations?(ctx: ProcessContext): FeatureOperations;
  /** Called once in the primary of `serve --workers` (a process without a Lua VM): admin
   *  routes that answer for the whole group, e.g. by asking every worker. */
  primary?(): FeatureOperations;
}

/** One finished request, as request observers see it. */
export interface CompletedRequest {
  method: string;
  /** The route pattern that matched ("/users/:id"); "*" when the app is a single handler;
   *  null when no route matched. Never the raw path, so label sets stay bounded. */
  route: string | null;
  status: number;
  durationMs: number;
  /** Set when a limit stopped the handler. */
  killed?: 'cpu' | 'memory' | 'timeout';
  /** The handler raised an error or returned an invalid response (answered 500). */
  failed: boolean;
}

export interface RequestObserver {
  /** A request arrived (before its body is read). */
  started?(): void;
  /** Called exactly once per request that started, whatever its outcome. */
  completed(request: CompletedRequest): void;
}

/** What an operations hook learns about the process it runs in. */
export interface ProcessContext {
  /** 0 in a single process; the cluster worker id (1, 2, ...) in a worker. */
  workerId: number;
  /** Bytes of the Lua heap of this process's VM, or undefined when it cannot be read. */
  luaHeapBytes(): number | undefined;
  /** Whether an admin listener serves admin routes for this process: its own, or (a worker)
   *  its primary's. Without one, a hook that only feeds admin routes can stay off. */
  adminListener: boolean;
}

/** An admin endpoint's answer (the admin listener serves GET only). */
export interface AdminResponse {
  status?: number;
  contentType: string;
  body: string;
}

export interface FeatureOperations {
  observer?: RequestObserver;
  /** Admin listener paths ("/metrics") this feature answers. */
  admin?: Record<string, () => Promise<AdminResponse>>;
  /** Releases what the hook set up (listeners, intervals). */
  close?(): void;
}

/** A feature as core installs it: the folder's spec with its catalogue entry's facts. */
export interface FeatureDefinition extends FeatureSpec {
  /** The name Lua uses: require("<name>") and the global <name>. The folder name. */
  name: string;
  /** One line, shown by `redox features`. */
  description: string;
  /** Features that must be installed too. */
  requires: string[];
}

const NAME = /^[a-z][a-z0-9_]*$/;

export function defineFeature(spec: FeatureSpec): FeatureSpec {
  if (typeof spec.install !== 'function') throw new TypeError('defineFeature needs an install function');
  return Object.freeze({ ...spec });
}

/** Joins a folder's spec with its catalogue entry (features.json, or feature.json beside a
 *  local feature): the registry, the dev profile and the generated binary entry all call this. */
export function namedFeature(name: string, facts: { description: string; requires?: string[] }, spec: FeatureSpec): FeatureDefinition {
  if (!NAME.test(name)) {
    throw new TypeError(`feature name "${name}" must be lower-case letters, digits and _ (a Lua identifier)`);
  }
  if (!spec || typeof spec.install !== 'function') throw new TypeError(`feature "${name}" has no install function (export default defineFeature({ install }))`);
  const prefix = `--${name.replace(/_/g, '-')}-`;
  for (const s of Object.values(spec.settings ?? {})) {
    if (!s.flag.startsWith(prefix)) throw new TypeError(`feature "${name}": setting flag ${s.flag} must start with ${prefix}`);
  }
  return Object.freeze({ ...spec, name, description: facts.description, requires: facts.requires ?? [] });
}
