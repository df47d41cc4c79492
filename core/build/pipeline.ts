// `redox build`: plan, then for each binary: entry -> bundle -> assets -> blob -> base (strip)
// -> inject -> smoke test -> budget -> manifest; finally the folder's checksums and size report.
// Progress goes through a callback; the CLI decides how to show it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RedoxError } from '../errors';
import { gatherAssets, sha256 } from './assets';
import { bundleEntry } from './bundle';
import { EntryFeature, renderEntry } from './entry';
import { BuildManifest, MANIFEST_SUFFIX, METAFILE_SUFFIX } from './manifest';
import { metafilePath } from './metafile';
import { BuildRequest, Plan, planBuild, Target } from './plan';
import { BuildInfo, MANIFEST_ASSET } from '../runtime/sea/embedded';
import { generateBlob, injectBlob, prepareBase, stripsOn } from './sea';
import { smokeTest } from './smoke';
import { formatBytes, SizesReport, writeFolderReports } from './sizes';
import { writeAtomic } from './out-dir';

export type BuildEvent =
  | { kind: 'plan'; outDir: string; targets: Target[]; node: string }
  | { kind: 'begin'; target: string; step: string }
  | { kind: 'end'; target: string; step: string; ms: number; detail?: string }
  | { kind: 'skip'; target: string; step: string; why: string }
  | { kind: 'built'; target: string; manifest: BuildManifest; ms: number };

export type Progress = (event: BuildEvent) => void;

export interface BuildResult {
  outDir: string;
  manifests: BuildManifest[];
  report: SizesReport;
}

/** The entry's import for each feature, and its index file as the metafile names it. */
function entryFeatures(plan: Plan, target: Target): { entry: EntryFeature[]; roots: Record<string, string> } {
  const entry: EntryFeature[] = [];
  const roots: Record<string, string> = {};
  for (const name of target.features) {
    const local = plan.locals.find((l) => l.name === name);
    const file = local ? local.index : path.join(plan.root, 'features', name, 'index.ts');
    entry.push({ name, specifier: local ? file.split(path.sep).join('/') : `./features/${name}/index` });
    roots[name] = metafilePath(plan.root, file);
  }
  return { entry, roots };
}

