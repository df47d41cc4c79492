// Lints every Lua source with luacheck (Debian's lua-check; .ci/run installs it) under
// .luacheckrc: core's and features' Lua held in TypeScript, inline Lua marked /* lua */,
// templates, fixtures and README examples. A warning fails the test with the TypeScript (or
// Lua, or Markdown) file and line it comes from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './support/harness';
import { LuaSource, luaSources, repositoryFiles } from './support/lua-sources';

const run = promisify(execFile);
const hasGit = (() => {
  try {
    execFileSync('git', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Lua globals the features add: their names (features.json) and their extra modules. */
function featureGlobals(): string[] {
  const catalogue = JSON.parse(fs.readFileSync(path.join(ROOT, 'features.json'), 'utf8')) as { features: Record<string, unknown> };
  const names = Object.keys(catalogue.features);
  for (const name of Object.keys(catalogue.features)) {
    const index = fs.readFileSync(path.join(ROOT, 'features', name, 'index.ts'), 'utf8');
    const extras = /extraModules:\s*\{([^}]*)\}/.exec(index)?.[1] ?? '';
    for (const m of extras.matchAll(/(\w+)\s*:/g)) names.push(m[1]);
  }
  return names;
}

/** luacheck's warnings for `sources`, each as "file:line:col: (code) message" in the file that
 *  holds the Lua. */
async function lint(sources: LuaSource[]): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redox-luacheck-'));
  try {
    const byName = new Map<string, LuaSource>();
    for (const s of sources) {
      fs.mkdirSync(path.join(dir, path.dirname(s.name)), { recursive: true });
      fs.writeFileSync(path.join(dir, s.name), s.text);
      byName.set(s.name, s);
    }
    const config = path.join(dir, '.luacheckrc');
    fs.writeFileSync(config, `${fs.readFileSync(path.join(ROOT, '.luacheckrc'), 'utf8')}
stds.redox_features = { read_globals = ${JSON.stringify(featureGlobals()).replace(/^\[/, '{').replace(/\]$/, '}')} }\n`);
    let stdout: string;
    try {
      ({ stdout } = await run('luacheck', [
        '--config', config, '--formatter', 'plain', '--codes', '--no-color', '--', ...byName.keys(),
      ], { cwd: dir, maxBuffer: 16 * 1024 * 1024 }));
    } catch (err) {
      // Exit 1: warnings, 2: syntax errors; both print the list. Anything else is a failure to run.
      const e = err as { code?: number | string; stdout?: string };
      if (e.code !== 1 && e.code !== 2) throw err;
      stdout = e.stdout ?? '';
    }
    return stdout.split('\n').filter(Boolean).map((l) => {
      const m = /^(.*?):(\d+):(\d+): (.*)$/.exec(l);
      const s = m && byName.get(m[1]);
      if (!m || !s) return l;
      const line = Number(m[2]);
      const col = line === 1 ? s.column + Number(m[3]) - 1 : Number(m[3]);
      return `${s.file}:${s.line + line - 1}:${col}: ${m[4]}`;
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('luacheck is installed (apt lua-check; .ci/run installs it)', async () => {
  const found = await run('luacheck', ['--version']).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') assert.fail('luacheck is not installed: apt-get install lua-check (bash .ci/run installs it)');
    throw err;
  });
  assert.match(found.stdout, /Luacheck: \d/);
});

test('every Lua source in the repository passes luacheck', async () => {
  const sources = luaSources(ROOT, { markdown: true });
  // The sources named in the issue are all found: core modules, features' Lua, inline Lua.
  for (const expected of ['/prelude.lua.ts', '/testlib.lua.ts', '/support.lua.ts', 'features/cache/cache.lua.ts', 'templates/lua/app.lua']) {
    assert.ok(sources.some((s) => s.file.endsWith(expected)), `no Lua found in ${expected}`);
  }
  assert.ok(sources.some((s) => !s.file.endsWith('.lua.ts') && s.file.endsWith('.ts')), 'no /* lua */ string found');
  const warnings = await lint(sources);
  assert.deepEqual(warnings, [], `luacheck:\n  ${warnings.join('\n  ')}`);
});

test('a line of a *.lua.ts constant maps back to its TypeScript line', () => {
  for (const s of luaSources(ROOT).filter((x) => x.file.endsWith('.lua.ts'))) {
    const ts = fs.readFileSync(path.join(ROOT, s.file), 'utf8').split('\n');
    s.text.split('\n').forEach((lua, i) => {
      const head = lua.trim().slice(0, 12);
      assert.ok(ts[s.line - 1 + i].includes(head), `${s.file}:${s.line + i} does not hold Lua line ${i + 1} ("${head}")`);
    });
  }
});

test('an accidental global, an unused variable and a syntax error are reported at the TypeScript line', async () => {
  const bad: LuaSource[] = [
    // As a feature's Lua side would be: a typo makes a global.
    { name: 'features/bad/bad/BAD_LUA.lua', file: 'features/bad/bad.lua.ts', line: 10, column: 33, text: 'local M = {}\nfunction M.f(x)\n  reslt = x + 1\n  local unused = 2\n  return x\nend\nreturn M\n' },
    { name: 'core/runtime/bad.ts/5.lua', file: 'core/runtime/bad.ts', line: 5, column: 20, text: 'local x = = 1' },
    // An app reading a global nothing provides.
    { name: 'templates/lua/bad.lua', file: 'templates/lua/bad.lua', line: 1, column: 1, text: 'get("/", function() return {json = {n = undefined_thing}} end)\n' },
  ];
  const warnings = await lint(bad);
  assert.equal(warnings.length, 4, warnings.join('\n'));
  assert.match(warnings[0], /^features\/bad\/bad\.lua\.ts:12:3: \(W111\) setting non-standard global variable 'reslt'/);
  assert.match(warnings[1], /^features\/bad\/bad\.lua\.ts:13:9: \(W211\) unused variable 'unused'/);
  assert.match(warnings[2], /^core\/runtime\/bad\.ts:5:30: \(E011\) /);
  assert.match(warnings[3], /^templates\/lua\/bad\.lua:1:41: \(W113\) accessing undefined variable 'undefined_thing'/);
});

test('the sources are the repository\'s: not a user\'s app.lua at the top of a clone, nor a project `redox init` made there', { skip: !hasGit && 'git is not installed' }, async () => {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'redox-lint-repo-'));
  try {
    const write = (f: string) => {
      fs.mkdirSync(path.dirname(path.join(repo, f)), { recursive: true });
      fs.writeFileSync(path.join(repo, f), 'return 1\n');
    };
    for (const f of ['features/a/a.lua', 'README.md', '.gitignore']) write(f);
    fs.writeFileSync(path.join(repo, '.gitignore'), 'dist/\n');
    // git ls-files reads the index: added is tracked, no commit (nor the user's commit hooks) needed.
    const git = (...args: string[]) => run('git', args, { cwd: repo });
    await git('init', '-q');
    await git('add', '-A');
    // The README's Quickstart app, a project made by `redox init`, a build's output, and a
    // developer's new, not yet committed feature source.
    for (const f of ['app.lua', 'my-service/app.lua', 'dist/x.lua', 'features/b/b.lua']) write(f);
    assert.deepEqual(repositoryFiles(repo), ['.gitignore', 'README.md', 'features/a/a.lua', 'features/b/b.lua']);
  } finally {
    fs.rmSync(repo, { recursive: true, force: true });
  }
});
