// `redox compile`, `redox dev` and `redox init`: the development-time commands for authoring
// services (TypeScript included). Development CLI only; TypeScript is loaded when a command
// needs it, so other commands start as fast as before.
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { RedoxError } from '../core/errors';
import { resolveLimits } from '../core/runtime/limits';
import { createLogger } from '../core/runtime/log';
import { makeDirs } from '../core/make-dirs';
import { requireAppTarget } from '../core/tooling/project';
import { RuntimeEntry } from './runtime-commands';
import { featureSettingOptions, featureSettingValues, limitOptions, limitValues, listenOptions, listenValues, onShutdown, selectionOptions, selectionValues } from './options';
import pkg from '../package.json';

type Print = (text: string) => void;

export function addTsCommands(program: Command, entry: RuntimeEntry, print: Print = (t) => process.stdout.write(t)): void {
  program.command('compile')
    .description('compile a TypeScript app and its local imports into one Lua file (TypeScriptToLua)')
    .argument('<app>', 'the TypeScript entry file, e.g. app.ts')
    .option('-o, --out <file>', 'the Lua file to write [the app name with .lua]')
    .action((app: string, opts: { out?: string }) => {
      if (!/\.ts$/i.test(app)) throw new RedoxError('REDOX_USAGE', `redox compile takes a .ts file, got ${app}`, 'Lua apps need no compiling: serve them directly');
      const { compileAppCached } = require('../core/tooling/typescript/compile-cache') as typeof import('../core/tooling/typescript/compile-cache');
      const start = Date.now();
      const compiled = compileAppCached(app);
      const out = opts.out ?? app.replace(/\.ts$/i, '.lua');
      makeDirs(path.dirname(path.resolve(out)));
      fs.writeFileSync(out, compiled.lua);
      const how = compiled.cached ? ' (unchanged: from the compile cache)' : '';
      print(`compiled ${compiled.files.length} file${compiled.files.length === 1 ? '' : 's'} to ${out} in ${Date.now() - start} ms${how}\n`);
    });

  const dev = program.command('dev')
    .description('serve an app and reload it when its files change (TypeScript is recompiled); a version that fails to load is not swapped in')
    .argument('[app]', 'app.lua or app.ts (optionally :attr) [default: "app" in redox.json, else app.ts or app.lua here]');
  listenOptions(dev);
  limitOptions(dev);
  featureSettingOptions(dev, () => entry.features);
  selectionOptions(dev, 'redox.json\'s, else every feature').action(async (given: string | undefined, opts: Record<string, any>) => {
    const app = requireAppTarget(given, process.cwd());
    const { startDev } = require('../core/tooling/dev/dev') as typeof import('../core/tooling/dev/dev');
    const listen = listenValues(opts);
    const server = await startDev({
      target: app,
      profile: entry.profile(selectionValues(opts)),
      host: listen.address,
      port: listen.port,
      limits: resolveLimits(limitValues(opts)),
      log: createLogger(),
      features: featureSettingValues(opts, entry.features),
    });
    print(`listening on ${server.url}\n`);
    onShutdown(() => server.close(), entry.exit);
  });

  program.command('init')
    .description('create a new service: app, its tests (redox test), README, .gitignore, CI workflow and editor declarations')
    .argument('<dir>', 'where to create it (a new or empty directory)')
    .option('-t, --template <name>', 'lua or typescript', 'lua')
    .option('--force', 'write into a non-empty directory (template files are overwritten, others kept)')
    .option('--redox <spec>', `what the generated CI workflow installs with npm install --global: a registry version, a tarball URL or a git URL [default: ${pkg.name}@${pkg.version}]`)
    .action((dir: string, opts: { template: string; force?: boolean; redox?: string }) => {
      const { initProject } = require('../core/tooling/init') as typeof import('../core/tooling/init');
      const result = initProject({ dir, template: opts.template, force: opts.force, version: pkg.version, packageName: pkg.name, install: opts.redox });
      const rel = path.relative(process.cwd(), result.dir) || '.';
      const main = result.template === 'typescript' ? 'app.ts' : 'app.lua';
      print(`created a ${result.template} service in ${rel} (${result.files.length} files)\n\n` +
        `  cd ${rel}\n  redox dev ${main}        # serve on http://127.0.0.1:3000, reloading on changes\n` +
        `  redox test              # run its tests\n  redox build --distro web --app ${main}   # a single binary in dist/\n`);
    });
}
