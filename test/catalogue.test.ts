// Keeps the hand-kept lists honest: catalogue vs folders, registry, distros, core's
// independence from features, the error catalogue vs its docs, and the resolver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadCatalogue, parseFeatures, parseDistro } from '../core/tooling/catalogue/catalogue';
import { resolveSelection, suggest } from '../core/tooling/catalogue/resolve';
import { catalogueFeatures, featureFolderSpec } from '../core/tooling/dev/profile';
import { ERRORS } from '../core/errors';
import { ROOT } from './support/harness';

const catalogue = loadCatalogue(ROOT);
const folders = fs.readdirSync(path.join(ROOT, 'features'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

test('features.json lists exactly the folders under features/', () => {
  assert.deepEqual([...catalogue.features.keys()].sort(), folders);
});

test('every feature folder follows the contract: index, README, declarations, tests', () => {
  for (const name of folders) {
    for (const file of ['index.ts', 'README.md', `${name}.d.ts`, `${name}.test.ts`]) {
      assert.ok(fs.existsSync(path.join(ROOT, 'features', name, file)), `features/${name}/${file} is missing`);
    }
  }
});

test('each catalogue entry has a folder spec, and installs under its entry\'s name, description and requires', () => {
  const named = catalogueFeatures(catalogue, [...catalogue.features.keys()]);
  for (const [name, entry] of catalogue.features) {
    const def = named.find((d) => d.name === name);
    assert.ok(def, `features/${name}/ did not load`);
    assert.equal(def.description, entry.description);
    assert.deepEqual(def.requires, entry.requires);
    const spec = featureFolderSpec(name);
    assert.ok(!('description' in spec) && !('name' in spec), `features/${name}/index.ts repeats catalogue facts; features.json holds them`);
    for (const pkg of entry.packages) {
      assert.doesNotThrow(() => require.resolve(`${pkg}/package.json`), `${name}: package ${pkg} is not installed`);
    }
  }
});

test('a features.json entry without a folder is a clear error', () => {
  assert.throws(() => featureFolderSpec('no_such_feature'), (err: Error & { code?: string }) =>
    err.code === 'REDOX_FEATURE_INVALID' && /no folder features\/no_such_feature\//.test(err.message));
});

test('distros: minimal is core only, web is sqlite+uuid+requests+metrics, full is every feature', () => {
  const features = (d: string) => resolveSelection(catalogue, { distro: d }).features;
  assert.deepEqual(features('minimal'), []);
  assert.deepEqual(features('web'), ['metrics', 'requests', 'sqlite', 'uuid']);
  assert.deepEqual(features('full'), [...catalogue.features.keys()].sort());
  assert.deepEqual(features('service'), ['cache', 'crypto', 'metrics', 'postgres', 'redis', 'requests', 'sqlite', 'uuid']);
  for (const d of catalogue.distros.values()) assert.ok(d.description.length > 20, `${d.name} says what it is for`);
});

test('core never imports a feature', () => {
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ts$/.test(e.name) && /from\s+['"][./]*features\/|require\(['"][./]*features\//.test(fs.readFileSync(p, 'utf8'))) offenders.push(path.relative(ROOT, p));
    }
  };
  walk(path.join(ROOT, 'core'));
  assert.deepEqual(offenders, []);
});

test('every error code is documented in docs/errors.md and no documented code is stale', () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'errors.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| `(REDOX_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
  assert.deepEqual(documented, Object.keys(ERRORS).sort());
});

test('catalogue validation names the bad key', () => {
  const base = { description: 'x', requires: [], packages: [], assets: {} };
  assert.throws(() => parseFeatures({ features: { a: { ...base, colour: 'red' } } }), /unknown key "colour" in features\.a/);
  assert.throws(() => parseFeatures({ features: { a: { ...base, requires: 'b' } } }), /features\.a\.requires must be an array of strings/);
  assert.throws(() => parseFeatures({ features: { a: { ...base, requires: ['b'] } } }), /requires names "b", which is not a feature/);
  assert.throws(() => parseFeatures({ features: { 'Bad-Name': base } }), /feature name "Bad-Name"/);
  assert.throws(() => parseFeatures({ feature: {} }), /unknown key "feature"/);
  assert.throws(() => parseFeatures({ features: { a: { ...base, assets: { 'x.node': { package: 'p' } } } } }), /features\.a\.assets\.x\.node is missing "path"/);
  const features = parseFeatures({ features: { a: base } });
  assert.throws(() => parseDistro({ name: 'd', description: 'x', features: ['zz'] }, 'distros/d.json', features), /names "zz", which is not in features\.json/);
  assert.throws(() => parseDistro({ name: 'other', description: 'x', features: [] }, 'distros/d.json', features), /must match/);
  assert.throws(() => parseDistro({ name: 'd', description: 'x', features: [], budget: 'huge' }, 'distros/d.json', features), /budget/);
  assert.deepEqual(parseDistro({ name: 'd', description: 'x', features: '*' }, 'distros/d.json', features).features, [...features.keys()].sort());
  assert.throws(() => parseDistro({ name: 'd', description: 'x', features: 'all' }, 'distros/d.json', features), /array of feature names or "*"/);
});

test('resolution adds requirements, deduplicates, sorts, and accepts distro-NAME', () => {
  const c = {
    features: parseFeatures({ features: {
      a: { description: 'a', requires: ['b'], packages: [], assets: {} },
      b: { description: 'b', requires: ['c'], packages: [], assets: {} },
      c: { description: 'c', requires: [], packages: [], assets: {} },
      d: { description: 'd', requires: [], packages: [], assets: {} },
    } }),
    distros: new Map([['small', { name: 'small', description: 'x', features: ['d'] }]]),
  };
  assert.deepEqual(resolveSelection(c, { features: ['a', 'a'] }), { distro: null, features: ['a', 'b', 'c'] });
  assert.deepEqual(resolveSelection(c, { features: ['distro-small', 'c'] }), { distro: null, features: ['c', 'd'] });
  assert.deepEqual(resolveSelection(c, { distro: 'small' }), { distro: 'small', features: ['d'] });
  assert.throws(() => resolveSelection(c, { features: ['aa'] }), /unknown feature "aa" \(did you mean "a"\?\)/);
  assert.throws(() => resolveSelection(c, { features: ['distro-smal'] }), /unknown distro "smal" \(did you mean "small"\?\)/);
  assert.equal(suggest('sqlit', ['sqlite', 'uuid']), 'sqlite');
  assert.equal(suggest('zzzzzz', ['sqlite', 'uuid']), undefined);
});
