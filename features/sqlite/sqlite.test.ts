// The sqlite feature against real SQLite files, in real Lua VMs with only this feature.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { luaWith, serveLua, spawnRedox, tempDir, LuaHarness, ROOT } from '../../test/support/harness';

/** A VM with a fresh file database opened as the global `db`. */
async function withDb(file = path.join(tempDir('redox-sqlite-'), 'app.db')): Promise<LuaHarness & { file: string }> {
  // The app folder is the data folder: the database lives beside the app.
  const lua = await luaWith(['sqlite'], path.dirname(file));
  await lua.run(`db = assert(sqlite.open(${JSON.stringify(file)}))`);
  return Object.assign(lua, { file });
}

const USERS = `db:exec([[
  CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT, age INTEGER, score REAL, avatar BLOB);
  CREATE TABLE log (id INTEGER PRIMARY KEY, msg TEXT)
]])`;

test('create, insert, query, get and run on a file database', async () => {
  const lua = await withDb();
  try {
    await lua.run(USERS);
    const res = await lua.run(`return db:run("INSERT INTO users (email, name, age) VALUES (?, ?, ?)", "a@x.io", "Ann", 31)`);
    assert.deepEqual(res, { changes: 1, last_insert_rowid: 1 });
    await lua.run(`db:run("INSERT INTO users (email, name, age) VALUES (?, ?, ?)", "b@x.io", "Bob", 42)`);
    assert.deepEqual(await lua.run(`return db:query("SELECT id, email, name, age FROM users ORDER BY id")`), [
      { id: 1, email: 'a@x.io', name: 'Ann', age: 31 },
      { id: 2, email: 'b@x.io', name: 'Bob', age: 42 },
    ]);
    assert.deepEqual(await lua.run(`return db:get("SELECT name FROM users WHERE age > ?", 40)`), { name: 'Bob' });
    assert.equal(await lua.run(`return db:get("SELECT name FROM users WHERE age > ?", 99) == nil`), true);
    assert.equal(await lua.run(`return json.encode(db:query("SELECT * FROM users WHERE age > 99"))`), '[]');
    assert.deepEqual(await lua.run(`return db:run("UPDATE users SET age = age + 1")`), { changes: 2, last_insert_rowid: 2 });
    // query() on a statement that returns no data runs it and returns no rows.
    assert.equal(await lua.run(`return #db:query("DELETE FROM users WHERE id = ?", 2)`), 0);
    assert.equal(await lua.run(`return db:get("SELECT count(*) AS n FROM users").n`), 1);
    assert.equal(fs.existsSync(lua.file), true);
  } finally {
    await lua.close();
  }
});

test('positional and named parameters', async () => {
  const lua = await luaWith(['sqlite']);
  try {
    await lua.run(`db = sqlite.open(":memory:") ${USERS}`);
    await lua.run(`db:run("INSERT INTO users (email, name) VALUES (:email, :name)", {email = "c@x.io", name = "Cy"})`);
    await lua.run(`db:run("INSERT INTO users (email, name) VALUES (@email, $name)", {email = "d@x.io", name = "Di"})`);
    await lua.run(`db:run("INSERT INTO users (email, name) VALUES (:email, :name)", {[":email"] = "e@x.io", ["@name"] = "Ed"})`);
    // A key Lua cannot hold (nil) binds NULL instead of failing.
    await lua.run(`db:run("INSERT INTO users (email, name) VALUES (:email, :name)", {email = "f@x.io", name = nil})`);
    await lua.run(`db:run("INSERT INTO users (email, name) VALUES (?, ?)", "g@x.io", "Gus")`);
    await lua.run(`db:run("INSERT INTO users (email, name) VALUES (?, ?)", {"h@x.io", "Hal"})`);
    assert.deepEqual(await lua.run(`return db:query("SELECT email, name FROM users ORDER BY email")`), [
      { email: 'c@x.io', name: 'Cy' }, { email: 'd@x.io', name: 'Di' }, { email: 'e@x.io', name: 'Ed' },
      { email: 'f@x.io' }, { email: 'g@x.io', name: 'Gus' }, { email: 'h@x.io', name: 'Hal' },
    ]);
    assert.deepEqual(await lua.run(`return db:get("SELECT :a + :b AS sum", {a = 2, b = 3})`), { sum: 5 });
    await assert.rejects(lua.run(`local r = db:get("SELECT ? AS a, ? AS b", 1)`), /snippet\d+\.lua:1: db:get: Too few parameter values were provided/);
    await assert.rejects(lua.run(`local r = db:get("SELECT ? AS a", 1, 2)`), /db:get: Too many parameter values were provided/);
    await assert.rejects(lua.run(`local r = db:get("SELECT ? AS a", {nested = {}}, 2)`), /db:get: parameter 1 is a table/);
  } finally {
    await lua.close();
  }
});

