// `redox dev`: serve an app and reload it when a source file in its folder changes. A new
// version (recompiled when it is TypeScript) replaces the running one only after it loads;
// when it fails, the last good version keeps serving and the log says why.
import path from 'node:path';
import { AppSource, appFromTarget, splitTarget } from '../../runtime/app-source';
import { createEngine, FeatureRunSettings, RuntimeProfile } from '../../runtime/launch';
import { Engine, HostRequest, HostResponse } from '../../runtime/engine';
import { Limits } from '../../runtime/limits';
import { Logger } from '../../runtime/log';
import { startServer } from '../../runtime/server';
import { DriveOptions } from '../../lua/vm';
import type { CompiledApp } from '../typescript/compile';
import { compiledAppSource, isTypeScriptTarget } from './target';
import { watchTree } from './watch-tree';

export interface DevOptions {
  target: string;
  profile: RuntimeProfile;
  host: string;
  port: number;
  limits: Limits;
  log: Logger;
  /** --data-dir and the features' own flags. */
  features?: FeatureRunSettings;
  cwd?: string;
  /** Quiet time after the last change before reloading. */
  debounceMs?: number;
}

export interface DevServer {
  readonly url: string;
  /** Resolves when the reload triggered by the latest change has finished (for tests). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const WATCHED = /\.(lua|ts|tsx|json)$/i;
const IGNORED = /(^|[/\\])(node_modules|dist|build|\.[^/\\]+)([/\\]|$)/;

/** One loaded version of the app and the requests it is still answering. */
interface Version {
  engine: Engine;
  inFlight: number;
  retired: boolean;
}

export async function startDev(options: DevOptions): Promise<DevServer> {
  const { log, profile } = options;
  const cwd = options.cwd ?? process.cwd();
  const root = path.dirname(path.resolve(cwd, splitTarget(options.target).spec));
  const name = path.relative(cwd, path.resolve(cwd, splitTarget(options.target).spec));
  let compiled: CompiledApp | undefined;

  const load = async (): Promise<Engine> => {
    let app: AppSource;
    if (isTypeScriptTarget(options.target)) {
      const result = compiledAppSource(options.target, cwd, compiled);
      compiled = result.compiled;
      app = result.app;
    } else {
      app = appFromTarget(options.target, cwd);
    }
    const engine = await createEngine(profile, app, { log, dev: true, features: options.features, budgets: { cpuMs: options.limits.cpuBudgetMs, memoryBytes: options.limits.memoryBytes } });
    try {
      await engine.loadApp(app.main, app.attr);
      return engine;
    } catch (err) {
      await engine.close();
      throw err;
    }
  };

  let current: Version = { engine: await load(), inFlight: 0, retired: false };
  const retire = (v: Version) => {
    v.retired = true;
    if (v.inFlight === 0) v.engine.close().catch(() => undefined);
  };
  // The server holds this, not an engine, so versions can change under it.
  const front = {
    serve(req: HostRequest, opts?: DriveOptions) {
      const v = current;
      v.inFlight++;
      const done = () => {
        v.inFlight--;
        if (v.retired && v.inFlight === 0) v.engine.close().catch(() => undefined);
      };
      let out: HostResponse | Promise<HostResponse>;
      try {
        out = v.engine.serve(req, opts);
      } catch (err) {
        done();
        throw err;
      }
      if (out instanceof Promise) return out.finally(done);
      done();
      return out;
    },
    collect: () => current.engine.collect(),
  };
  const server = await startServer(front, { host: options.host, port: options.port, limits: options.limits, log });

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let changed = new Set<string>();
  const reload = async () => {
    const files = [...changed].sort();
    changed = new Set();
    const start = Date.now();
    try {
      const engine = await load();
      const old = current;
      current = { engine, inFlight: 0, retired: false };
      retire(old);
      log.info(`reloaded ${name}`, { changed: files, ms: Date.now() - start });
    } catch (err) {
      log.error(`reload failed; still serving the previous version of ${name}`, { changed: files, error: (err as Error).message });
    }
  };
  const watcher = watchTree(root, (rel) => IGNORED.test(rel), (file) => {
    if (!WATCHED.test(file)) return;
    changed.add(file);
    clearTimeout(timer);
    timer = setTimeout(() => {
      running = running.then(reload);
    }, options.debounceMs ?? 100);
  });
  log.info(`watching ${path.relative(cwd, root) || '.'} for changes`, { app: name });

  return {
    url: server.url,
    settled: () => running,
    close: async () => {
      watcher.close();
      clearTimeout(timer);
      await running;
      await server.close();
      retire(current);
      log.flush();
    },
  };
}
