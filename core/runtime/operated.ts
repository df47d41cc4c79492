// A serving process with its operations around it: the features' operations hooks (request
// observers, admin routes) and, when asked for, the admin listener with health and readiness.
// Used by `serve` for a single process, for each worker, and for the primary of a group.
import cluster from 'node:cluster';
import { AppSource } from './app-source';
import { AdminServer, startAdmin } from './admin';
import { Engine } from './engine';
import { RuntimeProfile, ServeSettings, startService } from './launch';
import { engineHeapBytes, startOperations, startPrimaryOperations } from './observers';
import { startWorkers, WorkerSpec } from './workers';
import { Logger } from './log';

export interface AdminAddress {
  host: string;
  port: number;
}

export interface Operated {
  url: string;
  admin: AdminServer | undefined;
  /** Readiness drops at once, then in-flight work drains, then everything closes. */
  close(): Promise<void>;
}

/** One process serving the app (alone, or as a worker when `admin` is undefined). */
export async function startOperatedService(profile: RuntimeProfile, app: AppSource,
  settings: ServeSettings & { admin?: AdminAddress; primaryAdmin?: boolean }): Promise<Operated> {
  let engine: Engine | undefined;
  const ops = startOperations(profile.features, {
    workerId: cluster.isWorker ? cluster.worker!.id : 0,
    luaHeapBytes: () => engineHeapBytes(engine),
    adminListener: Boolean(settings.admin) || Boolean(settings.primaryAdmin),
  });
  // The admin listener comes up before the app loads, so a slow start reads "starting".
  const admin = settings.admin ? await startAdmin({ ...settings.admin, log: settings.log, routes: ops.admin }) : undefined;
  return operate(ops, admin, async () => {
    const service = await startService(profile, app, { ...settings, observer: ops.observer });
    engine = service.engine;
    return service;
  });
}

/** The primary of `serve --workers`: forks the workers; its admin listener answers for all. */
export async function startOperatedPrimary(profile: RuntimeProfile, spec: WorkerSpec, count: number, log: Logger, shutdownMs: number, adminAddress?: AdminAddress, heartbeatTimeoutMs = 0): Promise<Operated> {
  const ops = startPrimaryOperations(profile.features);
  let serving: () => number = () => 0;
  const admin = adminAddress ? await startAdmin({
    ...adminAddress, log, routes: ops.admin,
    ready: () => { const n = serving(); return n < count ? `${n} of ${count} workers serving` : undefined; },
  }) : undefined;
  return operate(ops, admin, async () => {
    const supervisor = await startWorkers({ ...spec, primaryAdmin: Boolean(admin) }, count, log, shutdownMs, heartbeatTimeoutMs);
    serving = () => supervisor.serving;
    return supervisor;
  });
}

/** Readiness around what `start` brings up: 'ready' once it serves, 'draining' from close on;
 *  the hooks and the admin listener close after it, or at once when it fails to start. */
async function operate(ops: { close(): void }, admin: AdminServer | undefined,
  start: () => Promise<{ readonly url: string; close(): Promise<void> }>): Promise<Operated> {
  try {
    const running = await start();
    if (admin) admin.phase = 'ready';
    return {
      url: running.url,
      admin,
      close: async () => {
        if (admin) admin.phase = 'draining';
        await running.close();
        ops.close();
        await admin?.close();
      },
    };
  } catch (err) {
    ops.close();
    await admin?.close();
    throw err;
  }
}