test('NULL comes back as nil, so the row lacks the key', async () => {
  const lua = await luaWith(['sqlite']);
  try {
    const out = await lua.run(`
      local db = sqlite.open(":memory:")
      db:exec("CREATE TABLE t (a, b)")
      db:run("INSERT INTO t VALUES (?, ?)", nil, 1)   -- nil in the middle of varargs
      db:run("INSERT INTO t VALUES (?, ?)", json.null, 2) -- json.null from a decoded body
      local rows = db:query("SELECT a, b FROM t ORDER BY b")
      local keys = 0
      for _ in pairs(rows[1]) do keys = keys + 1 end
      return { rows[1].a == nil, rows[2].a == nil, keys, db:get("SELECT NULL AS x").x == nil,
               db:get("SELECT count(*) AS n FROM t WHERE a IS NULL").n }`);
    assert.deepEqual(out, [true, true, 1, true, 2]);
  } finally {
    await lua.close();
  }
});

test('integers, floats, text, booleans and blobs round-trip with their types', async () => {
  const lua = await luaWith(['sqlite']);
  try {
    const out = await lua.run(`
      local db = sqlite.open(":memory:")
      db:exec("CREATE TABLE v (i, f, t, b, yes, no, big)")
      local bytes = "\\0\\1\\2\\255\\254 binary"
      db:run("INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, 9007199254740993)", 42, 2.5, "héllo ✓", bytes, true, false)
      local r = db:get("SELECT i, f, t, b, yes, no, big, typeof(i) ti, typeof(f) tf, typeof(t) tt, typeof(b) tb FROM v")
      local ascii = db:get("SELECT typeof(?) AS t, ? AS v", sqlite.blob("abc"), sqlite.blob("abc"))
      return { math.type(r.i), r.i == 42, math.type(r.f), r.f == 2.5, r.t == "héllo ✓", r.b == bytes, #r.b,
               r.yes, r.no, r.big == 9007199254740993, math.type(r.big), r.ti, r.tf, r.tt, r.tb, ascii.t, ascii.v }`);
    assert.deepEqual(out, ['integer', true, 'float', true, true, true, 12, 1, 0, true, 'integer', 'integer', 'real', 'text', 'blob', 'blob', 'abc']);
  } finally {
    await lua.close();
  }
});

test('SQL injection strings are stored verbatim through parameters', async () => {
  const lua = await withDb();
  try {
    await lua.run(USERS);
    const evil = [`Robert'); DROP TABLE users;--`, `' OR '1'='1`, `"; DELETE FROM log; --`, `\\'; SELECT * FROM users; /*`];
    await lua.run(`evil = json.decode(${JSON.stringify(JSON.stringify(evil))})
      for i, s in ipairs(evil) do
        assert(db:run("INSERT INTO users (email, name) VALUES (?, ?)", "u" .. i .. "@x.io", s))
      end
      db:run("INSERT INTO log (msg) VALUES (:msg)", {msg = evil[3]})`);
    const names = await lua.run(`local out = {} for i, r in ipairs(db:query("SELECT name FROM users ORDER BY id")) do out[i] = r.name end return out`);
    assert.deepEqual(names, evil);
    assert.equal(await lua.run(`return db:get("SELECT count(*) AS n FROM users WHERE name = ?", evil[2]).n`), 1);
    assert.equal(await lua.run(`return db:get("SELECT msg FROM log").msg`), evil[2]);
  } finally {
    await lua.close();
  }
});

