// The entry point inside every built binary. The generated entry file imports this and exactly
// the build's features, then calls main(). Everything else comes from the SEA assets: the build
// info, the Lua wasm, native addons and the embedded app. Nothing here may import build-time
// code (esbuild, the catalogue loader, the build commands).
import fs from 'node:fs';
import * as sea from 'node:sea';
import { Command } from 'commander';
import { FeatureDefinition } from '../core/feature';
import { ChunkStore } from '../core/lua/chunks';
import { RedoxError } from '../core/errors';
import { appFromTarget, AppSource } from '../core/runtime/app-source';
import { RuntimeProfile } from '../core/runtime/launch';
import { EmbeddedModules } from '../core/runtime/modules';
import { AssetCache, cacheDir } from '../core/runtime/sea/asset-cache';
import { EmbeddedSource, EmbeddedStaticIndex } from '../core/runtime/http/static-files';
import { APP_ASSET, STATIC_DATA_ASSET, STATIC_INDEX_ASSET, BuildInfo, EmbeddedApp, featureAssetKey, LUA_CHUNKS_ASSET, MANIFEST_ASSET, WASM_ASSET } from '../core/runtime/sea/embedded';
import { addRuntimeCommands, runIfWorker, RuntimeEntry } from './runtime-commands';
import { newProgram, runProgram, tolerateClosedOutput } from './program';
import { reportError } from './report';
import { byName } from '../core/order';

function asset(key: string): Buffer {
  // A view on the executable's mapped memory: read it, never write into it.
  return Buffer.from(sea.getRawAsset(key) as ArrayBuffer);
}

function binaryProfile(info: BuildInfo, features: FeatureDefinition[]): RuntimeProfile {
  const cache = new AssetCache(cacheDir(), asset);
  let chunks: ChunkStore | undefined;
  const extract = (key: string, fileName: string) => {
    const meta = info.assets[key];
    if (!meta) throw new Error(`asset "${fileName}" is not in this binary (assets: ${Object.keys(info.assets).join(', ')})`);
    return cache.file(key, fileName, meta);
  };
  return {
    distro: info.distro,
    features,
    catalogue: info.catalogue,
    version: info.redox,
    wasmPath: () => extract(WASM_ASSET, 'glue.wasm'),
    assetPath: (name) => extract(featureAssetKey(name), name),
    luaChunks: () => (chunks ??= ChunkStore.decode(info.assets[LUA_CHUNKS_ASSET] ? asset(LUA_CHUNKS_ASSET) : undefined, info.assets[WASM_ASSET].sha256)),
  };
}

function embeddedApp(info: BuildInfo): AppSource | undefined {
  if (!info.app) return undefined;
  const app = JSON.parse(asset(APP_ASSET).toString('utf8')) as EmbeddedApp;
  return {
    modules: new EmbeddedModules(app.files),
    main: { source: Buffer.from(app.files[app.main], 'utf8'), chunkName: app.main },
    attr: app.attr ?? undefined,
  };
}

/** With an embedded app, no command (or only options such as --port) means `serve`. */
export function withDefaultCommand(argv: string[], hasApp: boolean): string[] {
  const first = argv[2];
  const asksForInfo = first === '-h' || first === '--help' || first === '-v' || first === '--version';
  if (hasApp && (first === undefined || (first.startsWith('-') && !asksForInfo))) return [...argv.slice(0, 2), 'serve', ...argv.slice(2)];
  return argv;
}

function addInfoCommands(program: Command, info: BuildInfo, features: FeatureDefinition[], print: (t: string) => void): void {
  const names = features.map((f) => f.name).sort();
  program.command('features')
    .description('list the features compiled into this binary')
    .option('--json', 'print JSON for machines')
    .action((opts: { json?: boolean }) => {
      if (opts.json) return print(JSON.stringify({ distro: info.distro, features: names }) + '\n');
      if (features.length === 0) return print('(core only: no features)\n');
      const width = Math.max(...names.map((n) => n.length));
      print([...features].sort(byName).map((f) => `${f.name.padEnd(width)}  ${f.description}`).join('\n') + '\n');
    });

  program.command('version')
    .description('print the versions this binary was built from')
    .option('--json', 'print JSON for machines')
    .action((opts: { json?: boolean }) => {
      const data = {
        name: info.name, redox: info.redox, distro: info.distro, features: names,
        node: process.version, platform: process.platform, arch: process.arch, packages: info.packages,
        app: info.app ? info.app.main : null,
      };
      if (opts.json) return print(JSON.stringify(data, null, 2) + '\n');
      const pkgs = Object.entries(info.packages).map(([n, v]) => `${n} ${v}`).join(', ');
      print(`${info.name} (redox ${info.redox}, node ${process.version}, ${process.platform}-${process.arch})\n` +
        `distro: ${info.distro ?? 'custom'}\nfeatures: ${names.join(', ') || '(core only)'}\n` +
        (pkgs ? `packages: ${pkgs}\n` : '') + (info.app ? `app: ${info.app.main} (embedded)\n` : '') +
        (info.static ? `static: ${info.static.files} files, ${info.static.bytes} bytes (embedded)\n` : ''));
    });
}

export function main(features: FeatureDefinition[]): void {
  let info: BuildInfo;
  try {
    if (!sea.isSea()) throw new Error('this bundle runs only inside a binary made by `redox build`');
    info = JSON.parse(asset(MANIFEST_ASSET).toString('utf8')) as BuildInfo;
  } catch (err) {
    process.exitCode = reportError(err);
    return;
  }
  const print = (t: string) => process.stdout.write(t);
  let exitCode: number | undefined;
  let app: AppSource | undefined;
  const profile = binaryProfile(info, features);
  const what = info.distro ? `the ${info.distro} distro` : `features: ${info.features.join(', ') || 'none'}`;
  const program = newProgram(info.name, `Redox runtime (${what})${info.app ? `, serving the embedded app ${info.app.main} by default` : ''}`, info.redox);

  const entry: RuntimeEntry = {
    selectable: false,
    profile: () => profile,
    app: (target) => {
      if (target) return appFromTarget(target);
      app ??= embeddedApp(info) ?? (fs.existsSync('app.lua') ? appFromTarget('app.lua') : undefined);
      if (!app) throw new RedoxError('REDOX_USAGE', 'no app given, and no app.lua here', `pass a Lua file: ${info.name} serve app.lua (or build with --app to embed one)`);
      return app;
    },
    appDefault: info.app ? `the embedded app, ${info.app.main}` : 'app.lua here',
    setExitCode: (code) => { exitCode = code; },
    features,
    exit: (code) => process.stdout.write('', () => process.exit(code)),
    embeddedStatic: () => (info.static
      ? new EmbeddedSource(JSON.parse(asset(STATIC_INDEX_ASSET).toString('utf8')) as EmbeddedStaticIndex, asset(STATIC_DATA_ASSET))
      : undefined),
  };
  addRuntimeCommands(program, entry);
  addInfoCommands(program, info, features, print);

  tolerateClosedOutput();
  // A worker forked by `serve --workers` gets its orders from the primary, not from argv.
  const worker = runIfWorker(entry);
  if (worker) {
    worker.catch((err) => process.exit(reportError(err)));
    return;
  }
  runProgram(program, withDefaultCommand(process.argv, info.app !== null), () => exitCode).then((code) => {
    if (code !== 0) process.exitCode = code;
  });
}
