// `serve` and `run`: the commands every built binary has, shared with the development CLI.
// Parses flags, calls core, prints. Nothing here may import build-time code (esbuild, TSTL).
import { Command } from 'commander';
import { RedoxError } from '../core/errors';
import { AppSource } from '../core/runtime/app-source';
import { FeatureDefinition } from '../core/feature';
import type { RuntimeProfile } from '../core/runtime/launch';
import type { AdminAddress } from '../core/runtime/operated';
import { Limits, resolveLimits } from '../core/runtime/limits';
import { HTTP_ENV, resolveHttpSettings } from '../core/runtime/http/settings';
import type { StaticSource } from '../core/runtime/http/static-files';
import type { WorkerSpec } from '../core/runtime/workers';
import { WORKER_SPEC_ENV } from '../core/runtime/worker-env';
import {
  featureSettingOptions, featureSettingValues, fixedSelectionOptions, limitOptions, limitValues, listenOptions, listenValues, onShutdown, parsePort,
  Selection, selectionOptions, selectionValues,
} from './options';

// The runtime loads when serve or run starts, not with the CLI: `redox build`, `compile`, `init`
// and the other tooling commands never need it (59 modules, ~60 ms of every start).
/* eslint-disable @typescript-eslint/no-require-imports */
const launch = () => require('../core/runtime/launch') as typeof import('../core/runtime/launch');
const operated = () => require('../core/runtime/operated') as typeof import('../core/runtime/operated');
const workers = () => require('../core/runtime/workers') as typeof import('../core/runtime/workers');
const logging = () => require('../core/runtime/log') as typeof import('../core/runtime/log');
/* eslint-enable @typescript-eslint/no-require-imports */

/** What the entry point (the development CLI, or a built binary's main) gives the commands. */
export interface RuntimeEntry {
  /** The runtime for the selection flags. A binary's features are fixed at build: it refuses
   *  --features/--distro (see `selectable`) and ignores the argument. */
  profile(flags: Selection): RuntimeProfile;
  /** Whether --features/--distro are offered (development CLI) or refused (binary). */
  selectable: boolean;
  /** Turns a target into an app; the development CLI compiles TypeScript here. */
  app(target: string | undefined): AppSource;
  /** What serve uses when no target is given, for --help. */
  appDefault: string;
  /** Signals the exit code to the entry point (the process ends when its work is done). */
  setExitCode(code: number): void;
  /** Asks the entry point to end the process now (after a graceful shutdown). */
  exit(code: number): void;
  /** Static files built into a binary (redox build --static), served when --static is absent. */
  embeddedStatic?(): StaticSource | undefined;
  /** The features whose settings (flags) serve, run and dev offer. */
  features: FeatureDefinition[];
}

/** The development CLI's runs default to redox.json's selection, else every feature. */
const DEV_SELECTION_DEFAULT = 'redox.json\'s, else every feature';

export function addRuntimeCommands(program: Command, entry: RuntimeEntry): void {
  const serve = program.command('serve')
    .description('serve a Lua app over HTTP')
    .argument('[target]', `app.lua, dir/app.lua:attr, or a module target such as myapp.server:app (attr defaults to app) [default: ${entry.appDefault}]`);
  listenOptions(serve)
    .option('--dev', 'show error messages and tracebacks to HTTP clients (never in production)');
  limitOptions(serve)
    .option('--static <dir>', `serve the files of this folder (ETag, Range, 304) before the app [env: ${HTTP_ENV.static}]`)
    .option('--static-prefix <path>', `URL path the static files live under, e.g. /assets [env: ${HTTP_ENV.staticPrefix}, default: /]`)
    .option('--compress <on|off>', `gzip/brotli for compressible responses over 1 KiB [env: ${HTTP_ENV.compress}, default: on]`)
    .option('--tls-cert <file>', `serve HTTPS with this PEM certificate (needs --tls-key) [env: ${HTTP_ENV.tlsCert}]`)
    .option('--tls-key <file>', `the PEM private key of --tls-cert [env: ${HTTP_ENV.tlsKey}]`)
    .option('--http2', `serve HTTP/2 (and HTTP/1.1) over TLS [env: ${HTTP_ENV.http2}=on]`)
    .option('-w, --workers <n>', 'worker processes, each with its own Lua VM; "auto" is one per core [env: REDOX_WORKERS, default: 1]')
    .option('--admin-port <port>', 'serve /healthz, /readyz (and /metrics with the metrics feature) on this port; 0 picks a free one [env: REDOX_ADMIN_PORT, default: off]')
    .option('--admin-host <address>', 'address of the admin listener [env: REDOX_ADMIN_HOST, default: 127.0.0.1]');
  featureSettingOptions(serve, () => entry.features);
  if (entry.selectable) selectionOptions(serve, DEV_SELECTION_DEFAULT);
  else fixedSelectionOptions(serve, entry.features.map((f) => f.name).sort());
  serve.action(async (target: string | undefined, opts: Record<string, any>) => {
    const listen = listenValues(opts);
    const spec: WorkerSpec = {
      target,
      ...selectionValues(opts),
      port: listen.port,
      host: listen.address,
      dev: Boolean(opts.dev),
      limitFlags: limitValues(opts),
      httpFlags: {
        static: opts.static, staticPrefix: opts.staticPrefix, compress: opts.compress,
        tlsCert: opts.tlsCert, tlsKey: opts.tlsKey, http2: opts.http2,
      },
      featureSettings: featureSettingValues(opts, entry.features),
    };
    const admin = adminAddress(opts, spec.port);
    const count = workers().parseWorkers(opts.workers ?? process.env.REDOX_WORKERS, opts.workers !== undefined ? '--workers' : 'REDOX_WORKERS');
    if (count > 1) return supervise(entry, spec, count, admin);
    await serveOne(entry, spec, false, admin);
  });

  const run = program.command('run')
    .description('run a Lua script to completion (jobs, migrations, tests); `arg` holds the arguments')
    .argument('<script>', 'the Lua file to run')
    .argument('[args...]', 'arguments for the script (arg[1], arg[2], ...)')
    .passThroughOptions();
  featureSettingOptions(run, () => entry.features);
  if (entry.selectable) selectionOptions(run, DEV_SELECTION_DEFAULT);
  else fixedSelectionOptions(run, entry.features.map((f) => f.name).sort());
  run.action(async (script: string, args: string[], opts: Record<string, any>) => {
    const profile = entry.profile(selectionValues(opts));
    const app = entry.app(script);
    const log = logging().createLogger({ write: (t) => process.stderr.write(t) });
    const code = await launch().runScript(profile, app, args, { log, features: featureSettingValues(opts, entry.features) });
    entry.setExitCode(code);
  });
}