test('constraint violations return nil, err with the SQLite code', async () => {
  const lua = await withDb();
  try {
    await lua.run(USERS);
    const out = await lua.run(`
      assert(db:run("INSERT INTO users (email) VALUES (?)", "a@x.io"))
      local r, err = db:run("INSERT INTO users (email) VALUES (?)", "a@x.io")
      local r2, err2 = db:run("INSERT INTO users (name) VALUES (?)", "no email")
      local rows, err3 = db:query("INSERT INTO users (email) VALUES (?) RETURNING id", "a@x.io")
      local ok, err4 = db:exec("INSERT INTO users (email) VALUES ('a@x.io')")
      return { r == nil, err.code, err.primary, err.message, tostring(err), err2.code, rows == nil, err3.code, ok == nil, err4.code }`);
    assert.deepEqual(out, [
      true, 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT', 'UNIQUE constraint failed: users.email',
      'SQLITE_CONSTRAINT_UNIQUE: UNIQUE constraint failed: users.email', 'SQLITE_CONSTRAINT_NOTNULL', true,
      'SQLITE_CONSTRAINT_UNIQUE', true, 'SQLITE_CONSTRAINT_UNIQUE',
    ]);
    // Foreign keys are enforced by default.
    const fk = await lua.run(`
      db:exec("CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id))")
      local r, err = db:run("INSERT INTO posts (user_id) VALUES (?)", 999)
      return err.code`);
    assert.equal(fk, 'SQLITE_CONSTRAINT_FOREIGNKEY');
  } finally {
    await lua.close();
  }
});

test('programming errors raise at the caller line with the SQLite message', async () => {
  const lua = await withDb();
  try {
    await assert.rejects(lua.run(`\nlocal rows = db:query("SELEC * FROM nothing")`),
      (e: Error) => /^snippet\d+\.lua:2: db:query: near "SELEC": syntax error \(SQLITE_ERROR\) in: SELEC \* FROM nothing$/.test(e.message));
    await assert.rejects(lua.run(`local r = db:get("SELECT * FROM missing_table")`), /snippet\d+\.lua:1: db:get: no such table: missing_table \(SQLITE_ERROR\)/);
    await assert.rejects(lua.run(`local ok = db:exec("CREATE TABLE (")`), /snippet\d+\.lua:1: db:exec: .*syntax error/);
    await assert.rejects(lua.run(`local s = db:prepare("SELECT nope FROM sqlite_master")`), /snippet\d+\.lua:1: db:prepare: no such column: nope/);
    await assert.rejects(lua.run(`local r = db.query("SELECT 1")`), /snippet\d+\.lua:1: db:query: call it on a database with a colon/);
    await assert.rejects(lua.run(`local r = db:query(42)`), /db:query: sql must be a string, got number/);
    await assert.rejects(lua.run(`local d = sqlite.open(":memory:", {wall = true})`), /snippet\d+\.lua:1: sqlite.open: unknown option "wall"/);
    await assert.rejects(lua.run(`local d = sqlite.open(":memory:", {readonly = true})`), /in-memory database cannot be readonly/);
  } finally {
    await lua.close();
  }
});

test('transaction commits and returns the results of fn', async () => {
  const lua = await withDb();
  try {
    await lua.run(USERS);
    const out = await lua.run(`
      local a, b = db:transaction(function(tx)
        tx:run("INSERT INTO users (email) VALUES (?)", "t1@x.io")
        tx:run("INSERT INTO users (email) VALUES (?)", "t2@x.io")
        return "done", 2
      end)
      return { a, b, db:get("SELECT count(*) AS n FROM users").n }`);
    assert.deepEqual(out, ['done', 2, 2]);
  } finally {
    await lua.close();
  }
});

