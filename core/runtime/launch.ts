// Starting the runtime: an engine with the profile's features, then a server or a script.
// Shared by the development CLI and every built binary.
import { FeatureContext, FeatureDefinition } from '../feature';
import { RedoxError } from '../errors';
import { LuaError } from '../lua/vm';
import { Engine } from './engine';
import { AppSource } from './app-source';
import { Limits } from './limits';
import { Logger } from './log';
import { RunningServer, startServer } from './server';

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
}

export function featureContext(profile: RuntimeProfile): Omit<FeatureContext, 'log'> {
  const addons = new Map<string, unknown>();
  return {
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
  dev?: boolean;
  budgets?: { cpuMs: number; memoryBytes: number };
}

export function createEngine(profile: RuntimeProfile, app: AppSource, settings: EngineSettings): Promise<Engine> {
  return Engine.create({
    wasmPath: profile.wasmPath(),
    features: profile.features,
    catalogue: profile.catalogue,
    modules: app.modules,
    context: featureContext(profile),
    log: settings.log,
    version: profile.version,
    dev: settings.dev,
    budgets: settings.budgets,
  });
}

export interface ServeSettings extends EngineSettings {
  host: string;
  port: number;
  limits: Limits;
}

export interface Service extends RunningServer {
  engine: Engine;
}

export async function startService(profile: RuntimeProfile, app: AppSource, settings: ServeSettings): Promise<Service> {
  const budgets = { cpuMs: settings.limits.cpuBudgetMs, memoryBytes: settings.limits.memoryBytes };
  const engine = await createEngine(profile, app, { ...settings, budgets });
  try {
    await engine.loadApp(app.main, app.attr);
    const server = await startServer(engine, settings);
    return {
      ...server,
      engine,
      close: async () => {
        await server.close();
        await engine.close();
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
