// `serve` and `run`: the commands every built binary has, shared with the development CLI.
// Parses flags, calls core, prints. Nothing here may import build-time code (esbuild, TSTL).
import { Command, Option } from 'commander';
import { RedoxError } from '../core/errors';
import { splitList } from './split-list';
import { AppSource } from '../core/runtime/app-source';
import { FeatureDefinition } from '../core/feature';
import { FeatureRunSettings, RuntimeProfile, runScript } from '../core/runtime/launch';
import { AdminAddress, startOperatedPrimary, startOperatedService } from '../core/runtime/operated';
import { LIMIT_SPECS, Limits, resolveLimits } from '../core/runtime/limits';
import { createLogger, Logger } from '../core/runtime/log';
import { HTTP_ENV, resolveHttpSettings } from '../core/runtime/http/settings';
import { StaticSource } from '../core/runtime/http/static-files';
import { parseWorkers, reportListening, startHeartbeat, WorkerSpec, workerSpec } from '../core/runtime/workers';

export interface RuntimeHost {
  /** The runtime for these flags. A binary's features are fixed at build: it offers no
   *  --features/--distro (see `selectable`) and ignores the flags argument. */
  profile(flags: { features?: string[]; distro?: string }): RuntimeProfile;
  /** Whether --features/--distro are offered (development CLI) or fixed (binary). */
  selectable: boolean;
  /** Turns a target into an app; the development CLI compiles TypeScript here. */
  app(target: string | undefined): AppSource;
  /** Signals the exit code to the entry point (the process ends when its work is done). */
  setExitCode(code: number): void;
  /** Asks the entry point to end the process now (after a graceful shutdown). */
  exit(code: number): void;
  /** Static files built into a binary (redox build --static), served when --static is absent. */
  embeddedStatic?(): StaticSource | undefined;
  /** The features whose settings (flags) serve, run and dev offer. */
  features: FeatureDefinition[];
}

/** --data-dir and every feature's own flags (e.g. --sqlite-any-path). */
export function featureSettingOptions(cmd: Command, features: FeatureDefinition[]): Command {
  cmd.option('--data-dir <dir>', 'the folder features keep their files in; paths Lua gives (databases) resolve inside it [env: REDOX_DATA_DIR, default: the app\'s folder]');
  const seen = new Set<string>();
  for (const f of [...features].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const s of Object.values(f.settings ?? {})) {
      if (seen.has(s.flag)) continue;
      seen.add(s.flag);
      cmd.option(s.boolean ? s.flag : `${s.flag} <value>`, `${s.description} [env: ${s.env}]`);
    }
  }
  return cmd;
}

/** The values of those options, as the runtime takes them. */
export function featureSettingValues(opts: Record<string, any>, features: FeatureDefinition[]): FeatureRunSettings {
  const flags: Record<string, string> = {};
  for (const f of features) {
    for (const s of Object.values(f.settings ?? {})) {
      const v = opts[camel(s.flag)];
      if (v !== undefined) flags[s.flag] = v === true ? '1' : String(v);
    }
  }
  return { dataDir: opts.dataDir, flags };
}

