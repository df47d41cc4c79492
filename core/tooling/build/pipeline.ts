// `redox build`: plan, then for each binary: entry -> bundle -> addons -> lua (precompiled chunks)
// -> assets -> blob -> base (strip) -> inject -> smoke test -> budget -> manifest; finally the
// folder's checksums and size report.
// Progress goes through a callback; the CLI decides how to show it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RedoxError } from '../../errors';
import { gatherAssets, sha256 } from './assets';
import { hashFile } from './file-bytes';
import { bundleEntryCached } from './bundle-cache';
import { EntryFeature, renderEntry } from './entry';
import { BuildManifest, MANIFEST_SUFFIX, METAFILE_SUFFIX } from './manifest';
import { metafilePath } from './metafile';
import { addonNeeds, BuildRequest, Plan, planBuild, Target } from './plan';
import { addonFor, installedFits } from './addons';
import { recordLuaChunks } from './lua-chunks';
import { BuildInfo, MANIFEST_ASSET, STATIC_DATA_ASSET, STATIC_INDEX_ASSET } from '../../runtime/sea/embedded';
import { generateBlob, injectBlob, prepareBase, stripsOn } from './sea';
import { checkInjectedPe, smokeTest } from './smoke';
import { formatBytes, SizesReport, writeFolderReports } from './sizes';
import { writeAtomic } from '../write-atomic';
import { buildImage, ImageResult } from './image';
import { byText } from '../../order';

export type BuildEvent =
  | { kind: 'plan'; outDir: string; targets: Target[]; node: string }
  | { kind: 'begin'; target: string; step: string }
  | { kind: 'end'; target: string; step: string; ms: number; detail?: string }
  | { kind: 'skip'; target: string; step: string; why: string }
  | { kind: 'note'; message: string }
  | { kind: 'built'; target: string; manifest: BuildManifest; ms: number };

export type Progress = (event: BuildEvent) => void;

export interface BuildResult {
  outDir: string;
  manifests: BuildManifest[];
  report: SizesReport;
  /** With --image: one per binary. */
  images: ImageResult[];
}

