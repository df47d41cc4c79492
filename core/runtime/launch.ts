// Starting the runtime: an engine with the profile's features, then a server or a script.
// Shared by the development CLI and every built binary.
import fs from 'node:fs';
import path from 'node:path';
import { FeatureDefinition, RequestObserver } from '../feature';
import { RedoxError } from '../errors';
import { LuaError } from '../lua/vm';
import { ChunkStore } from '../lua/chunks';
import { Engine, EngineContext } from './engine';
import { FileModules } from './modules';
import { AppSource } from './app-source';
import { Limits } from './limits';
import { Logger } from './log';
import type { RunningServer } from './server';
import { HttpSettings } from './http/settings';
import type { RecoveringEngine as Recovering } from './recovery';
import type * as Watchdog from './watchdog';

// The HTTP server and the watchdog load when a service starts: `redox run` and `redox test`
// run scripts with neither.
/* eslint-disable @typescript-eslint/no-require-imports */
const serverModule = () => require('./server') as typeof import('./server');
const recoveryModule = () => require('./recovery') as typeof import('./recovery');
const watchdogModule = () => require('./watchdog') as typeof Watchdog;
/* eslint-enable @typescript-eslint/no-require-imports */

/** What a runtime consists of: in development, resolved from features.json; in a binary,
 *  fixed at build time. */
export interface RuntimeProfile {
  distro: string | null;
  features: FeatureDefinition[];
  /** Every feature name that exists, for "not included in this build" messages. */
  catalogue: string[];
  version: string;
  wasmPath(): string;
  assetPath(name: string): string;
  /** Precompiled core and feature chunks for this profile's wasm (one store per process). */
  luaChunks?(): ChunkStore | undefined;
}

/** What the user set for features: the data folder and the features' own flags. */
export interface FeatureRunSettings {
  /** --data-dir (else env REDOX_DATA_DIR, else the app's folder). */
  dataDir?: string;
  /** Feature flags given on the command line, by flag ("--sqlite-any-path": "1"). */
  flags?: Record<string, string>;
}

/** The folder features keep files in: --data-dir, REDOX_DATA_DIR, or the app's folder. */
export function resolveDataDir(app: AppSource, given: string | undefined): string {
  const dir = given ?? process.env.REDOX_DATA_DIR;
  if (dir) {
    const abs = path.resolve(dir);
    if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
      throw new RedoxError('REDOX_USAGE', `the data folder ${dir} (${given ? '--data-dir' : 'REDOX_DATA_DIR'}) is not a directory`, 'create it first, or point --data-dir at an existing folder');
    }
    return fs.realpathSync(abs);
  }
  return app.modules instanceof FileModules ? app.modules.root : fs.realpathSync(process.cwd());
}

export function featureContext(profile: RuntimeProfile, dataDir = process.cwd(), flags: Record<string, string> = {}): EngineContext {
  const addons = new Map<string, unknown>();
  return {
    dataDir,
    settingOf: (def, name) => {
      const s = def.settings?.[name];
      if (!s) throw new Error(`feature "${def.name}" reads a setting "${name}" it does not declare`);
      return flags[s.flag] ?? process.env[s.env];
    },
    assetPath: (name) => profile.assetPath(name),
    loadNativeAddon: (name) => {
      let exports = addons.get(name);
      if (!exports) {
        const mod = { exports: {} as unknown };
        process.dlopen(mod, profile.assetPath(name));
        exports = mod.exports;
        addons.set(name, exports);
      }
      return exports;
    },
    env: (name) => process.env[name],
  };
}

export interface EngineSettings {
  log: Logger;
  features?: FeatureRunSettings;
  dev?: boolean;
  budgets?: { cpuMs: number; memoryBytes: number };
  /** Requests come over TLS: req.secure, and Secure cookies by default. */
  secure?: boolean;
}

export function createEngine(profile: RuntimeProfile, app: AppSource, settings: EngineSettings): Promise<Engine> {
  return Engine.create({
    wasmPath: profile.wasmPath(),
    chunks: profile.luaChunks?.(),
    features: profile.features,
    catalogue: profile.catalogue,
    modules: app.modules,
    context: featureContext(profile, resolveDataDir(app, settings.features?.dataDir), settings.features?.flags),
    log: settings.log,
    version: profile.version,
    dev: settings.dev,
    budgets: settings.budgets,
    secure: settings.secure,
  });
}

export interface ServeSettings extends EngineSettings, Partial<HttpSettings> {
  host: string;
  port: number;
  limits: Limits;
  /** Told about every request (see core/runtime/observers.ts). */
  observer?: RequestObserver;
}

export interface Service extends RunningServer {
  /** The engine serving now (replaced after a forced stop). */
  readonly engine: Engine;
  /** Reboot counters when the watchdog is on. */
  recovery: Recovering | null;
}

export async function startService(profile: RuntimeProfile, app: AppSource, settings: ServeSettings): Promise<Service> {
  const budgets = { cpuMs: settings.limits.cpuBudgetMs, memoryBytes: settings.limits.memoryBytes };
  const boot = async () => {
    const engine = await createEngine(profile, app, { ...settings, budgets, secure: Boolean(settings.tls) });
    try {
      await engine.loadApp(app.main, app.attr);
    } catch (err) {
      await engine.close();
      throw err;
    }
    return engine;
  };
  const engine = await boot();
  try {
    // The watchdog needs the in-VM hook (its graceful stop is a count hook).
    const guarded = settings.limits.watchdogGraceMs > 0 && (budgets.cpuMs > 0 || budgets.memoryBytes > 0)
      ? new (recoveryModule().RecoveringEngine)(engine, boot, watchdogModule().processWatchdog(settings.limits.watchdogGraceMs), settings.log)
      : null;
    const server = await serverModule().startServer(guarded ?? engine, settings);
    return {
      ...server,
      get engine() { return guarded ? guarded.engine : engine; },
      recovery: guarded,
      close: async () => {
        await server.close();
        await (guarded ?? engine).close();
        settings.log.flush();
      },
    };
  } catch (err) {
    await engine.close();
    throw err;
  }
}

/** Runs a script to completion and returns the exit code: 0, the integer the script returned,
 *  or 1 after an uncaught error (reported as a RedoxError with the Lua message). */
export async function runScript(profile: RuntimeProfile, app: AppSource, args: string[], settings: EngineSettings): Promise<number> {
  const engine = await createEngine(profile, app, settings);
  try {
    const result = await engine.runScript(app.main, args, true);
    return typeof result === 'number' && Number.isInteger(result) ? result : 0;
  } catch (err) {
    if (err instanceof LuaError) {
      throw new RedoxError('REDOX_LUA_ERROR', err.traceback ? `${err.message}\n${err.traceback}` : err.message);
    }
    throw err;
  } finally {
    await engine.close();
    settings.log.flush();
  }
}