test('transaction rolls back when fn raises and raises the same error again', async () => {
  const lua = await withDb();
  try {
    await lua.run(USERS);
    const out = await lua.run(`
      local ok, err = pcall(db.transaction, db, function(tx)
        tx:run("INSERT INTO users (email) VALUES (?)", "r1@x.io")
        error("stop here")
      end)
      local boom = setmetatable({ status = 409 }, { __name = "custom" })
      local ok2, err2 = pcall(db.transaction, db, function(tx)
        tx:run("INSERT INTO users (email) VALUES (?)", "r2@x.io")
        error(boom)
      end)
      return { ok, tostring(err), ok2, err2 == boom, db:get("SELECT count(*) AS n FROM users").n }`);
    assert.equal(out && (out as unknown[])[0], false);
    assert.match((out as string[])[1], /snippet\d+\.lua:4: stop here/);
    assert.deepEqual((out as unknown[]).slice(2), [false, true, 0]);
    // A failure returned as nil, err is a normal return: the caller decides to raise or not.
    const partial = await lua.run(`
      local ok, err = pcall(db.transaction, db, function(tx)
        assert(tx:run("INSERT INTO users (email) VALUES (?)", "p1@x.io"))
        assert(tx:run("INSERT INTO users (email) VALUES (?)", "p1@x.io")) -- UNIQUE: assert raises
      end)
      return { ok, err.code, db:get("SELECT count(*) AS n FROM users").n }`);
    assert.deepEqual(partial, [false, 'SQLITE_CONSTRAINT_UNIQUE', 0]);
  } finally {
    await lua.close();
  }
});

test('nested transactions use savepoints', async () => {
  const lua = await withDb();
  try {
    await lua.run(USERS);
    const out = await lua.run(`
      db:transaction(function(tx)
        tx:run("INSERT INTO users (email) VALUES ('outer@x.io')")
        local ok = pcall(tx.transaction, tx, function()
          tx:run("INSERT INTO users (email) VALUES ('inner@x.io')")
          error("undo the inner part only")
        end)
        assert(not ok)
        tx:transaction(function() tx:run("INSERT INTO users (email) VALUES ('kept@x.io')") end)
      end)
      local out = {}
      for i, r in ipairs(db:query("SELECT email FROM users ORDER BY id")) do out[i] = r.email end
      return out`);
    assert.deepEqual(out, ['outer@x.io', 'kept@x.io']);
  } finally {
    await lua.close();
  }
});

test('transaction refuses to wait for I/O or yield while open, and rolls back', async () => {
  const lua = await withDb();
  try {
    await lua.run(USERS);
    await assert.rejects(lua.run(`
      db:transaction(function(tx)
        tx:run("INSERT INTO users (email) VALUES ('slow@x.io')")
        redox.sleep(1)
      end)`), (e: Error) => /redox\.sleep waits for I\/O/.test(e.message) && /fn must not wait for I\/O or yield while the transaction is open/.test(e.message));
    await assert.rejects(lua.run(`
      db:transaction(function() coroutine.yield() end)`), /attempt to yield across a C-call boundary.*must not wait/);
    // A host wait inside a user coroutine inside fn is refused too.
    await assert.rejects(lua.run(`
      db:transaction(function() coroutine.wrap(function() redox.sleep(1) end)() end)`), /must not wait for I\/O/);
    const after = await lua.run(`
      redox.sleep(1) -- waits are fine outside transactions
      local n = db:get("SELECT count(*) AS n FROM users").n
      db:transaction(function(tx) tx:run("INSERT INTO users (email) VALUES ('ok@x.io')") end)
      return { n, db:get("SELECT count(*) AS n FROM users").n }`);
    assert.deepEqual(after, [0, 1]);
    // A BEGIN issued by hand and left open is detected instead of being joined.
    await assert.rejects(lua.run(`db:exec("BEGIN") local ok = db:transaction(function() end)`), /a transaction started with BEGIN/);
    await lua.run(`db:exec("ROLLBACK")`);
  } finally {
    await lua.close();
  }
});

test('data persists: a new VM reopens the file and reads it', async () => {
  const first = await withDb();
  const file = first.file;
  try {
    await first.run(USERS);
    await first.run(`db:run("INSERT INTO users (email, name, avatar) VALUES (?, ?, ?)", "keep@x.io", "Kept", "\\255\\0\\1")`);
  } finally {
    await first.close();
  }
  // The VM closed its database on cleanup: SQLite checkpoints and removes the WAL file.
  assert.equal(fs.existsSync(file + '-wal'), false);
  const second = await withDb(file);
  try {
    assert.deepEqual(await second.run(`local r = db:get("SELECT email, name, avatar FROM users") return {r.email, r.name, r.avatar == "\\255\\0\\1"}`),
      ['keep@x.io', 'Kept', true]);
  } finally {
    await second.close();
  }
});

