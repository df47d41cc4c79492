#!/usr/bin/env node
// The development CLI (`redox`). Parses, calls core, prints; the only place that exits.
import { addRuntimeCommands, runIfWorker, RuntimeHost } from './runtime-commands';
import { addCatalogueCommands } from './catalogue-commands';
import { newProgram, runProgram } from './program';
import { reportError } from './report';
import { loadCatalogue, Catalogue } from '../core/catalogue/catalogue';
import { resolveSelection } from '../core/catalogue/resolve';
import { devProfile } from '../core/catalogue/dev-profile';
import { projectRoot } from '../core/catalogue/packages';
import { appFromTarget } from '../core/runtime/app-source';
import { RedoxError } from '../core/errors';
import { FEATURES } from '../features/index';
import pkg from '../package.json';

let cached: Catalogue | undefined;
const catalogue = () => (cached ??= loadCatalogue(projectRoot()));
let exitCode: number | undefined;

const program = newProgram('redox', 'Lua microservices on Node, shipped as single executables with only the features they use', pkg.version);

const runtimeHost: RuntimeHost = {
  selectable: true,
  profile: (flags) => {
    const c = catalogue();
    const selection = flags.features || flags.distro
      ? resolveSelection(c, flags)
      : { distro: 'full', features: [...c.features.keys()].sort() };
    return devProfile(c, FEATURES, selection, pkg.version);
  },
  app: (target) => {
    if (!target) throw new RedoxError('REDOX_USAGE', 'no app given', 'pass a Lua file (app.lua) or a module target (myapp.server:app)');
    return appFromTarget(target);
  },
  setExitCode: (code) => { exitCode = code; },
  exit: (code) => process.stdout.write('', () => process.exit(code)),
};
addRuntimeCommands(program, runtimeHost);
addCatalogueCommands(program, catalogue, (t) => process.stdout.write(t));
// Command groups register below, one line each.

const worker = runIfWorker(runtimeHost);
if (worker) {
  worker.catch((err) => process.exit(reportError(err)));
} else {
  runProgram(program, process.argv, () => exitCode).then((code) => {
    if (code !== 0) process.exitCode = code;
  });
}
