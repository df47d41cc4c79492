// Reading and validating the feature catalogue (features.json) and the distros (distros/*.json).
// Build- and dev-time only: binaries carry the resolved result, never this code.
import fs from 'node:fs';
import path from 'node:path';
import { RedoxError } from '../../errors';
import { parseLimit } from '../../runtime/limits';

export interface AssetSpec {
  package: string;
  path: string;
}

export interface CatalogueEntry {
  name: string;
  description: string;
  requires: string[];
  packages: string[];
  assets: Record<string, AssetSpec>;
}

export interface Distro {
  name: string;
  description: string;
  extends?: string;
  features: string[];
  /** Largest allowed binary in bytes. */
  budget?: number;
  budgetText?: string;
}

export interface Catalogue {
  features: Map<string, CatalogueEntry>;
  distros: Map<string, Distro>;
}

const NAME = /^[a-z][a-z0-9_]*$/;
const DISTRO_NAME = /^[a-z][a-z0-9-]*$/;

function fail(file: string, message: string): never {
  throw new RedoxError('REDOX_CATALOGUE_INVALID', `${file}: ${message}`);
}

function checkKeys(file: string, where: string, obj: Record<string, unknown>, allowed: string[], required: string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) fail(file, `unknown key "${key}" in ${where} (allowed: ${allowed.join(', ')})`);
  }
  for (const key of required) if (!(key in obj)) fail(file, `${where} is missing "${key}"`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(file: string, where: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(file, `${where} must be an array of strings`);
  const list = v as string[];
  const dup = list.find((x, i) => list.indexOf(x) !== i);
  if (dup) fail(file, `${where} lists "${dup}" twice`);
  return list;
}

/** Validates parsed features.json content; messages name the offending key. */
export function parseFeatures(data: unknown, file = 'features.json'): Map<string, CatalogueEntry> {
  if (!isObject(data)) fail(file, 'must be a JSON object');
  checkKeys(file, 'the top level', data, ['$schema', 'features'], ['features']);
  if (!isObject(data.features)) fail(file, '"features" must be an object keyed by feature name');
  const out = new Map<string, CatalogueEntry>();
  for (const [name, raw] of Object.entries(data.features)) {
    const where = `features.${name}`;
    if (!NAME.test(name)) fail(file, `feature name "${name}" must be lower-case letters, digits and _ (a Lua identifier)`);
    if (!isObject(raw)) fail(file, `${where} must be an object`);
    checkKeys(file, where, raw, ['description', 'requires', 'packages', 'assets'], ['description', 'requires', 'packages', 'assets']);
    if (typeof raw.description !== 'string' || raw.description.trim() === '') fail(file, `${where}.description must be a non-empty string`);
    const requires = stringList(file, `${where}.requires`, raw.requires);
    const packages = stringList(file, `${where}.packages`, raw.packages);
    if (!isObject(raw.assets)) fail(file, `${where}.assets must be an object`);
    const assets: Record<string, AssetSpec> = {};
    for (const [assetName, spec] of Object.entries(raw.assets)) {
      const aw = `${where}.assets.${assetName}`;
      if (!isObject(spec)) fail(file, `${aw} must be an object {"package", "path"}`);
      checkKeys(file, aw, spec, ['package', 'path'], ['package', 'path']);
      if (typeof spec.package !== 'string' || typeof spec.path !== 'string') fail(file, `${aw}.package and .path must be strings`);
      assets[assetName] = { package: spec.package, path: spec.path };
    }
    out.set(name, { name, description: raw.description, requires, packages, assets });
  }
  for (const entry of out.values()) {
    for (const dep of entry.requires) {
      if (!out.has(dep)) fail(file, `features.${entry.name}.requires names "${dep}", which is not a feature`);
      if (dep === entry.name) fail(file, `features.${entry.name} requires itself`);
    }
  }
  return out;
}

export function parseDistro(data: unknown, file: string, features: Map<string, CatalogueEntry>): Distro {
  if (!isObject(data)) fail(file, 'must be a JSON object');
  checkKeys(file, 'the distro', data, ['$schema', 'name', 'description', 'extends', 'features', 'budget'], ['name', 'description', 'features']);
  const expected = path.basename(file, '.json');
  if (typeof data.name !== 'string' || !DISTRO_NAME.test(data.name)) fail(file, '"name" must be lower-case letters, digits and -');
  if (data.name !== expected) fail(file, `"name" is "${data.name}" but the file is ${expected}.json; they must match`);
  if (typeof data.description !== 'string' || data.description.trim() === '') fail(file, '"description" must say what the distro is for');
  if (data.extends !== undefined && typeof data.extends !== 'string') fail(file, '"extends" must be a distro name');
  // "*" is every feature in the catalogue, so a new feature joins such a distro without an edit.
  if (typeof data.features === 'string' && data.features !== '*') fail(file, `"features" must be an array of feature names or "*" (every feature), got "${data.features}"`);
  const list = data.features === '*' ? [...features.keys()].sort() : stringList(file, '"features"', data.features);
  for (const f of list) if (!features.has(f)) fail(file, `"features" names "${f}", which is not in features.json`);
  let budget: number | undefined;
  if (data.budget !== undefined) {
    if (typeof data.budget !== 'string') fail(file, '"budget" must be a size such as "95MiB"');
    try {
      budget = parseLimit({ kind: 'bytes' }, data.budget, `${file} "budget"`);
    } catch (err) {
      fail(file, (err as Error).message);
    }
  }
  return { name: data.name, description: data.description, extends: data.extends as string | undefined, features: list, budget, budgetText: data.budget as string | undefined };
}

/** Loads features.json and distros/ from a project root (the redox package itself). */
export function loadCatalogue(root: string): Catalogue {
  const featuresFile = path.join(root, 'features.json');
  const features = parseFeatures(readJson(featuresFile), 'features.json');
  const distros = new Map<string, Distro>();
  const dir = path.join(root, 'distros');
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const d = parseDistro(readJson(path.join(dir, file)), `distros/${file}`, features);
    distros.set(d.name, d);
  }
  for (const d of distros.values()) {
    if (d.extends && !distros.has(d.extends)) fail(`distros/${d.name}.json`, `"extends" names "${d.extends}", which is not a distro`);
  }
  for (const d of distros.values()) distroFeatures(distros, d.name);
  return { features, distros };
}

/** A distro's features including those of the distros it extends. */
export function distroFeatures(distros: Map<string, Distro>, name: string, seen: string[] = []): string[] {
  const d = distros.get(name)!;
  if (seen.includes(name)) fail(`distros/${name}.json`, `"extends" forms a cycle: ${[...seen, name].join(' -> ')}`);
  const inherited = d.extends ? distroFeatures(distros, d.extends, [...seen, name]) : [];
  return [...new Set([...inherited, ...d.features])].sort();
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new RedoxError('REDOX_CATALOGUE_INVALID', `cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RedoxError('REDOX_CATALOGUE_INVALID', `${path.basename(file)} is not valid JSON: ${(err as Error).message}`);
  }
}
