// The runtime profile for development runs (`redox serve`, `redox run`): features come from
// the registry in features/index.ts and assets from node_modules.
import path from 'node:path';
import { FeatureDefinition, FeatureSpec, namedFeature } from '../feature';
import { RuntimeProfile } from '../runtime/launch';
import { RedoxError } from '../errors';
import { Catalogue } from './catalogue';
import { Selection } from './resolve';
import { luaWasmPath, packageDir } from './packages';

/** The named features for `names`: each folder's spec with its features.json entry. */
export function catalogueFeatures(catalogue: Catalogue, registry: Record<string, FeatureSpec>, names: string[]): FeatureDefinition[] {
  return names.map((name) => {
    const spec = registry[name];
    if (!spec) throw new RedoxError('REDOX_FEATURE_INVALID', `feature "${name}" is in features.json but has no folder features/${name}/`);
    return namedFeature(name, catalogue.features.get(name)!, spec);
  });
}

export function devProfile(catalogue: Catalogue, registry: Record<string, FeatureSpec>, selection: Selection, version: string): RuntimeProfile {
  const features = catalogueFeatures(catalogue, registry, selection.features);
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
    assetPath: (name) => {
      const file = assets.get(name);
      if (!file) throw new Error(`asset "${name}" is not declared by any selected feature in features.json`);
      return file;
    },
  };
}