/** --admin-port / REDOX_ADMIN_PORT and --admin-host, or undefined when the listener is off. */
function adminAddress(opts: Record<string, any>, appPort: number): AdminAddress | undefined {
  const text: string | undefined = opts.adminPort ?? (process.env.REDOX_ADMIN_PORT || undefined);
  if (text === undefined) return undefined;
  const source = opts.adminPort !== undefined ? '--admin-port' : 'REDOX_ADMIN_PORT';
  const port = parsePort(text, source);
  if (port !== 0 && port === appPort) {
    throw new RedoxError('REDOX_USAGE', `${source} ${port} is the app's port too`,
      'the admin endpoints need a port of their own: pick another --admin-port (0 picks a free one)');
  }
  return { host: opts.adminHost ?? process.env.REDOX_ADMIN_HOST ?? '127.0.0.1', port };
}

/** One process serving: the whole runtime, or one worker of a primary. */
async function serveOne(entry: RuntimeEntry, spec: WorkerSpec, asWorker: boolean, admin?: AdminAddress): Promise<void> {
  const limits = resolveLimits(spec.limitFlags as Partial<Record<keyof Limits, string>>);
  const profile = entry.profile({ features: spec.features, distro: spec.distro });
  const app = entry.app(spec.target);
  const httpSettings = resolveHttpSettings(spec.httpFlags ?? {}, process.env, entry.embeddedStatic?.());
  const log = logging().createLogger();
  const service = await operated().startOperatedService(profile, app,
    { host: spec.host, port: spec.port, limits, log, dev: spec.dev, admin, primaryAdmin: spec.primaryAdmin, features: spec.featureSettings, ...httpSettings });
  if (asWorker) {
    workers().reportListening(service.url);
    workers().startHeartbeat(limits.heartbeatTimeoutMs);
  }
  else process.stdout.write(`listening on ${service.url}${service.admin ? ` (admin ${service.admin.url})` : ''}\n`);
  onShutdown(() => service.close(), entry.exit, (signal) => log.info('shutting down', { signal }));
}

async function supervise(entry: RuntimeEntry, spec: WorkerSpec, count: number, admin?: AdminAddress): Promise<void> {
  // Fail fast in the primary on what every worker would trip over.
  const profile = entry.profile({ features: spec.features, distro: spec.distro });
  entry.app(spec.target);
  resolveHttpSettings(spec.httpFlags ?? {}, process.env, entry.embeddedStatic?.());
  const log = logging().createLogger();
  const limits = resolveLimits(spec.limitFlags as Partial<Record<keyof Limits, string>>);
  const group = await operated().startOperatedPrimary(profile, spec, count, log, limits.shutdownMs, admin, limits.heartbeatTimeoutMs);
  process.stdout.write(`listening on ${group.url} (${count} workers)${group.admin ? ` (admin ${group.admin.url})` : ''}\n`);
  onShutdown(() => group.close(), entry.exit, (signal) => log.info('shutting down', { signal }));
}

/** In a worker forked by `serve --workers`, serves from the primary's spec and returns true.
 *  Entry points call this before parsing argv. */
export function runIfWorker(entry: RuntimeEntry): Promise<void> | undefined {
  // Only a forked worker has a spec in its environment; no other process loads workers.ts.
  if (!process.env[WORKER_SPEC_ENV]) return undefined;
  const spec = workers().workerSpec();
  if (!spec) return undefined;
  return serveOne(entry, spec, true);
}
