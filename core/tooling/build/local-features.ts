// A service's own features (`--with ./geo`, redox.json "with"): folders shaped like
// features/<name>/ with index.ts (or index.js) default-exporting defineFeature({...}) and a
// feature.json holding its catalogue entry, the shape of a features.json entry. They pass the
// same checks as built-in ones: the entry through the catalogue parser, the spec through
// namedFeature (the folder name is the feature name).
import fs from 'node:fs';
import path from 'node:path';
import { FeatureSpec, namedFeature } from '../../feature';
import { RedoxError } from '../../errors';
import { CatalogueEntry, parseFeatures } from '../catalogue/catalogue';
import { redoxImports } from './bundle';

export interface LocalFeature {
  name: string;
  dir: string;
  /** index.ts or index.js, absolute. */
  index: string;
  entry: CatalogueEntry;
}

function invalid(message: string, hint?: string): RedoxError {
  return new RedoxError('REDOX_FEATURE_INVALID', message,
    hint ?? 'a local feature folder holds index.ts exporting `export default defineFeature({...})` (import it from "redox/feature") and feature.json ({"description", "requires", "packages", "assets"})');
}

/** Loads the folder's definition by bundling and requiring it, as the binary will. */
async function loadDefinition(root: string, index: string, workDir: string): Promise<FeatureSpec> {
  const esbuild = await import('esbuild');
  const outfile = path.join(workDir, `local-${path.basename(path.dirname(index))}-${Date.now()}.js`);
  try {
    await esbuild.build({
      entryPoints: [index], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node20',
      absWorkingDir: root, nodePaths: [path.join(root, 'node_modules')], plugins: [redoxImports(root)], logLevel: 'silent',
    });
  } catch (err) {
    const first = (err as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors?.[0];
    throw invalid(`${index} does not compile: ${first ? `${first.location ? `${first.location.file}:${first.location.line}: ` : ''}${first.text}` : (err as Error).message}`);
  }
  let mod: { default?: unknown };
  try {
    mod = require(outfile);
  } catch (err) {
    throw invalid(`${index} failed to load: ${(err as Error).message}`);
  } finally {
    fs.rmSync(outfile, { force: true });
  }
  const def = mod.default as FeatureSpec | undefined;
  if (!def || typeof def !== 'object' || typeof def.install !== 'function') {
    throw invalid(`${index} has no default export made with defineFeature({ install })`);
  }
  return def;
}

function readEntryFile(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw invalid(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

export async function loadLocalFeatures(root: string, dirs: string[], builtins: Map<string, CatalogueEntry>, workDir: string): Promise<LocalFeature[]> {
  const out: LocalFeature[] = [];
  for (const given of dirs) {
    const dir = path.resolve(given);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw invalid(`--with ${given}: no such folder`);
    const name = path.basename(dir);
    const index = ['index.ts', 'index.js'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
    if (!index) throw invalid(`--with ${given}: the folder has no index.ts or index.js`);
    if (builtins.has(name)) throw invalid(`--with ${given}: "${name}" is a built-in feature; a local feature cannot replace it`, 'rename the folder (the folder name is the feature name)');
    if (out.some((f) => f.name === name)) throw invalid(`--with lists two folders named "${name}"`);
    const jsonFile = path.join(dir, 'feature.json');
    if (!fs.existsSync(jsonFile)) throw invalid(`--with ${given}: the folder has no feature.json (its catalogue entry: description, requires, packages, assets)`);
    const def = await loadDefinition(root, index, workDir);
    const raw = readEntryFile(jsonFile);
    // The catalogue parser, with the built-in entries beside it so "requires" can name them.
    const all: Record<string, unknown> = {};
    for (const e of [...builtins.values(), ...out.map((f) => f.entry)]) all[e.name] = { description: e.description, requires: e.requires, packages: e.packages, assets: e.assets };
    all[name] = raw;
    const entry = parseFeatures({ features: all }, path.relative(process.cwd(), jsonFile) || jsonFile).get(name)!;
    try {
      namedFeature(name, entry, def);
    } catch (err) {
      throw invalid(`${index}: ${(err as Error).message}`);
    }
    out.push({ name, dir, index, entry });
  }
  return out;
}