test('files are opened in WAL mode with a busy timeout', async () => {
  const lua = await withDb();
  try {
    assert.deepEqual(await lua.run(`return { db:get("PRAGMA journal_mode").journal_mode, db:get("PRAGMA busy_timeout").timeout,
      db:get("PRAGMA foreign_keys").foreign_keys, db:get("PRAGMA synchronous").synchronous }`), ['wal', 5000, 1, 1]);
    const dir = path.dirname(lua.file);
    assert.deepEqual(await lua.run(`
      local d = sqlite.open(${JSON.stringify(path.join(dir, 'b.db'))}, {busy_timeout = 250, wal = false, foreign_keys = false})
      local m = sqlite.open(":memory:")
      return { d:get("PRAGMA journal_mode").journal_mode, d:get("PRAGMA busy_timeout").timeout, d:get("PRAGMA foreign_keys").foreign_keys,
               m:get("PRAGMA journal_mode").journal_mode }`), ['delete', 250, 0, 'memory']);
  } finally {
    await lua.close();
  }
});

test('a database locked by another connection returns SQLITE_BUSY after busy_timeout', async () => {
  const file = path.join(tempDir('redox-sqlite-'), 'busy.db');
  const lua = await withDb(file);
  const other = new Database(file, { timeout: 0 });
  try {
    await lua.run(`db:exec("CREATE TABLE t (x)") slow = sqlite.open(${JSON.stringify(file)}, {busy_timeout = 100})`);
    other.exec('BEGIN IMMEDIATE; INSERT INTO t VALUES (1)');
    const start = Date.now();
    const out = await lua.run(`
      local r, err = slow:run("INSERT INTO t VALUES (2)")
      local v, err2 = slow:transaction(function() end)
      return { r == nil, err.code, err.primary, v == nil, err2.code }`);
    assert.ok(Date.now() - start >= 100, 'waited for busy_timeout');
    assert.deepEqual(out, [true, 'SQLITE_BUSY', 'SQLITE_BUSY', true, 'SQLITE_BUSY']);
    other.exec('COMMIT');
    assert.deepEqual(await lua.run(`assert(slow:run("INSERT INTO t VALUES (2)")) return db:get("SELECT count(*) AS n FROM t").n`), 2);
  } finally {
    other.close();
    await lua.close();
  }
});

test('open failures return nil, err with SQLITE_CANTOPEN, SQLITE_NOTADB and friends', async () => {
  const dir = tempDir('redox-sqlite-');
  fs.writeFileSync(path.join(dir, 'junk.db'), 'this is not a database file, just some text that is long enough'.repeat(20));
  const lua = await luaWith(['sqlite'], dir);
  try {
    const out = await lua.run(`
      local dir = ${JSON.stringify(dir)}
      local a, e1 = sqlite.open(dir .. "/no/such/folder/x.db")
      local b, e2 = sqlite.open(dir .. "/missing.db", {create = false})
      local c, e3 = sqlite.open(dir .. "/junk.db")
      local d, e4 = sqlite.connect("sqlite:" .. dir .. "/missing.db?mode=ro")
      local ro = assert(sqlite.open(dir .. "/ro.db")) ro:exec("CREATE TABLE t (x)") ro:close()
      ro = assert(sqlite.open(dir .. "/ro.db", {readonly = true}))
      local r, e5 = ro:run("INSERT INTO t VALUES (1)")
      return { a == nil, e1.code, b == nil, e2.code, c == nil, e3.code, d == nil, e4.code, r == nil, e5.code }`);
    assert.deepEqual(out, [true, 'SQLITE_CANTOPEN', true, 'SQLITE_CANTOPEN', true, 'SQLITE_NOTADB', true, 'SQLITE_CANTOPEN', true, 'SQLITE_READONLY']);
    assert.equal(fs.existsSync(path.join(dir, 'missing.db')), false);
  } finally {
    await lua.close();
  }
});

