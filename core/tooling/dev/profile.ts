// The runtime profile for development runs (`redox serve`, `run`, `dev`, `test`): each selected
// feature is loaded from its own folder, features/<name>/ (compiled beside this CLI), named by its
// features.json entry; assets come from node_modules. No generated registry to keep current:
// features.json is the list. Binaries get their features from the entry `redox build` generates.
import path from 'node:path';
import { FeatureDefinition, FeatureSpec, namedFeature } from '../../feature';
import { RuntimeProfile } from '../../runtime/launch';
import { RedoxError } from '../../errors';
import { Catalogue } from '../catalogue/catalogue';
import { Selection } from '../catalogue/resolve';
import { luaWasmPath, packageDir } from '../catalogue/packages';
import { devChunkStore } from './chunk-cache';

// features/ sits at the same depth above this file in the sources and in the compiled tree.
const FEATURES_DIR = path.resolve(__dirname, '..', '..', '..', 'features');

/** The spec features/<name>/index exports (`export default defineFeature({...})`). */
export function featureFolderSpec(name: string, dir: string = FEATURES_DIR): FeatureSpec {
  let mod: { default?: FeatureSpec };
  try {
    mod = require(path.join(dir, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(path.join(dir, name))) {
      throw new RedoxError('REDOX_FEATURE_INVALID', `feature "${name}" is in features.json but has no folder features/${name}/ (looked in ${dir})`,
        'add the folder with index.ts, or remove the entry from features.json (then compile: npm run compile)');
    }
    throw err;
  }
  if (!mod.default) {
    throw new RedoxError('REDOX_FEATURE_INVALID', `features/${name}/index has no default export`, 'end it with `export default defineFeature({ install(ctx) { ... } })`');
  }
  return mod.default;
}

/** The named features for `names`: each folder's spec with its features.json entry. */
export function catalogueFeatures(catalogue: Catalogue, names: string[]): FeatureDefinition[] {
  return names.map((name) => namedFeature(name, catalogue.features.get(name)!, featureFolderSpec(name)));
}

export function devProfile(catalogue: Catalogue, selection: Selection, version: string): RuntimeProfile {
  const features = catalogueFeatures(catalogue, selection.features);
  const assets = new Map<string, string>();
  for (const name of selection.features) {
    for (const [asset, spec] of Object.entries(catalogue.features.get(name)!.assets)) {
      assets.set(asset, path.join(packageDir(spec.package), spec.path));
    }
  }
  return {
    distro: selection.distro,
    features,
    catalogue: [...catalogue.features.keys()],
    version,
    wasmPath: luaWasmPath,
    luaChunks: devChunkStore,
    assetPath: (name) => {
      const file = assets.get(name);
      if (!file) throw new Error(`asset "${name}" is not declared by any selected feature in features.json`);
      return file;
    },
  };
}
