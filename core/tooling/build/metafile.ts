// Reading esbuild's metafile: which bytes of the bundle each feature brought, and which npm
// packages ended up inside. A module belongs to a feature when only that feature's imports reach
// it; modules the runtime reaches are core; modules several features share are "shared".
import fs from 'node:fs';
import path from 'node:path';
import type { Metafile } from 'esbuild';

export interface JsAttribution {
  /** Bundle bytes of the runtime: everything not attributed to a feature, wrappers included. */
  core: number;
  /** Bytes reached only from this feature's folder. */
  features: Record<string, number>;
  /** Bytes reached from several features but not from the runtime. */
  shared: number;
  total: number;
}

function reach(meta: Metafile, starts: string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...starts];
  while (stack.length) {
    const p = stack.pop()!;
    if (seen.has(p) || !meta.inputs[p]) continue;
    seen.add(p);
    for (const imp of meta.inputs[p].imports) if (!imp.external) stack.push(imp.path);
  }
  return seen;
}

/** `roots.core` are the runtime's files (the binary's main, the feature contract);
 *  `roots.features` maps a feature name to its index file. Paths as the metafile spells them. */
export function attribute(meta: Metafile, roots: { core: string[]; features: Record<string, string> }): JsAttribution {
  const [output] = Object.values(meta.outputs);
  const core = reach(meta, roots.core);
  const owners = new Map<string, string[]>();
  for (const [name, root] of Object.entries(roots.features)) {
    for (const p of reach(meta, [root])) {
      if (core.has(p)) continue;
      owners.set(p, [...(owners.get(p) ?? []), name]);
    }
  }
  const features: Record<string, number> = Object.fromEntries(Object.keys(roots.features).map((n) => [n, 0]));
  let shared = 0;
  for (const [p, info] of Object.entries(output.inputs)) {
    const who = owners.get(p);
    if (!who) continue;
    if (who.length === 1) features[who[0]] += info.bytesInOutput;
    else shared += info.bytesInOutput;
  }
  const attributed = Object.values(features).reduce((a, b) => a + b, 0) + shared;
  return { core: output.bytes - attributed, features, shared, total: output.bytes };
}

const PACKAGE = /(^|.*\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//;

/** npm packages with code in the bundle, name -> version. */
export function bundledPackages(meta: Metafile, root: string): Record<string, string> {
  const [output] = Object.values(meta.outputs);
  const found: Record<string, string> = {};
  for (const p of Object.keys(output.inputs)) {
    const m = PACKAGE.exec(p);
    if (!m || found[m[2]]) continue;
    try {
      const pkg = JSON.parse(fs.readFileSync(path.resolve(root, `${m[1]}node_modules/${m[2]}/package.json`), 'utf8'));
      found[m[2]] = pkg.version;
    } catch {
      found[m[2]] = 'unknown';
    }
  }
  return found;
}

/** Input paths as esbuild's metafile spells them: relative to the working dir, forward slashes. */
export function metafilePath(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}
