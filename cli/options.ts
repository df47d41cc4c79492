// The options several commands share, each defined here once so every command names, documents
// and parses them the same way: feature selection (serve, run, dev, test, build), the listen
// address and limits (serve, dev), the features' own settings (serve, run, dev) and shutdown on
// SIGTERM/SIGINT (serve, dev). A built binary's serve and run use the same definitions.
import { Command, Option } from 'commander';
import { RedoxError } from '../core/errors';
import { FeatureDefinition } from '../core/feature';
import { FeatureRunSettings } from '../core/runtime/launch';
import { LIMIT_SPECS, Limits } from '../core/runtime/limits';
import { byName } from '../core/order';

/** A comma-separated list flag, repeatable (--features a,b --features c). It takes exactly one
 *  value per flag, so the word after it (the app, the script) is never swallowed. */
export function listFlag(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

export interface Selection {
  features?: string[];
  distro?: string;
}

/** --features and --distro; `fallback` says what runs when neither is given. */
export function selectionOptions(cmd: Command, fallback: string): Command {
  return cmd
    .option('--features <list>', `exactly these features (comma-separated, repeatable; distro-NAME adds a distro) [default: ${fallback}]`, listFlag)
    .option('--distro <name>', 'the features of this distro (see `redox distros`)');
}

/** In a built binary, --features and --distro are refused with the reason (its features were
 *  fixed at build) rather than commander's bare "unknown option". Hidden from --help. */
export function fixedSelectionOptions(cmd: Command, features: string[]): Command {
  const refuse = (flag: string) => (): never => {
    throw new RedoxError('REDOX_USAGE', `${flag} is for the development CLI: this binary's features were fixed when it was built (${features.join(', ') || 'none'})`,
      'to run with other features, rebuild it (redox build --features a,b) or use redox serve/run --features a,b');
  };
  return cmd
    .addOption(new Option('--features <list>').hideHelp().argParser(refuse('--features')))
    .addOption(new Option('--distro <name>').hideHelp().argParser(refuse('--distro')));
}

export function selectionValues(opts: Record<string, any>): Selection {
  return { features: opts.features as string[] | undefined, distro: opts.distro as string | undefined };
}

export function parsePort(text: string, source: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new RedoxError('REDOX_USAGE', `${source} must be a port number from 0 to 65535, got "${text}"`);
  return n;
}

/** -p/--port and -H/--host: where the app listens. */
export function listenOptions(cmd: Command): Command {
  return cmd
    .option('-p, --port <port>', 'port to listen on; 0 picks a free one [env: PORT, default: 3000]')
    .option('-H, --host <address>', 'address to listen on [env: HOST, default: 127.0.0.1]');
}

export function listenValues(opts: Record<string, any>): { port: number; address: string } {
  return {
    port: parsePort(opts.port ?? process.env.PORT ?? '3000', opts.port !== undefined ? '--port' : 'PORT'),
    address: opts.host ?? process.env.HOST ?? '127.0.0.1',
  };
}

/** One flag per limit (--max-body, --request-timeout, ...), from LIMIT_SPECS. */
export function limitOptions(cmd: Command): Command {
  for (const spec of LIMIT_SPECS) {
    cmd.addOption(new Option(`${spec.flag} <${spec.kind === 'bytes' ? 'size' : spec.kind === 'ms' ? 'duration' : 'n'}>`,
      `${spec.description} [env: ${spec.env}, default: ${formatDefault(spec.kind, spec.default)}]`));
  }
  return cmd;
}

/** The limit flags given, as resolveLimits takes them (the environment fills the rest). */
export function limitValues(opts: Record<string, any>): Partial<Record<keyof Limits, string>> {
  const flags: Partial<Record<keyof Limits, string>> = {};
  for (const spec of LIMIT_SPECS) {
    const v = opts[camel(spec.flag)];
    if (v !== undefined) flags[spec.key] = v;
  }
  return flags;
}

/** --data-dir and every feature's own flags (e.g. --sqlite-any-path). The features' flags are
 *  added when `cmd` runs (commander's preSubcommand hook) or shows its help (its beforeHelp
 *  event: `help cmd` does not run the hook): listing them loads every feature's module, which
 *  the CLI's other commands never need. */
export function featureSettingOptions(cmd: Command, features: () => FeatureDefinition[]): Command {
  cmd.option('--data-dir <dir>', 'the folder features keep their files in; paths Lua gives (databases) resolve inside it [env: REDOX_DATA_DIR, default: the app\'s folder]');
  let added = false;
  const add = () => {
    if (added) return;
    added = true;
    const seen = new Set<string>();
    for (const f of [...features()].sort(byName)) {
      for (const s of Object.values(f.settings ?? {})) {
        if (seen.has(s.flag)) continue;
        seen.add(s.flag);
        cmd.option(s.boolean ? s.flag : `${s.flag} <value>`, `${s.description} [env: ${s.env}]`);
      }
    }
  };
  if (!cmd.parent) throw new Error('featureSettingOptions: the command must belong to a program');
  cmd.parent.hook('preSubcommand', (_program, sub) => {
    if (sub === cmd) add();
  });
  cmd.on('beforeHelp', add);
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

/** On the first SIGTERM or SIGINT: `close` (a graceful drain), then `exit` with 0, or 1 if the
 *  drain failed. A second signal is not caught, so it ends the process at once. */
export function onShutdown(close: () => Promise<void>, exit: (code: number) => void, note?: (signal: string) => void): void {
  const stop = (signal: string) => {
    process.removeAllListeners('SIGTERM');
    process.removeAllListeners('SIGINT');
    note?.(signal);
    close().then(() => exit(0), () => exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

function camel(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function formatDefault(kind: string, value: number): string {
  if (kind === 'bytes') return value % (1024 * 1024) === 0 ? `${value / 1024 / 1024}MiB` : value % 1024 === 0 ? `${value / 1024}KiB` : String(value);
  if (kind === 'ms') return value % 1000 === 0 ? `${value / 1000}s` : `${value}ms`;
  return String(value);
}