/** The entry's import for each feature, and its index file as the metafile names it. */
function entryFeatures(plan: Plan, target: Target): { entry: EntryFeature[]; roots: Record<string, string> } {
  const entry: EntryFeature[] = [];
  const roots: Record<string, string> = {};
  for (const name of target.features) {
    const local = plan.locals.find((l) => l.name === name);
    const file = local ? local.index : path.join(plan.root, 'features', name, 'index.ts');
    const facts = local ? local.entry : plan.catalogue.features.get(name)!;
    entry.push({ name, description: facts.description, requires: facts.requires, specifier: local ? file.split(path.sep).join('/') : `./features/${name}/index` });
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
  const bundle = await step('bundle', () => bundleEntryCached(plan.root, source), (b) => `${formatBytes(b.code.length)}${b.cached ? ' (unchanged: from the build cache)' : ''}`);
  const bundleFile = path.join(work, 'bundle.js');
  fs.writeFileSync(bundleFile, bundle.code);

  const addonFiles: Record<string, string> = {};
  const needs = addonNeeds(plan.root, plan.catalogue, plan.locals, [target]);
  if (needs.length && !installedFits(plan.base)) {
    const note = (message: string) => progress({ kind: 'note', message });
    await step('addons', async () => {
      for (const need of needs) addonFiles[need.asset] = await addonFor(plan.base, need, note);
    }, () => `${needs.map((n) => n.asset).join(', ')} for ${plan.base.target!.name}, ABI ${plan.base.abi}`);
  }
  // Precompiling only saves boot time: a feature that cannot start here (say, an addon this
  // machine cannot load) costs the binary its bytecode, not the build.
  const chunks = await step('lua', () => recordLuaChunks(plan, target, work).catch((err: Error) => {
    progress({ kind: 'note', message: `${target.name}: Lua not precompiled (${err.message}); the binary parses it at boot` });
    return undefined;
  }), (r) => (r ? `${r.chunks} chunks precompiled` : 'skipped'));
  const { assets, featureCosts, packages, js } = gatherAssets(plan, target, bundle.metafile, roots, work, addonFiles, chunks?.file);
  const info: BuildInfo = {
    name: target.name,
    redox: plan.redoxVersion,
    distro: target.distro,
    features: target.features,
    catalogue: [...plan.catalogue.features.keys()].sort(),
    node: { version: plan.base.version, platform: plan.base.platform, arch: plan.base.arch },
    packages: Object.fromEntries(Object.entries(packages).sort(([a], [b]) => byText(a, b))),
    assets: Object.fromEntries(Object.entries(assets).sort(([a], [b]) => byText(a, b)).map(([k, a]) => [k, { sha256: a.sha256, bytes: a.bytes }])),
    app: plan.app ? { main: plan.app.main, attr: plan.app.attr, files: Object.keys(plan.app.files) } : null,
    static: plan.static ? { files: plan.static.files, bytes: plan.static.bytes } : null,
  };
  const infoFile = path.join(work, 'manifest.json');
  fs.writeFileSync(infoFile, JSON.stringify(info));
  const seaAssets: Record<string, string> = { [MANIFEST_ASSET]: infoFile };
  for (const key of Object.keys(info.assets)) seaAssets[key] = assets[key].file;
  if (plan.static) Object.assign(seaAssets, { [STATIC_INDEX_ASSET]: plan.static.indexFile, [STATIC_DATA_ASSET]: plan.static.dataFile });

  const blobFile = path.join(work, 'sea-prep.blob');
  const blob = await step('blob', () => generateBlob(plan.base, work, { main: bundleFile, output: blobFile, assets: seaAssets }), (b) => formatBytes(b.length));

  const dest = path.join(plan.outDir, target.name);
  // Keeps the real name last: Windows runs a file by its .exe suffix.
  const partial = path.join(plan.outDir, `.partial-${target.name}`);
  const strip = stripsOn(plan.base, plan.strip);
  let done = false;
  try {
    if (plan.strip && !strip) progress({ kind: 'skip', target: target.name, step: 'strip', why: `stripping is only done on Linux (base is ${plan.base.platform})` });
    await step(strip ? 'strip' : 'copy', () => prepareBase(plan.base, partial, strip), () => formatBytes(fs.statSync(partial).size));
    const nodeStripped = fs.statSync(partial).size;
    if (target.budget && nodeStripped + blob.length > target.budget.bytes) overBudget(target, nodeStripped + blob.length, nodeStripped, true);
    await step('inject', () => injectBlob(plan.base, partial, blob, blobFile));
    const runner = plan.base.runner;
    if (runner) {
      await step('smoke', () => smokeTest(partial, { features: target.features }, work, runner),
        () => `require each feature, list them${runner.length ? ` (under ${path.basename(runner[0])})` : ''}`);
    } else if (plan.base.platform === 'win32') {
      await step('check', () => checkInjectedPe(partial, blob), () => 'cannot run here: PE resource NODE_SEA_BLOB holds the blob');
    } else {
      progress({ kind: 'skip', target: target.name, step: 'smoke', why: `a ${plan.base.platform}-${plan.base.arch} binary cannot run on this machine` });
    }
    const bytes = fs.statSync(partial).size;
    if (target.budget && bytes > target.budget.bytes) overBudget(target, bytes, nodeStripped, false);
    const assetsTotal = Object.values(assets).reduce((n, a) => n + a.bytes, 0) + fs.statSync(infoFile).size;
    const featureAssets = Object.values(featureCosts).reduce((n, c) => n + c.assets, 0);
    const manifest: BuildManifest = {
      ...info,
      file: target.name,
      sha256: hashFile(partial),
      bytes,
      sizes: {
        node: plan.base.bytes, nodeStripped, bundle: bundle.code.length, assets: assetsTotal,
        core: { js: js.core, assets: assetsTotal - featureAssets }, shared: js.shared, features: featureCosts,
      },
      budget: target.budget,
      strip,
      base: {
        source: plan.base.source, version: plan.base.version, target: plan.base.target?.name ?? null,
        package: plan.base.package?.name ?? null, integrity: plan.base.package?.integrity ?? null, sha256: plan.base.sha256,
      },
      blob: { sha256: sha256(blob), bytes: blob.length },
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

/** Builds the image of a binary and records it in its manifest. */
function addImage(plan: Plan, manifest: BuildManifest, image: string | true, progress: Progress): ImageResult {
  progress({ kind: 'begin', target: manifest.file, step: 'image' });
  const t = Date.now();
  const single = plan.targets.length === 1;
  const result = buildImage({
    outDir: plan.outDir, binary: manifest.file, embeddedApp: manifest.app !== null,
    tag: image === true || !single ? `${manifest.file}:${plan.redoxVersion}` : image,
    containerfile: single ? 'Containerfile' : `Containerfile.${manifest.file}`,
  });
  manifest.image = { tag: result.tag, containerfile: path.basename(result.containerfile), bytes: result.bytes };
  writeAtomic(path.join(plan.outDir, manifest.file + MANIFEST_SUFFIX), JSON.stringify(manifest, null, 2) + '\n');
  if (result.tool) progress({ kind: 'end', target: manifest.file, step: 'image', ms: Date.now() - t, detail: `${result.tag} (${result.tool}) ${result.bytes === null ? '' : formatBytes(result.bytes)}` });
  else progress({ kind: 'skip', target: manifest.file, step: 'image', why: `neither podman nor docker is on PATH; ${path.basename(result.containerfile)} is written, build it with: ${result.buildCommand}` });
  return result;
}

function overBudget(target: Target, bytes: number, nodeStripped: number, early: boolean): never {
  throw new RedoxError('REDOX_BUILD_BUDGET',
    `${target.name} is ${formatBytes(bytes)} (${bytes} bytes)${early ? ' before injection' : ''}, over its budget of ${target.budget!.text} (${target.budget!.bytes} bytes) by ${formatBytes(bytes - target.budget!.bytes)}; the stripped Node base alone is ${formatBytes(nodeStripped)}`,
    'drop features, raise "budget" in the distro file, or pass --budget SIZE');
}

export async function build(root: string, request: BuildRequest, progress: Progress = () => {}): Promise<BuildResult> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'redox-build-'));
  try {
    const plan = await planBuild(root, request, work, (message) => progress({ kind: 'note', message }));
    const b = plan.base;
    const node = b.package ? `${b.package.name}@${b.package.version}${b.blobNode !== b.file ? ', blob by the same version for this machine' : ''}` : `${b.file} (${b.version})`;
    progress({ kind: 'plan', outDir: plan.outDir, targets: plan.targets, node });
    const manifests: BuildManifest[] = [];
    const images: ImageResult[] = [];
    try {
      // Two binaries at a time where there are two cores (each injection holds a whole binary in
      // memory); after a failure no new one starts, and the first failure is reported once the
      // ones under way have finished.
      const built: { manifest: BuildManifest; image: ImageResult | null }[] = [];
      let next = 0;
      let failed: { err: unknown } | null = null;
      const worker = async () => {
        while (!failed && next < plan.targets.length) {
          const i = next++;
          try {
            const manifest = await buildTarget(plan, plan.targets[i], work, progress);
            built[i] = { manifest, image: request.image ? addImage(plan, manifest, request.image, progress) : null };
          } catch (err) {
            failed ??= { err };
          }
        }
      };
      const parallel = Math.max(1, Math.min(2, os.availableParallelism(), plan.targets.length));
      await Promise.all(Array.from({ length: parallel }, worker));
      for (const b of built) {
        if (!b) continue;
        manifests.push(b.manifest);
        if (b.image) images.push(b.image);
      }
      const failure = failed as { err: unknown } | null; // set by the workers above
      if (failure) throw failure.err;
    } finally {
      // Even when a binary fails (and its older copy was deleted), the folder's reports describe
      // exactly the binaries present.
      if (fs.existsSync(plan.outDir)) writeFolderReports(plan.outDir);
    }
    return { outDir: plan.outDir, manifests, report: writeFolderReports(plan.outDir), images };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
