// `redox dev`: the real CLI serving a folder, files edited on disk. A good edit is served after
// the reload; an edit that does not compile or does not load leaves the last good version up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { listeningUrl, spawnRedox, Spawned, tempDir } from './support/harness';

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const text = async (url: string) => (await fetch(url)).text();

/** Counts log lines containing `needle` (the dev server logs JSON lines on stdout). */
const count = (p: Spawned, needle: string) => p.stdout().split('\n').filter((l) => l.includes(needle)).length;

function tsApp(version: string, extra = ''): string {
  return `import { suffix } from "./lib/suffix";\nconst app = redox.router();\n${extra}\napp.get("/", () => "${version}" + suffix());\nexport default app;\n`;
}

describe('redox dev with a TypeScript app', () => {
  const dir = tempDir();
  let p: Spawned;
  let url = '';
  const app = path.join(dir, 'app.ts');

  before(async () => {
    fs.mkdirSync(path.join(dir, 'lib'));
    fs.writeFileSync(path.join(dir, 'lib', 'suffix.ts'), 'export function suffix(): string {\n  return "!";\n}\n');
    fs.writeFileSync(app, tsApp('v1'));
    p = spawnRedox(['dev', 'app.ts', '--port', '0'], { cwd: dir, env: { NO_COLOR: '1' } });
    url = await listeningUrl(p);
  });
  after(async () => {
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0, p.stderr());
  });

  it('serves the app', async () => {
    assert.equal(await text(url), 'v1!');
  });

  it('reloads after an edit of the app', async () => {
    fs.writeFileSync(app, tsApp('v2'));
    await until('v2', async () => ((await text(url)) === 'v2!' ? true : undefined));
    // Info lines are written in batches (core/runtime/log.ts): the line may follow the response.
    await until('the "reloaded app.ts" log line', () => (count(p, 'reloaded app.ts') >= 1 ? true : undefined));
  });

  it('reloads after an edit of an imported module', async () => {
    fs.writeFileSync(path.join(dir, 'lib', 'suffix.ts'), 'export function suffix(): string {\n  return "?";\n}\n');
    await until('the new suffix', async () => ((await text(url)) === 'v2?' ? true : undefined));
  });

  it('keeps serving the old version after an edit with a type error, and says where the error is', async () => {
    const failures = count(p, 'reload failed');
    fs.writeFileSync(app, tsApp('v3', 'const n: number = "three";'));
    await until('the failure to be logged', () => (count(p, 'reload failed') > failures ? true : undefined));
    assert.match(p.stdout(), /app\.ts:3:7 - error TS2322/);
    assert.equal(await text(url), 'v2?');
  });

  it('keeps serving the old version after an edit that fails while loading', async () => {
    const failures = count(p, 'reload failed');
    fs.writeFileSync(app, tsApp('v4', 'const config: any = undefined;\nconst port = config.port;'));
    await until('the failure to be logged', () => (count(p, 'reload failed') > failures ? true : undefined));
    assert.match(p.stdout(), /app\.ts:4: attempt to index a nil value/);
    assert.equal(await text(url), 'v2?');
  });

  it('serves the next good version', async () => {
    fs.writeFileSync(app, tsApp('v5'));
    await until('v5', async () => ((await text(url)) === 'v5?' ? true : undefined));
  });
});

describe('redox dev with a Lua app', () => {
  const dir = tempDir();
  let p: Spawned;
  let url = '';
  const app = path.join(dir, 'app.lua');
  const luaApp = (body: string) => `local app = redox.router()\napp:get("/", function() return ${body} end)\nreturn app\n`;

  before(async () => {
    fs.writeFileSync(app, luaApp('"one"'));
    // --features before the app: the option takes one value, so app.lua stays the argument.
    p = spawnRedox(['dev', '--features', 'uuid', 'app.lua', '--port', '0'], { cwd: dir, env: { NO_COLOR: '1' } });
    url = await listeningUrl(p);
  });
  after(async () => {
    p.child.kill('SIGTERM');
    await p.exited;
  });

  it('reloads after an edit', async () => {
    assert.equal(await text(url), 'one');
    fs.writeFileSync(app, luaApp('"two"'));
    await until('two', async () => ((await text(url)) === 'two' ? true : undefined));
  });

  it('keeps serving after a syntax error, and serves the fix', async () => {
    const failures = count(p, 'reload failed');
    fs.writeFileSync(app, luaApp('"three" +'));
    await until('the failure to be logged', () => (count(p, 'reload failed') > failures ? true : undefined));
    assert.match(p.stdout(), /app\.lua:2:/);
    assert.equal(await text(url), 'two');
    fs.writeFileSync(app, luaApp('"four"'));
    await until('four', async () => ((await text(url)) === 'four' ? true : undefined));
  });

  it('runs with exactly the --features given before the app', async () => {
    fs.writeFileSync(app, luaApp('tostring(uuid.validate(uuid.v4())) .. " " .. tostring(pcall(function() return sqlite end))'));
    await until('the feature probe', async () => ((await text(url)).startsWith('true ') ? true : undefined));
    assert.equal(await text(url), 'true false');
  });

  it('keeps reloading after saves that replace the file (sed -i, editors\' atomic saves)', async () => {
    for (const word of ['five', 'six', 'seven']) {
      // Write a new file and rename it over the app: a new inode each time.
      const tmp = path.join(dir, `.app.lua.${word}.tmp`);
      fs.writeFileSync(tmp, luaApp(`"${word}"`));
      fs.renameSync(tmp, app);
      await until(word, async () => ((await text(url)) === word ? true : undefined));
    }
  });

  it('sees files in a subfolder created after start, also when replaced', async () => {
    fs.mkdirSync(path.join(dir, 'lib'));
    fs.writeFileSync(path.join(dir, 'lib', 'word.lua'), 'return "eight"\n');
    fs.writeFileSync(app, luaApp('require("lib.word")'));
    await until('eight', async () => ((await text(url)) === 'eight' ? true : undefined));
    for (const word of ['nine', 'ten']) {
      const tmp = path.join(dir, 'lib', `.word.${word}.tmp`);
      fs.writeFileSync(tmp, `return "${word}"\n`);
      fs.renameSync(tmp, path.join(dir, 'lib', 'word.lua'));
      await until(word, async () => ((await text(url)) === word ? true : undefined));
    }
  });
});
