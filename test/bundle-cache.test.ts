// The build's bundle cache (core/tooling/build/bundle-cache.ts), on the real esbuild bundle of a
// real entry: a local feature folder plus the runtime, in a private build cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bundleEntryCached } from '../core/tooling/build/bundle-cache';
import { renderEntry } from '../core/tooling/build/entry';
import { ROOT, tempDir, withEnv } from './support/harness';

const FEATURE = (answer: number) => `import { defineFeature, sync } from 'redox/feature';
export default defineFeature({ install: () => ({ functions: { answer: sync(() => 'the answer is ${answer}') } }) });
`;

test('a bundle is used again while every file esbuild read is unchanged, and made again when one changes', async () => {
  const dir = tempDir();
  const feature = path.join(dir, 'answer', 'index.ts');
  fs.mkdirSync(path.dirname(feature));
  fs.writeFileSync(feature, FEATURE(41));
  const entry = renderEntry([{ name: 'answer', description: 'a number', requires: [], specifier: feature.replace(/\.ts$/, '') }]);
  await withEnv({ REDOX_BUILD_CACHE: path.join(dir, 'cache') }, async () => {
    const first = await bundleEntryCached(ROOT, entry);
    assert.equal(first.cached, false);
    assert.ok(first.code.includes('the answer is 41'));
    const second = await bundleEntryCached(ROOT, entry);
    assert.equal(second.cached, true);
    assert.ok(second.code.equals(first.code), 'the same bytes');
    assert.deepEqual(second.metafile, first.metafile);

    // The feature's source changes: esbuild runs again and the new code is in the bundle.
    fs.writeFileSync(feature, FEATURE(42));
    const changed = await bundleEntryCached(ROOT, entry);
    assert.equal(changed.cached, false);
    assert.ok(changed.code.includes('the answer is 42') && !changed.code.includes('the answer is 41'));
    assert.equal((await bundleEntryCached(ROOT, entry)).cached, true);

    // Another entry (other features) is another key.
    const core = await bundleEntryCached(ROOT, renderEntry([]));
    assert.equal(core.cached, false);
    assert.ok(!core.code.includes('the answer is'));

    // REDOX_COMPILE_CACHE=0: always bundled.
    assert.equal((await withEnv({ REDOX_COMPILE_CACHE: '0' }, () => bundleEntryCached(ROOT, entry))).cached, false);
  });
});