function selectionOptions(cmd: Command, host: RuntimeHost): Command {
  if (!host.selectable) return cmd;
  return cmd
    .option('--features <list>', 'run with exactly these features (comma-separated, repeatable; distro-NAME adds a distro) [default: all]',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('--distro <name>', 'run with the features of this distro');
}

export function parsePort(text: string, source: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new RedoxError('REDOX_USAGE', `${source} must be a port number from 0 to 65535, got "${text}"`);
  return n;
}

export function addRuntimeCommands(program: Command, host: RuntimeHost): void {
  const serve = program.command('serve')
    .description('serve a Lua app over HTTP')
    .argument('[target]', 'app.lua, dir/app.lua:attr, or a module target such as myapp.server:app (attr defaults to app)')
    .option('-p, --port <port>', 'port to listen on; 0 picks a free one [env: PORT, default: 3000]')
    .option('-H, --host <host>', 'address to listen on [env: HOST, default: 127.0.0.1]')
    .option('--dev', 'show error messages and tracebacks to HTTP clients (never in production)');
  for (const spec of LIMIT_SPECS) {
    serve.addOption(new Option(`${spec.flag} <${spec.kind === 'bytes' ? 'size' : spec.kind === 'ms' ? 'duration' : 'n'}>`,
      `${spec.description} [env: ${spec.env}, default: ${formatDefault(spec.kind, spec.default)}]`));
  }
  serve
    .option('--static <dir>', `serve the files of this folder (ETag, Range, 304) before the app [env: ${HTTP_ENV.static}]`)
    .option('--static-prefix <path>', `URL path the static files live under, e.g. /assets [env: ${HTTP_ENV.staticPrefix}, default: /]`)
    .option('--compress <on|off>', `gzip/brotli for compressible responses over 1 KiB [env: ${HTTP_ENV.compress}, default: on]`)
    .option('--tls-cert <file>', `serve HTTPS with this PEM certificate (needs --tls-key) [env: ${HTTP_ENV.tlsCert}]`)
    .option('--tls-key <file>', `the PEM private key of --tls-cert [env: ${HTTP_ENV.tlsKey}]`)
    .option('--http2', `serve HTTP/2 (and HTTP/1.1) over TLS [env: ${HTTP_ENV.http2}=on]`);
  serve.option('-w, --workers <n>', 'worker processes, each with its own Lua VM; "auto" is one per core [env: REDOX_WORKERS, default: 1]');
  serve.option('--admin-port <port>', 'serve /healthz, /readyz (and /metrics with the metrics feature) on this port; 0 picks a free one [env: REDOX_ADMIN_PORT, default: off]');
  serve.option('--admin-host <host>', 'address of the admin listener [env: REDOX_ADMIN_HOST, default: 127.0.0.1]');
  featureSettingOptions(serve, host.features);
  selectionOptions(serve, host).action(async (target: string | undefined, opts: Record<string, any>) => {
    const limitFlags: Record<string, string> = {};
    for (const spec of LIMIT_SPECS) {
      const v = opts[camel(spec.flag)];
      if (v !== undefined) limitFlags[spec.key] = v;
    }
    const spec: WorkerSpec = {
      target,
      ...selection(opts),
      port: parsePort(opts.port ?? process.env.PORT ?? '3000', opts.port !== undefined ? '--port' : 'PORT'),
      host: opts.host ?? process.env.HOST ?? '127.0.0.1',
      dev: Boolean(opts.dev),
      limitFlags,
      httpFlags: {
        static: opts.static, staticPrefix: opts.staticPrefix, compress: opts.compress,
        tlsCert: opts.tlsCert, tlsKey: opts.tlsKey, http2: opts.http2,
      },
      featureSettings: featureSettingValues(opts, host.features),
    };
    const admin = adminAddress(opts, spec.port);
    const workers = parseWorkers(opts.workers ?? process.env.REDOX_WORKERS, opts.workers !== undefined ? '--workers' : 'REDOX_WORKERS');
    if (workers > 1) return supervise(host, spec, workers, admin);
    await serveOne(host, spec, false, admin);
  });

  const run = program.command('run')
    .description('run a Lua script to completion (jobs, migrations, tests); `arg` holds the arguments')
    .argument('<script>', 'the Lua file to run')
    .argument('[args...]', 'arguments for the script (arg[1], arg[2], ...)')
    .passThroughOptions();
  featureSettingOptions(run, host.features);
  selectionOptions(run, host).action(async (script: string, args: string[], opts: Record<string, any>) => {
    const profile = host.profile(selection(opts));
    const app = host.app(script);
    const log = createLogger({ write: (t) => process.stderr.write(t) });
    const code = await runScript(profile, app, args, { log, features: featureSettingValues(opts, host.features) });
    host.setExitCode(code);
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
async function serveOne(host: RuntimeHost, spec: WorkerSpec, asWorker: boolean, admin?: AdminAddress): Promise<void> {
  const limits = resolveLimits(spec.limitFlags as Partial<Record<keyof Limits, string>>);
  const profile = host.profile({ features: spec.features, distro: spec.distro });
  const app = host.app(spec.target);
  const httpSettings = resolveHttpSettings(spec.httpFlags ?? {}, process.env, host.embeddedStatic?.());
  const log = createLogger();
  const service = await startOperatedService(profile, app, { host: spec.host, port: spec.port, limits, log, dev: spec.dev, admin, features: spec.featureSettings, ...httpSettings });
  if (asWorker) {
    reportListening(service.url);
    startHeartbeat(limits.heartbeatTimeoutMs);
  }
  else process.stdout.write(`listening on ${service.url}${service.admin ? ` (admin ${service.admin.url})` : ''}\n`);
  onShutdown(log, () => service.close(), host);
}

async function supervise(host: RuntimeHost, spec: WorkerSpec, count: number, admin?: AdminAddress): Promise<void> {
  // Fail fast in the primary on what every worker would trip over.
  const profile = host.profile({ features: spec.features, distro: spec.distro });
  host.app(spec.target);
  resolveHttpSettings(spec.httpFlags ?? {}, process.env, host.embeddedStatic?.());
  const log = createLogger();
  const limits = resolveLimits(spec.limitFlags as Partial<Record<keyof Limits, string>>);
  const group = await startOperatedPrimary(profile, spec, count, log, limits.shutdownMs, admin, limits.heartbeatTimeoutMs);
  process.stdout.write(`listening on ${group.url} (${count} workers)${group.admin ? ` (admin ${group.admin.url})` : ''}\n`);
  onShutdown(log, () => group.close(), host);
}

function onShutdown(log: Logger, close: () => Promise<void>, host: RuntimeHost): void {
  const stop = (signal: string) => {
    process.removeAllListeners('SIGTERM');
    process.removeAllListeners('SIGINT');
    log.info('shutting down', { signal });
    close().then(() => host.exit(0), () => host.exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** In a worker forked by `serve --workers`, serves from the primary's spec and returns true.
 *  Entry points call this before parsing argv. */
export function runIfWorker(host: RuntimeHost): Promise<void> | undefined {
  const spec = workerSpec();
  if (!spec) return undefined;
  return serveOne(host, spec, true);
}

function selection(opts: Record<string, any>): { features?: string[]; distro?: string } {
  return { features: opts.features === undefined ? undefined : splitList(opts.features), distro: opts.distro };
}

function camel(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function formatDefault(kind: string, value: number): string {
  if (kind === 'bytes') return value % (1024 * 1024) === 0 ? `${value / 1024 / 1024}MiB` : value % 1024 === 0 ? `${value / 1024}KiB` : String(value);
  if (kind === 'ms') return value % 1000 === 0 ? `${value / 1000}s` : `${value}ms`;
  return String(value);
}