// Root may write anywhere, so the check runs the CLI as nobody (setpriv, util-linux).
const asNobody = process.platform !== 'linux' || process.getuid?.() !== 0 ? 'needs root on Linux to run a process as nobody'
  : !fs.existsSync('/usr/bin/setpriv') ? 'setpriv (util-linux) is not installed' : false;

/** The repository where nobody can reach it: hard links (no copy) in a folder anyone may enter,
 *  since the clone itself may sit in a private folder, as a CI's temporary one does. Null when
 *  the links cannot be made (another file system) or the files are not readable by others. */
function reachableRepository(): string | null {
  const cli = path.join(ROOT, 'build', 'cli', 'main.js');
  if (!(fs.statSync(cli).mode & 0o004)) return null;
  const dest = tempDir('redox-sqlite-repo-');
  fs.chmodSync(dest, 0o755);
  const entries = fs.readdirSync(ROOT).filter((e) => e !== '.git' && e !== 'dist').map((e) => path.join(ROOT, e));
  try {
    execFileSync('cp', ['-al', ...entries, dest], { stdio: 'ignore' });
  } catch {
    return null;
  }
  return dest;
}

test('a folder or file this process may not write: the open error says so, with the uid', { skip: asNobody }, async (t) => {
  const repo = reachableRepository();
  if (!repo) return t.skip(`nobody cannot read ${ROOT}'s files, and they cannot be hard-linked where it could`);
  const dir = tempDir('redox-sqlite-');
  fs.chmodSync(dir, 0o755); // nobody may enter and read, not write
  fs.writeFileSync(path.join(dir, 'check.lua'), `
    local _, e1 = sqlite.open("new.db")
    local _, e2 = sqlite.open("locked.db")
    print(e1.code .. " | " .. e1.message)
    print(e2.code .. " | " .. e2.message)
  `);
  fs.writeFileSync(path.join(dir, 'locked.db'), '');
  fs.chmodSync(path.join(dir, 'locked.db'), 0o600);
  const p = spawnRedox(['run', 'check.lua', '--features', 'sqlite'], {
    cwd: dir, env: { HOME: dir }, bin: ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, path.join(repo, 'build', 'cli', 'main.js')],
  });
  assert.equal(await p.exited, 0, p.stderr());
  const [created, locked] = p.stdout().trim().split('\n');
  assert.equal(created, `SQLITE_CANTOPEN | cannot open new.db: unable to open database file; its folder ${fs.realpathSync(dir)} is not writable by this process (uid 65534), so the database cannot be created there`);
  assert.equal(locked, 'SQLITE_CANTOPEN | cannot open locked.db: unable to open database file; the file is not readable by this process (uid 65534)');
});

test('the seed form: sqlite.connect("sqlite::memory:") and URL paths', async () => {
  const dir = tempDir('redox-sqlite-');
  const lua = await luaWith(['sqlite'], dir);
  try {
    assert.deepEqual(await lua.run(`local db = sqlite.connect("sqlite::memory:") return db:query("SELECT 1 AS one, 'two' AS two")`), [{ one: 1, two: 'two' }]);
    const out = await lua.run(`
      local a = assert(sqlite.connect("sqlite://" .. ${JSON.stringify(dir)} .. "/a.db"))
      local b = assert(sqlite.connect("sqlite:" .. ${JSON.stringify(dir)} .. "/b.db"))
      a:exec("CREATE TABLE t (x)") b:exec("CREATE TABLE t (x)")
      return { a.path, b.path, a:get("PRAGMA journal_mode").journal_mode }`);
    assert.deepEqual(out, [path.join(dir, 'a.db'), path.join(dir, 'b.db'), 'wal']);
    assert.equal(fs.existsSync(path.join(dir, 'a.db')), true);
    assert.equal(fs.existsSync(path.join(dir, 'b.db')), true);
    await assert.rejects(lua.run(`local d = sqlite.connect("postgres://x")`), /snippet\d+\.lua:1: sqlite.connect: url must start with sqlite:/);
  } finally {
    await lua.close();
  }
});

