// Resolving what the user asked for (--features a,b,distro-web / --distro NAME) into a sorted,
// deduplicated feature list with every requirement included.
import { RedoxError } from '../../errors';
import { Catalogue, distroFeatures } from './catalogue';

export interface Selection {
  /** The distro when the set came from exactly one distro (and nothing else), else null. */
  distro: string | null;
  features: string[];
}

export interface SelectionRequest {
  features?: string[];
  distro?: string;
}

/** Edit distance, for "did you mean" suggestions. */
export function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

export function suggest(name: string, options: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const o of options) {
    const d = o.startsWith(name) || name.startsWith(o) ? 1 : distance(name, o);
    if (d < bestScore) {
      bestScore = d;
      best = o;
    }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

export function unknownFeature(catalogue: Catalogue, name: string): RedoxError {
  const s = suggest(name, catalogue.features.keys());
  return new RedoxError('REDOX_UNKNOWN_FEATURE', `unknown feature "${name}"${s ? ` (did you mean "${s}"?)` : ''}`,
    `available features: ${[...catalogue.features.keys()].join(', ')}; distros: ${[...catalogue.distros.keys()].map((d) => `distro-${d}`).join(', ')}`);
}

export function unknownDistro(catalogue: Catalogue, name: string): RedoxError {
  const s = suggest(name, catalogue.distros.keys());
  return new RedoxError('REDOX_UNKNOWN_DISTRO', `unknown distro "${name}"${s ? ` (did you mean "${s}"?)` : ''}`,
    `available distros: ${[...catalogue.distros.keys()].join(', ')} (see \`redox distros\`)`);
}

export function resolveSelection(catalogue: Catalogue, request: SelectionRequest): Selection {
  const names = new Set<string>();
  const distrosUsed: string[] = [];
  const addDistro = (d: string) => {
    if (!catalogue.distros.has(d)) throw unknownDistro(catalogue, d);
    distrosUsed.push(d);
    for (const f of distroFeatures(catalogue.distros, d)) names.add(f);
  };
  if (request.distro) addDistro(request.distro);
  let plainFeatures = 0;
  for (const item of request.features ?? []) {
    if (item.startsWith('distro-')) addDistro(item.slice('distro-'.length));
    else if (!catalogue.features.has(item)) throw unknownFeature(catalogue, item);
    else {
      names.add(item);
      plainFeatures++;
    }
  }
  const add = (name: string) => {
    for (const dep of catalogue.features.get(name)!.requires) {
      if (!names.has(dep)) {
        names.add(dep);
        add(dep);
      }
    }
  };
  for (const n of [...names]) add(n);
  const features = [...names].sort();
  // The result is "that distro" only when nothing was added to it.
  const distro = distrosUsed.length === 1 && plainFeatures === 0 ? distrosUsed[0] : null;
  return { distro, features };
}
