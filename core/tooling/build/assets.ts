// What goes into the SEA beside the bundle: the Lua wasm and its precompiled chunks, the
// selected features' assets only (features.json "assets": native addons), and the embedded app;
// plus what each feature costs.
// Built-in features find their assets in redox's node_modules; a local feature may also use
// {"package": ".", "path": "build/geo.node"} for a file in its own folder.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Metafile } from 'esbuild';
import { RedoxError } from '../../errors';
import { AssetSpec } from '../catalogue/catalogue';
import { luaWasmPath, packageVersion } from '../catalogue/packages';
import { BINARY_MAIN } from './entry';
import { FeatureCost } from './manifest';
import { attribute, bundledPackages, JsAttribution, metafilePath } from './metafile';
import type { Plan, Target } from './plan';
import { APP_ASSET, EmbeddedAsset, featureAssetKey, LUA_CHUNKS_ASSET, WASM_ASSET } from '../../runtime/sea/embedded';
import { byText } from '../../order';

function packageRoot(name: string, from: string[]): string {
  try {
    return path.dirname(require.resolve(`${name}/package.json`, { paths: from }));
  } catch {
    throw new RedoxError('REDOX_FEATURE_INVALID', `npm package "${name}" is not installed (looked from ${from.join(', ')})`, 'run `npm install` in the folder of the feature that needs it');
  }
}

/** The asset's file; `featureDir` is set for local features. */
export function assetFile(root: string, feature: string, asset: string, spec: AssetSpec, featureDir?: string): string {
  const file = spec.package === '.' && featureDir
    ? path.resolve(featureDir, spec.path)
    : path.join(packageRoot(spec.package, featureDir ? [featureDir, root] : [root]), spec.path);
  if (!fs.existsSync(file)) {
    throw new RedoxError('REDOX_FEATURE_INVALID', `asset "${asset}" of feature "${feature}" is missing: ${file}`,
      `build it first (for an npm package: npm rebuild ${spec.package === '.' ? '' : spec.package})`.trim());
  }
  return file;
}

export type AssetFile = EmbeddedAsset & { file: string };

export const sha256 = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex');

function fileAsset(file: string): AssetFile {
  const data = fs.readFileSync(file);
  return { file, sha256: sha256(data), bytes: data.length };
}

function installedVersion(pkg: string, from: string[]): string {
  try {
    return JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`, { paths: from }), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

export interface GatheredAssets {
  /** By SEA asset key. */
  assets: Record<string, AssetFile>;
  featureCosts: Record<string, FeatureCost>;
  /** npm packages in the binary (bundled code or assets), name -> version. */
  packages: Record<string, string>;
  js: JsAttribution;
}

/** `roots` maps each feature to its index file as the metafile names it; `addonFiles` replaces
 *  installed addons by builds for the base (by asset name). */
export function gatherAssets(plan: Plan, target: Target, meta: Metafile, roots: Record<string, string>, work: string, addonFiles: Record<string, string> = {}, luaChunksFile?: string): GatheredAssets {
  const core = [BINARY_MAIN + '.ts', './core/feature.ts'].map((f) => metafilePath(plan.root, path.join(plan.root, f)));
  const js = attribute(meta, { core, features: roots });
  const assets: Record<string, AssetFile> = { [WASM_ASSET]: fileAsset(luaWasmPath()) };
  if (luaChunksFile) assets[LUA_CHUNKS_ASSET] = fileAsset(luaChunksFile);
  const packages: Record<string, string> = { ...bundledPackages(meta, plan.root), wasmoon: packageVersion('wasmoon') };
  const featureCosts: Record<string, FeatureCost> = {};
  for (const name of target.features) {
    const local = plan.locals.find((l) => l.name === name);
    let bytes = 0;
    for (const [asset, spec] of Object.entries(plan.catalogue.features.get(name)!.assets).sort(([a], [b]) => byText(a, b))) {
      const a = fileAsset(addonFiles[asset] ?? assetFile(plan.root, name, asset, spec, local?.dir));
      assets[featureAssetKey(asset)] = a;
      bytes += a.bytes;
      if (spec.package !== '.') packages[spec.package] ??= installedVersion(spec.package, local ? [local.dir, plan.root] : [plan.root]);
    }
    featureCosts[name] = { js: js.features[name], assets: bytes, total: js.features[name] + bytes };
  }
  if (plan.app) {
    const file = path.join(work, 'app.json');
    fs.writeFileSync(file, JSON.stringify(plan.app));
    assets[APP_ASSET] = fileAsset(file);
  }
  return { assets, featureCosts, packages, js };
}
