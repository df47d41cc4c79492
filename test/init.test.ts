// `redox init`: both templates, created by the real CLI, served and called over HTTP, tested
// with their own test, type-checked as an editor would, and built into a binary that runs
// alone in an empty folder.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as ts from 'typescript';
import { compilerOptions } from '../core/tooling/typescript/compile';
import { featureDeclarations } from '../core/tooling/typescript/declarations';
import { listeningUrl, placeBinary, spawnRedox, Spawned, tempDir } from './support/harness';

async function redox(args: string[], cwd: string) {
  const p = spawnRedox(args, { cwd, env: { NO_COLOR: '1' } });
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

async function serving(p: Spawned, fn: (url: string) => Promise<void>): Promise<void> {
  try {
    await fn(await listeningUrl(p));
  } finally {
    p.child.kill('SIGTERM');
    await p.exited;
  }
}

/** The template's routes, as its README shows them. */
async function callRoutes(url: string, name: string): Promise<void> {
  const home = await fetch(`${url}/`);
  assert.equal(home.status, 200);
  assert.equal((await home.json() as { service: string }).service, name);
  const created = await fetch(`${url}/greetings`, { method: 'POST', body: JSON.stringify({ name: 'Ada' }) });
  assert.equal(created.status, 201);
  const greeting = await created.json() as { id: string; message: string };
  assert.equal(greeting.message, 'Hello, Ada!');
  assert.match(greeting.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal((await fetch(`${url}/greetings`, { method: 'POST', body: '{}' })).status, 422);
  assert.equal((await fetch(`${url}/greetings`, { method: 'POST', body: 'not json' })).status, 400);
}

const TEMPLATES = [
  { template: 'lua', main: 'app.lua', test: 'app_test.lua', files: ['.luarc.json', 'types/redox.lua'] },
  { template: 'typescript', main: 'app.ts', test: 'app.test.ts', files: ['tsconfig.json', 'types/redox.d.ts', 'types/language-extensions.d.ts'] },
];

for (const t of TEMPLATES) {
  describe(`redox init --template ${t.template}`, () => {
    const parent = tempDir();
    const dir = path.join(parent, 'svc');

    before(async () => {
      const r = await redox(['init', 'svc', '--template', t.template], parent);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`created a ${t.template} service in svc`));
    });

    it('writes the app, its test, README, .gitignore, the CI workflow and the editor declarations', () => {
      for (const f of [t.main, t.test, 'README.md', '.gitignore', '.github/workflows/build.yml', ...t.files]) {
        assert.ok(fs.existsSync(path.join(dir, f)), `${f} missing`);
      }
      const ext = t.template === 'lua' ? '.lua' : '.d.ts';
      for (const d of featureDeclarations()) assert.ok(fs.existsSync(path.join(dir, 'types', d.feature + ext)), `types/${d.feature}${ext} missing`);
      const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
      for (const cmd of [`redox dev ${t.main}`, 'redox test', `redox build --distro web --app ${t.main}`, './dist/redox-web', 'npm install --global redox-lua@']) {
        assert.ok(readme.includes(cmd), `README does not show ${cmd}`);
      }
      const workflow = fs.readFileSync(path.join(dir, '.github/workflows/build.yml'), 'utf8');
      assert.match(workflow, new RegExp(`redox build --distro web --app ${t.main.replace('.', '\\.')}`));
      assert.match(workflow, /upload-artifact/);
      assert.match(workflow, /npm install --global redox-lua@\d+\.\d+\.\d+\n/, 'CI installs the package that has the redox command');
      assert.doesNotMatch(workflow + readme, /install (--global|-g) redox@/, 'never the unrelated registry package "redox"');
      assert.match(workflow, /redox test --reporter junit --output test-results\.xml/);
      assert.doesNotMatch(workflow + readme, /\{\{/, 'placeholders are filled');
      // The registry's package named "redox" is someone else's: never install by that name.
      assert.doesNotMatch(workflow, /npm (install|i)\b[^\n]*\sredox(@|\s|$)/m);
      assert.doesNotMatch(workflow, /npx\s+redox@/);
      // What the README tells of the workflow and of the web distro is what they are.
      const installed = /npm install --global (\S+)\n/.exec(workflow)![1];
      assert.ok(readme.includes(`installs\nRedox with \`npm install --global ${installed}\``), 'README names the workflow\'s install line');
      const webSentence = /The `web` distro has ([^;]+);/.exec(readme.replace(/\n/g, ' '));
      if (t.template === 'lua') assert.ok(webSentence, 'the Lua template\'s README names the web distro\'s features');
      if (webSentence) {
        const web = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'distros', 'web.json'), 'utf8')) as { features: string[] };
        assert.deepEqual(webSentence[1].split(/,\s*|\s+and\s+/).sort(), [...web.features].sort(), 'README lists the web distro\'s features');
      }
    });

    it('serves the app and answers its routes over HTTP', async () => {
      await serving(spawnRedox(['serve', t.main, '--port', '0'], { cwd: dir }), (url) => callRoutes(url, 'svc'));
    });

    it('passes its own tests with `redox test`', async () => {
      const r = await redox(['test'], dir);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, new RegExp(`^ok +${t.test.replace('.', '\\.')} > GET / names the service`, 'm'));
      assert.match(r.stdout, /^4 passed, 0 failed, 0 skipped \(1 file, /m);
    });

    it('fails its tests when the app breaks (the tests check something)', async () => {
      const copy = path.join(tempDir(), 'svc');
      fs.cpSync(dir, copy, { recursive: true });
      const main = path.join(copy, t.main);
      fs.writeFileSync(main, fs.readFileSync(main, 'utf8').replace('Hello, ', 'Bye, '));
      const r = await redox(['test'], copy);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /FAIL .* > POST \/greetings greets with a UUID/);
      assert.match(r.stdout, /expected "Hello, Ada!", got "Bye, Ada!"|expected: "Hello, Ada!"\n\s+actual: +"Bye, Ada!"/);
      assert.match(r.stdout, /^3 passed, 1 failed, 0 skipped/m);
    });

    it('writes the workflow install line from --redox', async () => {
      const other = path.join(tempDir(), 'svc2');
      const r = await redox(['init', other, '--template', t.template, '--redox', 'https://example.com/redox-lua-9.9.9.tgz'], parent);
      assert.equal(r.code, 0, r.stderr);
      assert.match(fs.readFileSync(path.join(other, '.github/workflows/build.yml'), 'utf8'), /npm install --global https:\/\/example\.com\/redox-lua-9\.9\.9\.tgz\n/);
    });

    it('builds into a binary that serves the app from an empty directory', async () => {
      const out = path.join(parent, 'out');
      const r = await redox(['build', '--distro', 'web', '--app', t.main, '--out', out], dir);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      // A TypeScript app is compiled to Lua and embedded as one file (its test is not).
      const manifest = JSON.parse(fs.readFileSync(path.join(out, 'redox-web.manifest.json'), 'utf8'));
      if (t.template === 'typescript') assert.deepEqual(manifest.app, { main: 'app.ts', attr: null, files: ['app.ts'] });
      else assert.equal(manifest.app.main, 'app.lua');
      const alone = tempDir();
      const bin = path.join(alone, 'redox-web');
      placeBinary(path.join(out, 'redox-web'), bin);
      await serving(spawnRedox(['--port', '0'], { cwd: alone, bin: [bin] }), (url) => callRoutes(url, 'svc'));
    });
  });
}

