// The recipe in docs/features.md ("Adding a feature"), followed to the letter in a temp copy of
// the project: one folder (index.ts, .d.ts, README, optional Lua) and one features.json entry.
// Nothing else is touched: no registry to regenerate, no distro or fixture to list it in. The
// development CLI of the copy must load the folder, `redox build --features <it>` must bundle it,
// and the binary must serve it over HTTP from an empty folder. One real build; all deleted after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as ts from 'typescript';
import { listeningUrl, ROOT, spawnRedox, tempDir } from './support/harness';
import { helpOptions } from './support/help';
import { LIMIT_SPECS } from '../core/runtime/limits';

const NAME = 'recipe_probe';

const FOLDER: Record<string, string> = {
  'index.ts': [
    "// recipe_probe: a throwaway feature written by test/new-feature.test.ts.",
    "import { defineFeature, sync } from '../../core/feature';",
    "import { PROBE_LUA } from './recipe_probe.lua';",
    '',
    'export default defineFeature({',
    '  install: () => ({',
    '    functions: { shout: sync((text: string) => `${text.toUpperCase()}!`) },',
    '    lua: PROBE_LUA,',
    '  }),',
    '});',
    '',
  ].join('\n'),
  'recipe_probe.lua.ts': [
    '// The Lua face: the host function, and one function written in Lua on top of it.',
    'export const PROBE_LUA = String.raw`',
    'local host = ...',
    'return {',
    '  shout = host.shout,',
    '  twice = function(text) return host.shout(text) .. " " .. host.shout(text) end,',
    '}',
    '`;',
    '',
  ].join('\n'),
  'recipe_probe.d.ts': [
    '/** recipe_probe: upper-cases text (a test feature). */',
    "declare module 'recipe_probe' {",
    '  /** "hi" -> "HI!" */',
    '  export function shout(this: void, text: string): string;',
    '  /** "hi" -> "HI! HI!" */',
    '  export function twice(this: void, text: string): string;',
    '}',
    '',
  ].join('\n'),
  'README.md': '# recipe_probe\n\n| function | returns |\n|---|---|\n| `recipe_probe.shout(text)` | text upper-cased, with "!" |\n| `recipe_probe.twice(text)` | shout, twice |\n\n```lua\nget("/", function() return recipe_probe.twice("hi") end)\n```\n',
};

const ENTRY = { description: 'upper-cases text (a throwaway feature of the recipe test)', requires: [], packages: [], assets: {} };

