// Features are installed after the features they require, so a feature's Lua part can
// require() its dependencies.
import type { FeatureDefinition } from '../feature';
import { RedoxError } from '../errors';
import { byName } from '../order';

export function orderForInstall(features: FeatureDefinition[]): FeatureDefinition[] {
  const named = new Map(features.map((f) => [f.name, f]));
  const ordered: FeatureDefinition[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (f: FeatureDefinition, chain: string[]) => {
    const s = state.get(f.name);
    if (s === 'done') return;
    if (s === 'visiting') {
      throw new RedoxError('REDOX_FEATURE_INVALID', `features require each other in a cycle: ${[...chain, f.name].join(' -> ')}`);
    }
    state.set(f.name, 'visiting');
    for (const dep of f.requires ?? []) {
      const d = named.get(dep);
      if (!d) {
        throw new RedoxError('REDOX_FEATURE_INVALID', `feature "${f.name}" requires "${dep}", which is not in this set`,
          `add it: --features ${[...named.keys(), dep].sort().join(',')}`);
      }
      visit(d, [...chain, f.name]);
    }
    state.set(f.name, 'done');
    ordered.push(f);
  };
  for (const f of [...features].sort(byName)) visit(f, []);
  return ordered;
}