describe('redox init refusals', () => {
  it('refuses a non-empty directory, and writes over it with --force', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    const refused = await redox(['init', '.'], dir);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is not empty.*notes\.txt/);
    assert.match(refused.stderr, /--force/);
    assert.match(refused.stderr, /REDOX_INIT_NOT_EMPTY/);
    assert.equal(fs.existsSync(path.join(dir, 'app.lua')), false);
    const forced = await redox(['init', '.', '--force'], dir);
    assert.equal(forced.code, 0, forced.stderr);
    assert.ok(fs.existsSync(path.join(dir, 'app.lua')));
    assert.equal(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'mine');
  });

  it('rejects an unknown template with the list of templates', async () => {
    const r = await redox(['init', 'x', '--template', 'rust'], tempDir());
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown template "rust"/);
    assert.match(r.stderr, /lua, typescript/);
  });
});

describe('editor setup', () => {
  const parent = tempDir();
  before(async () => {
    for (const [name, template] of [['ts', 'typescript'], ['lua', 'lua']]) {
      const r = await redox(['init', name, '--template', template], parent);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(() => fs.rmSync(parent, { recursive: true, force: true }));

  // Incremental, as an editor checks: a check reuses the previous program's unchanged files.
  let previous: ts.Program | undefined;
  const typeCheck = (dir: string): string[] => {
    const config = ts.getParsedCommandLineOfConfigFile(path.join(dir, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    assert.ok(config);
    const program = ts.createProgram(config.fileNames, config.options, undefined, previous);
    previous = program;
    return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
  };

  it('the TypeScript template type-checks with its own tsconfig.json and types/, as an editor does', () => {
    const dir = path.join(parent, 'ts');
    assert.deepEqual(typeCheck(dir), []);
    // The declarations are what it checks against: a misuse is an error.
    fs.appendFileSync(path.join(dir, 'app.ts'), '\nuuid.v4(42);\njson.encode();\n');
    const errors = typeCheck(dir);
    assert.ok(errors.some((e) => /Expected 0 arguments, but got 1/.test(e)), errors.join('\n'));
    assert.ok(errors.some((e) => /Expected 1-2 arguments, but got 0/.test(e)), errors.join('\n'));
  });

  it('the TypeScript template compiles with the settings redox compiles with', () => {
    const config = JSON.parse(fs.readFileSync(path.join(parent, 'ts', 'tsconfig.json'), 'utf8'));
    const parsed = ts.convertCompilerOptionsFromJson(config.compilerOptions, parent).options;
    const ours = compilerOptions(parent);
    for (const key of ['target', 'module', 'moduleResolution', 'strict', 'skipDefaultLibCheck'] as const) assert.equal(parsed[key], ours[key], key);
    assert.deepEqual(parsed.lib, ours.lib);
    assert.equal(config.tstl.luaTarget, ours.luaTarget);
    assert.equal(config.tstl.noImplicitSelf, ours.noImplicitSelf);
    assert.equal(config.tstl.luaLibImport, ours.luaLibImport);
  });

  it('the Lua template points LuaLS at ---@meta files rendered for the core and every feature', () => {
    const dir = path.join(parent, 'lua');
    const luarc = JSON.parse(fs.readFileSync(path.join(dir, '.luarc.json'), 'utf8'));
    assert.equal(luarc['runtime.version'], 'Lua 5.4');
    assert.deepEqual(luarc['workspace.library'], ['types']);
    for (const file of ['redox.lua', ...featureDeclarations().map((d) => `${d.feature}.lua`)]) {
      const text = fs.readFileSync(path.join(dir, 'types', file), 'utf8');
      assert.match(text, /^---@meta/);
    }
    assert.match(fs.readFileSync(path.join(dir, 'types', 'redox.lua'), 'utf8'), /^---@class redox\.Router$/m);
  });
});
