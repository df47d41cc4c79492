// sqlite's file confinement: sqlite.open, ATTACH and VACUUM INTO stay inside the data folder
// (--data-dir / REDOX_DATA_DIR, default the app's folder), PRAGMA writable_schema is refused,
// and --sqlite-any-path lifts the folder rule. Real files, real VMs, and the real CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { luaWith, spawnRedox, tempDir } from '../../test/support/harness';
import { tokenize } from './confine';

/** An app folder inside a parent, so "outside" has somewhere to be. */
function layout() {
  const parent = tempDir('redox-confine-');
  const app = path.join(parent, 'app');
  fs.mkdirSync(path.join(app, 'data'), { recursive: true });
  return { parent, app, outside: path.join(parent, 'outside.db') };
}

test('sqlite.open resolves paths in the data folder and refuses paths outside it', async () => {
  const { parent, app, outside } = layout();
  const lua = await luaWith(['sqlite'], app);
  try {
    assert.equal(await lua.run('local db = assert(sqlite.open("data/inside.db")) db:exec("CREATE TABLE t (x)") return db.path'), 'data/inside.db');
    assert.ok(fs.existsSync(path.join(app, 'data', 'inside.db')), 'relative to the app folder');
    assert.equal(await lua.run(`return sqlite.open(${JSON.stringify(path.join(app, 'abs.db'))}) ~= nil`), true, 'an absolute path inside is fine');
    for (const p of ['../outside.db', outside, 'data/../../outside.db']) {
      await assert.rejects(lua.run(`return sqlite.open(${JSON.stringify(p)})`), /sqlite\.open: .* is outside the data folder; the data folder is .*--data-dir.*--sqlite-any-path/, p);
    }
    // POSIX paths in a URL, and symlinks (Windows needs a privilege to make them).
    if (process.platform !== 'win32') {
      await assert.rejects(lua.run('return sqlite.connect("sqlite:///' + outside.replace(/^\//, '') + '")'), /outside the data folder/);
      // A symlinked folder that leads out is outside too.
      fs.symlinkSync(parent, path.join(app, 'up'));
      await assert.rejects(lua.run('return sqlite.open("up/outside.db")'), /outside the data folder/);
    }
    assert.equal(await lua.run('return sqlite.open(":memory:") ~= nil'), true);
    assert.equal(fs.existsSync(outside), false, 'nothing was created outside');
  } finally {
    await lua.close();
  }
});

test('ATTACH and VACUUM INTO stay inside the data folder, in every way SQL can be sent', async () => {
  const { app, outside } = layout();
  const lua = await luaWith(['sqlite'], app);
  try {
    await lua.run('db = assert(sqlite.open("main.db")) db:exec("CREATE TABLE t (x)") db:run("INSERT INTO t VALUES (1)")');
    const o = outside.replace(/'/g, "''");
    const refused: string[] = [
      `db:exec("ATTACH '${o}' AS o")`,
      `db:exec("ATTACH DATABASE '../outside.db' AS o")`,
      `db:exec("SELECT 1; /* ; */ attach '${o}' as o")`,
      `db:exec("VACUUM INTO '${o}'")`,
      `db:exec("vacuum main into '../outside.db'")`,
      `db:run("ATTACH ? AS o", "${o}")`,
      `db:query("ATTACH '${o}' || '' AS o")`,
      `db:exec("ATTACH outside AS o")`,
      `db:prepare("VACUUM INTO ?")`,
      `db:get("EXPLAIN ATTACH '${o}' AS o")`,
    ];
    for (const stmt of refused) {
      await assert.rejects(lua.run(stmt), /(ATTACH|VACUUM INTO).*(outside the data folder|one string literal)/, stmt);
    }
    assert.equal(fs.existsSync(outside), false, 'no file was created outside');
    // Inside: allowed, and relative names mean the data folder, not the working directory.
    await lua.run(`db:exec("ATTACH 'data/side.db' AS side; CREATE TABLE side.s (y); DETACH side")`);
    assert.ok(fs.existsSync(path.join(app, 'data', 'side.db')));
    await lua.run(`assert(db:exec("VACUUM INTO 'data/copy.db'"))`);
    assert.ok(fs.statSync(path.join(app, 'data', 'copy.db')).size > 0);
    assert.equal(await lua.run(`db:exec("ATTACH ':memory:' AS m") return db:get("SELECT count(*) AS n FROM pragma_database_list WHERE name = 'm'").n`), 1);
    // The words inside literals and comments are not statements.
    assert.equal(await lua.run(`return db:get("SELECT 'attach ''/x'' as y' AS s /* vacuum into '/z' */").s`), "attach '/x' as y");
  } finally {
    await lua.close();
  }
});

test('PRAGMA writable_schema is refused in any spelling', async () => {
  const lua = await luaWith(['sqlite']);
  try {
    await lua.run('db = assert(sqlite.open(":memory:"))');
    for (const sql of ['PRAGMA writable_schema = ON', 'pragma main.WRITABLE_SCHEMA=1', 'PRAGMA "writable_schema" = 1', "SELECT 1; PRAGMA 'writable_schema'=ON"]) {
      await assert.rejects(lua.run(`db:exec(${JSON.stringify(sql)})`), /PRAGMA writable_schema is not allowed/, sql);
    }
  } finally {
    await lua.close();
  }
});

test('the tokenizer keeps literals, quoted names, blobs and comments whole', () => {
  const t = tokenize(`SELECT 'a;b''c', "q;""x", [br;k], \`bt\`, x'00', y -- c;\n/* d; */ ; ATTACH`);
  assert.deepEqual(t.map((k) => [k.kind, k.text]), [
    ['word', 'SELECT'], ['string', "'a;b''c'"], ['other', ','], ['other', '"q;""x"'], ['other', ','], ['other', '[br;k]'], ['other', ','],
    ['other', '`bt`'], ['other', ','], ['other', "x'00'"], ['other', ','], ['word', 'y'], ['semicolon', ';'], ['word', 'ATTACH'],
  ]);
});

test('the CLI: --data-dir and REDOX_DATA_DIR set the folder; --sqlite-any-path lifts the rule', async () => {
  const { parent, app, outside } = layout();
  const data = path.join(parent, 'data');
  fs.mkdirSync(data);
  fs.writeFileSync(path.join(app, 'job.lua'), `
local db, err = sqlite.open("job.db")
assert(db, tostring(err))
db:exec("CREATE TABLE IF NOT EXISTS t (x)")
print(pcall(sqlite.open, ${JSON.stringify(outside)}))
`);
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const p = spawnRedox(['run', '--features', 'sqlite', ...args, 'app/job.lua'], { cwd: parent, env });
    const code = await p.exited;
    return { code, out: p.stdout(), err: p.stderr() };
  };
  // Default: the app's folder (not the working directory).
  let r = await run([], { REDOX_DATA_DIR: '' });
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^false\t.*outside the data folder/m);
  assert.ok(fs.existsSync(path.join(app, 'job.db')));
  r = await run(['--data-dir', data]);
  assert.equal(r.code, 0, r.err);
  assert.ok(fs.existsSync(path.join(data, 'job.db')));
  fs.rmSync(path.join(data, 'job.db'));
  r = await run([], { REDOX_DATA_DIR: data });
  assert.equal(r.code, 0, r.err);
  assert.ok(fs.existsSync(path.join(data, 'job.db')));
  assert.equal(fs.existsSync(outside), false);
  r = await run(['--sqlite-any-path']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^true\t/m);
  assert.ok(fs.existsSync(outside));
  r = await run(['--data-dir', path.join(parent, 'missing')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /the data folder .*missing \(--data-dir\) is not a directory/);
  fs.rmSync(parent, { recursive: true, force: true });
});