test('using a closed database or statement raises; close is idempotent', async () => {
  const lua = await withDb();
  try {
    assert.deepEqual(await lua.run(`
      local s = db:prepare("SELECT 1 AS x")
      local open_before = db:is_open()
      db:close() db:close()
      return { open_before, db:is_open(), tostring(db):match("closed") ~= nil }`), [true, false, true]);
    await assert.rejects(lua.run(`local r = db:query("SELECT 1")`), /snippet\d+\.lua:1: db:query: the database is closed/);
    await assert.rejects(lua.run(`local r = db:run("SELECT 1")`), /db:run: the database is closed/);
    await assert.rejects(lua.run(`local r = db:exec("SELECT 1")`), /db:exec: the database is closed/);
    await assert.rejects(lua.run(`local r = db:transaction(function() end)`), /snippet\d+\.lua:1: db:transaction: the database is closed/);
    await assert.rejects(lua.run(`local s = db:prepare("SELECT 1")`), /db:prepare: the database is closed/);
    // A to-be-closed variable closes the database at the end of its scope.
    assert.equal(await lua.run(`
      local keep
      do
        local d <close> = sqlite.open(":memory:")
        keep = d
      end
      return keep:is_open()`), false);
  } finally {
    await lua.close();
  }
});

test('prepared statements are reusable', async () => {
  const lua = await luaWith(['sqlite']);
  try {
    const out = await lua.run(`
      local db = sqlite.open(":memory:")
      db:exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
      local ins = db:prepare("INSERT INTO t (v) VALUES (?)")
      for i = 1, 100 do ins:run("v" .. i) end
      local by_id = db:prepare("SELECT id, v FROM t WHERE id = :id")
      local cols = by_id:columns()
      ins:close()
      local ok, closed = pcall(ins.run, ins, "x")
      return { by_id:get({id = 7}).v, by_id:get({id = 1000}) == nil, #db:prepare("SELECT * FROM t"):query(), cols[1], cols[2],
               db:prepare("DELETE FROM t WHERE id > 50"):run().changes, ok, tostring(closed) }`);
    assert.deepEqual((out as unknown[]).slice(0, 7), ['v7', true, 100, 'id', 'v', 50, false]);
    assert.match((out as string[])[7], /stmt:run: the statement is closed/);
  } finally {
    await lua.close();
  }
});

test('two VMs on the same file see each other\'s committed writes', async () => {
  const a = await withDb();
  const b = await withDb(a.file);
  try {
    await a.run(`db:exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)")`);
    await a.run(`db:run("INSERT INTO kv VALUES (?, ?)", "from", "a")`);
    assert.equal(await b.run(`return db:get("SELECT v FROM kv WHERE k = 'from'").v`), 'a');
    await b.run(`db:transaction(function(tx) tx:run("UPDATE kv SET v = 'b'") tx:run("INSERT INTO kv VALUES ('x', 'y')") end)`);
    assert.deepEqual(await a.run(`return { db:get("SELECT v FROM kv WHERE k = 'from'").v, db:get("SELECT count(*) AS n FROM kv").n }`), ['b', 2]);
    const dup = await b.run(`local r, err = db:run("INSERT INTO kv VALUES ('x', 'z')") return err.code`);
    assert.equal(dup, 'SQLITE_CONSTRAINT_PRIMARYKEY');
  } finally {
    await a.close();
    await b.close();
  }
});

test('a database dropped without close is closed by the garbage collector', async () => {
  const file = path.join(tempDir('redox-sqlite-'), 'gc.db');
  const lua = await luaWith(['sqlite'], path.dirname(file));
  try {
    await lua.run(`local d = sqlite.open(${JSON.stringify(file)}) d:exec("CREATE TABLE t (x)") d:run("INSERT INTO t VALUES (1)")`);
    assert.equal(fs.existsSync(file + '-wal'), true);
    await lua.run('collectgarbage() collectgarbage()');
    await new Promise((resolve) => setImmediate(resolve));
    // Closing the last connection checkpoints the WAL into the file and deletes it.
    assert.equal(fs.existsSync(file + '-wal'), false);
    const check = new Database(file, { readonly: true });
    assert.deepEqual(check.prepare('SELECT x FROM t').all(), [{ x: 1 }]);
    check.close();
  } finally {
    await lua.close();
  }
});