async function buildTarget(plan: Plan, target: Target, workRoot: string, progress: Progress): Promise<BuildManifest> {
  const started = Date.now();
  const work = fs.mkdtempSync(path.join(workRoot, `${target.name}-`));
  const step = async <T>(name: string, fn: () => T | Promise<T>, detail?: (r: T) => string): Promise<T> => {
    progress({ kind: 'begin', target: target.name, step: name });
    const t = Date.now();
    const r = await fn();
    progress({ kind: 'end', target: target.name, step: name, ms: Date.now() - t, detail: detail?.(r) });
    return r;
  };

  const { entry, roots } = entryFeatures(plan, target);
  const source = await step('entry', () => renderEntry(entry), () => `${target.features.length} feature(s)`);
  fs.writeFileSync(path.join(work, 'redox-entry.ts'), source);
  const bundle = await step('bundle', () => bundleEntry(plan.root, source), (b) => formatBytes(b.code.length));
  const bundleFile = path.join(work, 'bundle.js');
  fs.writeFileSync(bundleFile, bundle.code);

  const { assets, featureCosts, packages, js } = gatherAssets(plan, target, bundle.metafile, roots, work);
  const info: BuildInfo = {
    name: target.name,
    redox: plan.redoxVersion,
    distro: target.distro,
    features: target.features,
    catalogue: [...plan.catalogue.features.keys()].sort(),
    node: { version: plan.base.version, platform: plan.base.platform, arch: plan.base.arch },
    packages: Object.fromEntries(Object.entries(packages).sort(([a], [b]) => a.localeCompare(b))),
    assets: Object.fromEntries(Object.entries(assets).sort(([a], [b]) => a.localeCompare(b)).map(([k, a]) => [k, { sha256: a.sha256, bytes: a.bytes }])),
    app: plan.app ? { main: plan.app.main, attr: plan.app.attr, files: Object.keys(plan.app.files) } : null,
  };
  const infoFile = path.join(work, 'manifest.json');
  fs.writeFileSync(infoFile, JSON.stringify(info));
  const seaAssets: Record<string, string> = { [MANIFEST_ASSET]: infoFile };
  for (const key of Object.keys(info.assets)) seaAssets[key] = assets[key].file;

  const blobFile = path.join(work, 'sea-prep.blob');
  const blob = await step('blob', () => generateBlob(plan.base, work, { main: bundleFile, output: blobFile, assets: seaAssets }), (b) => formatBytes(b.length));

  const dest = path.join(plan.outDir, target.name);
  // Keeps the real name last: Windows runs a file by its .exe suffix.
  const partial = path.join(plan.outDir, `.partial-${target.name}`);
  const strip = stripsOn(plan.base.platform, plan.strip);
  let done = false;
  try {
    if (plan.strip && !strip) progress({ kind: 'skip', target: target.name, step: 'strip', why: `stripping is only done on Linux (base is ${plan.base.platform})` });
    await step(strip ? 'strip' : 'copy', () => prepareBase(plan.base, partial, strip), () => formatBytes(fs.statSync(partial).size));
    const nodeStripped = fs.statSync(partial).size;
    if (target.budget && nodeStripped + blob.length > target.budget.bytes) overBudget(target, nodeStripped + blob.length, nodeStripped, true);
    await step('inject', () => injectBlob(plan.base, partial, blobFile));
    await step('smoke', () => smokeTest(partial, { distro: target.distro, features: target.features }, work), () => 'features --json, require each feature');
    const data = fs.readFileSync(partial);
    if (target.budget && data.length > target.budget.bytes) overBudget(target, data.length, nodeStripped, false);
    const assetsTotal = Object.values(assets).reduce((n, a) => n + a.bytes, 0) + fs.statSync(infoFile).size;
    const featureAssets = Object.values(featureCosts).reduce((n, c) => n + c.assets, 0);
    const manifest: BuildManifest = {
      ...info,
      file: target.name,
      sha256: sha256(data),
      bytes: data.length,
      sizes: {
        node: plan.base.bytes, nodeStripped, bundle: bundle.code.length, assets: assetsTotal,
        core: { js: js.core, assets: assetsTotal - featureAssets }, shared: js.shared, features: featureCosts,
      },
      budget: target.budget,
      strip,
    };
    fs.renameSync(partial, dest);
    writeAtomic(path.join(plan.outDir, target.name + METAFILE_SUFFIX), JSON.stringify(bundle.metafile));
    writeAtomic(path.join(plan.outDir, target.name + MANIFEST_SUFFIX), JSON.stringify(manifest, null, 2) + '\n');
    done = true;
    progress({ kind: 'built', target: target.name, manifest, ms: Date.now() - started });
    return manifest;
  } finally {
    fs.rmSync(partial, { force: true });
    // A failed build leaves no binary of that name behind, not even an older one.
    if (!done) for (const f of [dest, dest + MANIFEST_SUFFIX, dest + METAFILE_SUFFIX]) fs.rmSync(f, { force: true });
  }
}

function overBudget(target: Target, bytes: number, nodeStripped: number, early: boolean): never {
  throw new RedoxError('REDOX_BUILD_BUDGET',
    `${target.name} is ${formatBytes(bytes)} (${bytes} bytes)${early ? ' before injection' : ''}, over its budget of ${target.budget!.text} (${target.budget!.bytes} bytes) by ${formatBytes(bytes - target.budget!.bytes)}; the stripped Node base alone is ${formatBytes(nodeStripped)}`,
    'drop features, raise "budget" in the distro file, or pass --budget SIZE');
}

export async function build(root: string, request: BuildRequest, progress: Progress = () => {}): Promise<BuildResult> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'redox-build-'));
  try {
    const plan = await planBuild(root, request, work);
    progress({ kind: 'plan', outDir: plan.outDir, targets: plan.targets, node: `${plan.base.file} (${plan.base.version})` });
    const manifests: BuildManifest[] = [];
    try {
      for (const target of plan.targets) manifests.push(await buildTarget(plan, target, work, progress));
    } finally {
      // Even when a binary fails (and its older copy was deleted), the folder's reports describe
      // exactly the binaries present.
      if (fs.existsSync(plan.outDir)) writeFolderReports(plan.outDir);
    }
    return { outDir: plan.outDir, manifests, report: writeFolderReports(plan.outDir) };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
