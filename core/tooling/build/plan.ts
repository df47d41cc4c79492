// From what the user asked (flags, redox.json) to what will be built: the binaries (name,
// distro, features, budget) and everything shared by them (catalogue with local features, base
// Node, output folder, embedded app). All input errors surface here, before any slow step.
import fs from 'node:fs';
import path from 'node:path';
import { RedoxError } from '../../errors';
import { Catalogue, distroFeatures, loadCatalogue } from '../catalogue/catalogue';
import { resolveSelection } from '../catalogue/resolve';
import { parseLimit } from '../../runtime/limits';
import { checkAppSyntax, collectApp } from './app';
import { BaseNode, resolveBase } from './node-base';
import { AddonNeed, checkAddonsBuildable, checkTargetAddons } from './addons';
import { isMachine, parseTarget } from './targets';
import { DEFAULT_MAJOR } from './node-versions';
import { Note } from './node-cache';
import { LocalFeature, loadLocalFeatures } from './local-features';
import { prepareOutDir } from './out-dir';
import { writableBuildCacheDir } from '../cache-dir';
import { loadProject } from '../project';
import { EmbeddedApp } from '../../runtime/sea/embedded';
import { CollectedStatic, collectStatic } from './static-assets';

export interface BuildRequest {
  /** Folder that relative paths and redox.json are read from. */
  cwd: string;
  features?: string[];
  distro?: string;
  allDistros?: boolean;
  /** App file to embed (FILE or FILE:attr). */
  app?: string;
  /** Output folder [dist]. */
  out?: string;
  /** Binary name (single builds only). */
  name?: string;
  /** Base Node binary file; excludes nodeVersion. */
  node?: string;
  /** Registry Node line or release (24, 26, 26.12.1) or host [the default LTS line]. */
  nodeVersion?: string;
  /** linux-x64, linux-arm64 or win-x64 [this machine]. */
  target?: string;
  /** Strip the base before injection [true]. */
  strip?: boolean;
  /** Local feature folders. */
  with?: string[];
  /** Size budget overriding the distro's ("95MiB"). */
  budget?: string;
  /** Also write a Containerfile and build a FROM scratch image: true, or the NAME:TAG to use. */
  image?: string | true;
  /** Folder of static files to embed (--static). */
  static?: string;
  /** Read redox.json from cwd when it exists [true]. */
  project?: boolean;
}

export interface Target {
  name: string;
  distro: string | null;
  features: string[];
  budget: { bytes: number; text: string } | null;
}

export interface Plan {
  root: string;
  redoxVersion: string;
  catalogue: Catalogue;
  locals: LocalFeature[];
  base: BaseNode;
  outDir: string;
  app: EmbeddedApp | null;
  static: CollectedStatic | null;
  strip: boolean;
  targets: Target[];
}

const usage = (message: string, hint?: string) => new RedoxError('REDOX_USAGE', message, hint);

function checkName(name: string): void {
  if (!/^[A-Za-z0-9][\w.-]*$/.test(name)) throw usage(`--name "${name}" must be a file name (letters, digits, ".", "_", "-")`);
}

/** The native addons the selected features need, with their installed package folders. */
export function addonNeeds(root: string, catalogue: Catalogue, locals: LocalFeature[], targets: Target[]): AddonNeed[] {
  const needs: AddonNeed[] = [];
  for (const feature of [...new Set(targets.flatMap((t) => t.features))]) {
    const local = locals.find((l) => l.name === feature);
    for (const [asset, spec] of Object.entries(catalogue.features.get(feature)!.assets)) {
      let packageDir: string;
      if (spec.package === '.') packageDir = local!.dir;
      else {
        try {
          packageDir = path.dirname(require.resolve(`${spec.package}/package.json`, { paths: local ? [local.dir, root] : [root] }));
        } catch {
          throw new RedoxError('REDOX_FEATURE_INVALID', `npm package "${spec.package}" of feature "${feature}" is not installed`, 'run `npm install`');
        }
      }
      needs.push({ feature, asset, spec, packageDir });
    }
  }
  return needs;
}

