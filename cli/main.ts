#!/usr/bin/env node
// The development CLI (`redox`). Parses, calls core, prints; the only place that exits.
import { addRuntimeCommands, runIfWorker, RuntimeEntry } from './runtime-commands';
import { addCatalogueCommands } from './catalogue-commands';
import { addBuildCommands } from './build-commands';
import { addDeployCommands } from './deploy-commands';
import { addTsCommands } from './ts-commands';
import { addVersionCommand } from './version-command';
import { addTestCommands } from './test-commands';
import { newProgram, runProgram, tolerateClosedOutput } from './program';
import { reportError } from './report';
import { loadCatalogue, Catalogue } from '../core/tooling/catalogue/catalogue';
import { resolveSelection } from '../core/tooling/catalogue/resolve';
import type * as DevProfile from '../core/tooling/dev/profile';
import { projectRoot } from '../core/tooling/catalogue/packages';
import { appForTarget } from '../core/tooling/dev/target';
import { loadProject, requireAppTarget } from '../core/tooling/project';
import pkg from '../package.json';

let cached: Catalogue | undefined;
const catalogue = () => (cached ??= loadCatalogue(projectRoot()));
// The features' modules load when a command runs an app or lists their flags (serve, run, dev,
// test), not for build, init or the other tooling commands.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const devProfiles = () => require('../core/tooling/dev/profile') as typeof DevProfile;
let everyFeature: ReturnType<typeof DevProfile.catalogueFeatures> | undefined;
let exitCode: number | undefined;

const program = newProgram('redox', 'Lua microservices on Node, shipped as single executables with only the features they use', pkg.version);

const runtimeEntry: RuntimeEntry = {
  selectable: true,
  profile: (flags) => {
    const c = catalogue();
    // Flags win; then redox.json in the current folder; then every feature.
    const project = loadProject(process.cwd());
    const wanted = flags.features || flags.distro ? flags : project && (project.features || project.distro) ? project : undefined;
    const selection = wanted
      ? resolveSelection(c, { features: wanted.features, distro: wanted.distro })
      : { distro: 'full', features: [...c.features.keys()].sort() };
    return devProfiles().devProfile(c, selection, pkg.version);
  },
  app: (target) => {
    return appForTarget(requireAppTarget(target, process.cwd()));
  },
  appDefault: '"app" in redox.json, else app.ts or app.lua here',
  setExitCode: (code) => { exitCode = code; },
  get features() {
    return (everyFeature ??= devProfiles().catalogueFeatures(catalogue(), [...catalogue().features.keys()]));
  },
  exit: (code) => process.stdout.write('', () => process.exit(code)),
};
addRuntimeCommands(program, runtimeEntry);
addCatalogueCommands(program, catalogue, (t) => process.stdout.write(t));
// Command groups register below, one line each.
addBuildCommands(program, catalogue, (t) => process.stdout.write(t));
addTsCommands(program, runtimeEntry);
addDeployCommands(program, (t) => process.stdout.write(t));
addVersionCommand(program, pkg.version, (t) => process.stdout.write(t));
addTestCommands(program, runtimeEntry);

tolerateClosedOutput();
const worker = runIfWorker(runtimeEntry);
if (worker) {
  worker.catch((err) => process.exit(reportError(err)));
} else {
  runProgram(program, process.argv, () => exitCode).then((code) => {
    if (code !== 0) process.exitCode = code;
  });
}