test('over HTTP: POST inserts and GET reads back, with concurrent requests', async () => {
  const file = path.join(tempDir('redox-sqlite-'), 'notes.db');
  const app = `
local db = assert(sqlite.open(${JSON.stringify(file)}))
db:exec("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL UNIQUE, body TEXT)")
local app = redox.router()
app:post("/notes", function(req)
  local n = req:json()
  local r, err = db:run("INSERT INTO notes (title, body) VALUES (:title, :body)", {title = n.title, body = n.body})
  if not r then
    if err.primary == "SQLITE_CONSTRAINT" then return { status = 409, json = { error = err.code } } end
    error(err)
  end
  return { status = 201, json = { id = r.last_insert_rowid } }
end)
app:get("/notes/:id", function(req)
  local note = db:get("SELECT id, title, body FROM notes WHERE id = ?", tonumber(req.params.id))
  if not note then redox.abort(404, "no such note") end
  return { json = note }
end)
app:get("/notes", function(req)
  return { json = db:query("SELECT id, title FROM notes ORDER BY id") }
end)
return app`;
  const service = await serveLua(app, ['sqlite'], { dir: path.dirname(file) });
  try {
    const post = (title: string, body?: string) => fetch(`${service.url}/notes`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title, body }),
    });
    const created = await post('first', "it's <b>bold</b>; DROP TABLE notes; --");
    assert.equal(created.status, 201);
    const { id } = await created.json() as { id: number };
    const got = await fetch(`${service.url}/notes/${id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(await got.json(), { id, title: 'first', body: "it's <b>bold</b>; DROP TABLE notes; --" });
    assert.equal((await post('first')).status, 409);
    assert.equal((await fetch(`${service.url}/notes/999`)).status, 404);
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => post(`note ${i}`)));
    assert.deepEqual(many.map((r) => r.status), Array(20).fill(201));
    const list = await (await fetch(`${service.url}/notes`)).json() as { id: number; title: string }[];
    assert.equal(list.length, 21);
    assert.equal(new Set(list.map((n) => n.id)).size, 21);
  } finally {
    await service.close();
  }
  // Written to the file, not only to the process.
  const check = new Database(file, { readonly: true });
  assert.equal((check.prepare('SELECT count(*) AS n FROM notes').get() as { n: number }).n, 21);
  check.close();
});

test('the README example runs as written', async () => {
  const readme = fs.readFileSync(path.join(ROOT, 'features', 'sqlite', 'README.md'), 'utf8');
  const example = /## Example[\s\S]*?```lua\n([\s\S]*?)```/.exec(readme)![1];
  const file = path.join(tempDir('redox-sqlite-'), 'notes.db');
  assert.ok(example.includes('sqlite.open("notes.db")'));
  const service = await serveLua(example, ['sqlite'], { dir: path.dirname(file) });
  try {
    const post = (body: unknown) => fetch(`${service.url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const created = await post({ title: 'hello', tags: ['a', 'b'] });
    assert.equal(created.status, 201);
    const { id } = await created.json() as { id: number };
    const note = await (await fetch(`${service.url}/notes/${id}`)).json() as Record<string, unknown>;
    assert.deepEqual({ ...note, created_at: typeof note.created_at }, { id, title: 'hello', body: null, tags: ['a', 'b'], created_at: 'number' });
    assert.equal((await post({ title: 'hello', tags: ['c'] })).status, 409);
    assert.equal((await post({})).status, 400);
    assert.equal((await fetch(`${service.url}/notes/12345`)).status, 404);
    assert.deepEqual(await (await fetch(`${service.url}/notes?limit=5`)).json(), [{ id, title: 'hello', created_at: note.created_at }]);
  } finally {
    await service.close();
  }
  // The 409 rolled back its tag row too.
  const check = new Database(file, { readonly: true });
  assert.equal((check.prepare('SELECT count(*) AS n FROM tags').get() as { n: number }).n, 2);
  check.close();
});