export async function planBuild(root: string, request: BuildRequest, workDir: string, note: Note = () => {}): Promise<Plan> {
  const project = request.project === false ? undefined : loadProject(request.cwd);
  const asked = Boolean(request.features?.length || request.distro || request.allDistros);
  const features = asked ? request.features ?? [] : project?.features ?? [];
  const distro = asked ? request.distro : project?.distro;
  const withDirs = [...(project?.with ?? []), ...(request.with ?? []).map((w) => path.resolve(request.cwd, w))];
  const appTarget = request.app ?? project?.app;
  if (request.allDistros && (request.features?.length || request.distro)) throw usage('--all-distros builds every distro; drop --features/--distro');
  if (request.allDistros && request.name) throw usage('--name names one binary; --all-distros builds one per distro (redox-<distro>)');
  if (request.allDistros && withDirs.length) throw usage('--with adds local features to one build; it cannot be combined with --all-distros');
  if (!request.allDistros && !features.length && !distro && !withDirs.length) {
    throw usage('nothing to build', 'choose --features a,b, --distro NAME or --all-distros (or write redox.json with "features" or "distro")');
  }
  if (request.name) checkName(request.name);
  writableBuildCacheDir();
  const budgetOverride = request.budget === undefined ? undefined : { bytes: parseLimit({ kind: 'bytes' }, request.budget, '--budget'), text: request.budget };

  const builtin = loadCatalogue(root);
  const locals = await loadLocalFeatures(root, withDirs, builtin.features, workDir);
  const catalogue: Catalogue = { features: new Map([...builtin.features, ...locals.map((l) => [l.name, l.entry] as const)]), distros: builtin.distros };

  let targets: Target[];
  const budgetOf = (d: string) => {
    const dist = catalogue.distros.get(d)!;
    return dist.budget === undefined ? null : { bytes: dist.budget, text: dist.budgetText! };
  };
  if (request.allDistros) {
    targets = [...catalogue.distros.keys()].sort().map((d) => ({ name: `redox-${d}`, distro: d, features: distroFeatures(catalogue.distros, d), budget: budgetOverride ?? budgetOf(d) }));
  } else {
    const sel = resolveSelection(catalogue, { features: [...features, ...locals.map((l) => l.name)], distro });
    targets = [{ name: request.name ?? (sel.distro ? `redox-${sel.distro}` : 'redox-custom'), distro: sel.distro, features: sel.features, budget: budgetOverride ?? (sel.distro ? budgetOf(sel.distro) : null) }];
  }
  for (const t of targets) {
    for (const f of t.features) {
      if (!locals.some((l) => l.name === f) && !fs.existsSync(path.join(root, 'features', f, 'index.ts'))) {
        throw new RedoxError('REDOX_FEATURE_INVALID', `feature "${f}" is in features.json but has no folder features/${f}/`);
      }
    }
  }

  const app = appTarget ? collectApp(appTarget, request.cwd) : null;
  if (app) await checkAppSyntax(app, appTarget!);
  if (request.target !== undefined && request.name === undefined) for (const t of targets) t.name += `-${request.target}`;
  const needs = addonNeeds(root, catalogue, locals, targets);
  if (request.target !== undefined && !request.node && request.nodeVersion?.trim() !== 'host') {
    const t = parseTarget(request.target);
    if (!isMachine(t)) checkTargetAddons(t, request.nodeVersion ?? String(DEFAULT_MAJOR), needs);
  }
  const base = await resolveBase({ node: request.node, nodeVersion: request.nodeVersion, target: request.target }, note);
  checkAddonsBuildable(base, needs);
  const statics = request.static ? collectStatic(request.static, request.cwd, workDir) : null;
  if (base.platform === 'win32') for (const t of targets) if (!t.name.endsWith('.exe')) t.name += '.exe';
  const outDir = prepareOutDir(request.out ?? 'dist', request.cwd);
  const redoxVersion = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version as string;
  return { root, redoxVersion, catalogue, locals, base, outDir, app, static: statics, strip: request.strip ?? true, targets };
}