/** The parts of the project `redox build` and the development CLI read, with node_modules linked. */
function copyProject(to: string): void {
  for (const dir of ['cli', 'core', 'features', 'distros']) fs.cpSync(path.join(ROOT, dir), path.join(to, dir), { recursive: true });
  for (const file of ['features.json', 'package.json', 'tsconfig.json']) fs.copyFileSync(path.join(ROOT, file), path.join(to, file));
  // The compiled development CLI (what `npm run compile` leaves in build/), without the tests.
  for (const dir of ['cli', 'core', 'features']) {
    fs.cpSync(path.join(ROOT, 'build', dir), path.join(to, 'build', dir), { recursive: true, filter: (src) => !src.endsWith('.test.js') });
  }
  fs.copyFileSync(path.join(ROOT, 'build', 'package.json'), path.join(to, 'build', 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(to, 'node_modules'), 'dir');
}

/** `npm run compile` for the new folder alone: the same CommonJS tsc emits (the whole project's
 *  tsc takes longer than the build; the folder's types are not what this test is about). */
function compileFolder(project: string): void {
  const { config } = ts.readConfigFile(path.join(project, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.convertCompilerOptionsFromJson(config.compilerOptions, project);
  for (const file of ['index.ts', `${NAME}.lua.ts`]) {
    const source = fs.readFileSync(path.join(project, 'features', NAME, file), 'utf8');
    const out = ts.transpileModule(source, { compilerOptions: options, fileName: file });
    fs.mkdirSync(path.join(project, 'build', 'features', NAME), { recursive: true });
    fs.writeFileSync(path.join(project, 'build', 'features', NAME, file.replace(/\.ts$/, '.js')), out.outputText);
  }
}

test('a new feature is one folder plus one features.json entry: the dev CLI runs it, a built binary serves it', { timeout: 900_000 }, async () => {
  const project = tempDir('redox-recipe-');
  const empty = tempDir('redox-recipe-run-');
  try {
    copyProject(project);
    // The recipe: the folder and the entry.
    for (const [file, text] of Object.entries(FOLDER)) {
      fs.mkdirSync(path.join(project, 'features', NAME), { recursive: true });
      fs.writeFileSync(path.join(project, 'features', NAME, file), text);
    }
    const catalogue = JSON.parse(fs.readFileSync(path.join(project, 'features.json'), 'utf8'));
    catalogue.features[NAME] = ENTRY;
    fs.writeFileSync(path.join(project, 'features.json'), JSON.stringify(catalogue, null, 2) + '\n');
    compileFolder(project);
    const bin = [process.execPath, path.join(project, 'build', 'cli', 'main.js')];

    const service = path.join(project, 'service');
    fs.mkdirSync(service);
    fs.writeFileSync(path.join(service, 'app.lua'), 'get("/", function(req) return recipe_probe.twice(req.query.text or "hi") end)\n');
    fs.writeFileSync(path.join(service, 'job.lua'), 'print(recipe_probe.shout("dev"))\n');

    // The development CLI finds it through features.json alone; the full distro ("*") has it.
    const listed = spawnRedox(['features', '--json'], { bin, cwd: service });
    assert.equal(await listed.exited, 0, listed.stderr());
    assert.ok((JSON.parse(listed.stdout()) as { name: string }[]).some((f) => f.name === NAME), listed.stdout());
    const run = spawnRedox(['run', '--features', NAME, 'job.lua'], { bin, cwd: service });
    assert.equal(await run.exited, 0, run.stderr());
    assert.equal(run.stdout(), 'DEV!\n');

    // One real build, with the app embedded so the binary needs no file beside it.
    const out = path.join(project, 'dist');
    const build = spawnRedox(['build', '--features', NAME, '--app', 'app.lua', '--name', 'probe', '--out', out], { bin, cwd: service, env: { NO_COLOR: '1' } });
    assert.equal(await build.exited, 0, build.stderr() + build.stdout());
    const binary = path.join(out, process.platform === 'win32' ? 'probe.exe' : 'probe');

    const features = spawnRedox(['features', '--json'], { bin: [binary], cwd: empty });
    assert.equal(await features.exited, 0, features.stderr());
    assert.deepEqual(JSON.parse(features.stdout()).features, [NAME]);

    const served = spawnRedox(['--port', '0'], { bin: [binary], cwd: empty });
    try {
      const url = await listeningUrl(served, 60_000);
      const res = await fetch(`${url}/?text=recipe`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'RECIPE! RECIPE!');
    } finally {
      served.child.kill('SIGTERM');
      assert.equal(await served.exited, 0, `the binary drains and exits 0 on SIGTERM: ${served.stderr()}`);
    }
    assert.deepEqual(fs.readdirSync(empty), [], 'the binary wrote nothing into its working folder');

    // The binary's serve is the development CLI's serve: the same shared options, word for word,
    // except feature selection, which a binary fixes at build.
    const help = async (cmd: string[]) => {
      const p = spawnRedox(['serve', '--help'], { bin: cmd, cwd: empty });
      assert.equal(await p.exited, 0, p.stderr());
      return helpOptions(p.stdout());
    };
    const [inBinary, inDev] = [await help([binary]), await help(bin)];
    for (const flag of ['--port', '--host', '--data-dir', ...LIMIT_SPECS.map((l) => l.flag)]) {
      assert.equal(inBinary.get(flag), inDev.get(flag), `${flag} in the binary's serve`);
    }
    assert.ok(inDev.has('--features') && !inBinary.has('--features') && !inBinary.has('--distro'));
    const refused = spawnRedox(['serve', '--features', 'uuid'], { bin: [binary], cwd: empty });
    assert.equal(await refused.exited, 2);
    assert.match(refused.stderr(), /--features is for the development CLI: this binary's features were fixed when it was built \(recipe_probe\)/);
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
    fs.rmSync(empty, { recursive: true, force: true });
  }
});
