// Keeps the features' error convention (docs/features.md#errors) visible where users look:
// every README has an "Errors" section naming both kinds, and no feature's Lua side re-checks
// integers (the marshaller makes 3.0 an integer for host checks; Lua's math.type would not).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './support/harness';

const featuresDir = path.join(ROOT, 'features');
const folders = fs.readdirSync(featuresDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

test('every feature README has an Errors section that says what raises and what returns nil, err', () => {
  for (const name of folders) {
    const readme = fs.readFileSync(path.join(featuresDir, name, 'README.md'), 'utf8');
    const section = /^## Errors\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme)?.[1];
    assert.ok(section, `features/${name}/README.md has no "## Errors" section`);
    assert.match(section, /nil, err/, `features/${name}/README.md: the Errors section does not say what returns nil, err`);
    assert.match(section, /\braise/i, `features/${name}/README.md: the Errors section does not say what raises`);
  }
});

test('no feature Lua side checks integers with math.type (the host does, after the marshaller)', () => {
  for (const name of folders) {
    for (const file of fs.readdirSync(path.join(featuresDir, name)).filter((f) => f.endsWith('.lua.ts'))) {
      const text = fs.readFileSync(path.join(featuresDir, name, file), 'utf8');
      assert.doesNotMatch(text, /math\.type|math_type|mtype/, `features/${name}/${file} checks math.type; check the number on the host`);
    }
  }
});
