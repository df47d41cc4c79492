// The postgres feature against a real PostgreSQL server that this file starts (initdb + pg_ctl
// in a temp dir, on a free port) and stops, from real Lua VMs with only this feature.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Client } from 'pg';
import { httpGet, luaWith, serveLua, LuaHarness, ROOT } from '../../test/support/harness';
import { freePort, startPostgres, PostgresServer } from '../../test/support/servers';

let server: PostgresServer;
/** A direct connection for setup and for watching the server (pg_stat_activity). */
let admin: Client;

before(async () => {
  server = await startPostgres();
  admin = connectAdmin();
  await admin.connect();
});

function connectAdmin(): Client {
  const c = new Client({ connectionString: server.url });
  c.on('error', () => {}); // the outage test stops the server under it
  return c;
}

after(async () => {
  await admin?.end().catch(() => {});
  await server?.close();
});

const lit = (s: string) => JSON.stringify(s);

/** A VM with the global `db` connected to the test server (with extra Lua options). */
async function withDb(options = ''): Promise<LuaHarness> {
  const lua = await luaWith(['postgres']);
  await lua.run(`db = postgres.connect(${lit(server.url)}${options ? `, ${options}` : ''})`);
  return lua;
}

/** Connections the server has open for one application_name. */
async function backends(app: string): Promise<number> {
  const r = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [app]);
  return r.rows[0].n;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('query, get and run with $n parameters; RETURNING rows; run counts changes', async () => {
  const lua = await withDb();
  try {
    await lua.run(`db:run("CREATE TABLE people (id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text, age int)")`);
    const ins = await lua.run(`return db:run("INSERT INTO people (email, name, age) VALUES ($1, $2, $3), ($4, $5, $6) RETURNING id, email",
      "a@x.io", "Ann", 31, "b@x.io", nil, 42)`);
    assert.deepEqual(ins, { changes: 2, rows: [{ id: 1, email: 'a@x.io' }, { id: 2, email: 'b@x.io' }] });
    assert.deepEqual(await lua.run(`return db:query("SELECT id, name, age FROM people ORDER BY id")`), [
      { id: 1, name: 'Ann', age: 31 }, { id: 2, age: 42 }, // NULL name: the key is absent
    ]);
    assert.deepEqual(await lua.run(`return db:get("SELECT email FROM people WHERE age > $1", 40)`), { email: 'b@x.io' });
    assert.equal(await lua.run(`return db:get("SELECT email FROM people WHERE age > $1", 99) == nil`), true);
    assert.equal(await lua.run(`return json.encode(db:query("SELECT * FROM people WHERE age > 99"))`), '[]');
    assert.deepEqual(await lua.run(`return db:run("UPDATE people SET age = age + $1", 1)`), { changes: 2 });
    assert.deepEqual(await lua.run(`return db:run("DELETE FROM people WHERE id = $1", 99)`), { changes: 0 });
    // The same parameter twice, a boolean, a float, and a Lua array as a PostgreSQL array.
    assert.deepEqual(await lua.run(`return db:get("SELECT $1::int + $1::int AS two, $2::bool AS b, $3::float8 AS f, $4::int[] AS arr", 21, true, 0.25, {1, 2, 3})`),
      { two: 42, b: true, f: 0.25, arr: [1, 2, 3] });
    // A table that is not a sequence is sent as JSON.
    assert.deepEqual(await lua.run(`return db:get("SELECT $1::jsonb -> 'a' AS a", {a = {x = "y"}}).a`), { x: 'y' });
    // Mistakes in the code raise at the caller's line.
    await assert.rejects(lua.run(`\nlocal r = db:get("SELECT $1::int AS a, $2::int AS b", 1)`), /snippet\d+\.lua:2: db:get: bind message supplies 1 parameters, but prepared statement "" requires 2 \(SQLSTATE 08P01\)/);
    await assert.rejects(lua.run(`local r = db:query("SELEC 1")`), /snippet\d+\.lua:1: db:query: syntax error at or near "SELEC" \(SQLSTATE 42601\) in: SELEC 1/);
    await assert.rejects(lua.run(`local r = db:query("SELECT * FROM no_such_table")`), /relation "no_such_table" does not exist \(SQLSTATE 42P01\)/);
    await assert.rejects(lua.run(`local r = db:query(42)`), /db:query: sql must be a string, got number/);
  } finally {
    await lua.close();
  }
});

test('every type in the mapping', async () => {
  const lua = await withDb();
  try {
    const row = await lua.run(`
      local r = db:get([==[SELECT 7::int2 AS i2, 2147483647::int4 AS i4, 9007199254740991::int8 AS i8_fits,
        9223372036854775807::int8 AS i8_big, -9007199254740993::int8 AS i8_neg,
        12345678901234567890.125::numeric AS num, 1.5::float4 AS f4, 0.1::float8 AS f8,
        true AS yes, false AS no, 'héllo'::text AS txt, 'v'::varchar AS vc,
        '{"a": [1, null, {"b": true}], "n": null}'::json AS js, '[1, "two", null]'::jsonb AS jsb,
        '\\x00ff41'::bytea AS bin,
        '2024-01-02 03:04:05.123456'::timestamp AS ts,
        '2024-01-02 03:04:05.5+00'::timestamptz AS tstz,
        '2024-02-29'::date AS d,
        NULL::int AS nothing,
        ARRAY[1, 2, 3] AS ints, ARRAY['a', 'b'] AS texts, ARRAY[1, NULL, 3] AS holes,
        ARRAY[ARRAY[1, 2], ARRAY[3, 4]] AS nested, ARRAY[]::int[] AS empty,
        ARRAY[9223372036854775807, 1]::int8[] AS i8s, ARRAY[1.5]::numeric[] AS nums,
        ARRAY[true, false] AS bools,
        '11111111-2222-3333-4444-555555555555'::uuid AS id]==])
      return {
        row = r,
        types = {
          i2 = math.type(r.i2), i4 = math.type(r.i4), i8_fits = math.type(r.i8_fits), i8_big = type(r.i8_big),
          num = type(r.num), f8 = math.type(r.f8), yes = type(r.yes), bin = #r.bin,
          js_null = r.js.n == json.null, js_hole = r.js.a[2] == json.null, jsb_len = #r.jsb, jsb_null = r.jsb[3] == json.null,
          holes_len = #r.holes, holes_null = r.holes[2] == json.null, nothing = r.nothing == nil,
          empty = json.encode(r.empty), holes_json = json.encode(r.holes),
        },
      }`) as { row: Record<string, unknown>; types: Record<string, unknown> };
    const r = row.row;
    assert.deepEqual(row.types, {
      i2: 'integer', i4: 'integer', i8_fits: 'integer', i8_big: 'string', num: 'string', f8: 'float', yes: 'boolean', bin: 3,
      js_null: true, js_hole: true, jsb_len: 3, jsb_null: true, holes_len: 3, holes_null: true, nothing: true,
      empty: '[]', holes_json: '[1,null,3]',
    });
    assert.equal(r.i2, 7);
    assert.equal(r.i4, 2147483647);
    assert.equal(r.i8_fits, 9007199254740991);
    assert.equal(r.i8_big, '9223372036854775807');
    assert.equal(r.i8_neg, '-9007199254740993');
    assert.equal(r.num, '12345678901234567890.125');
    assert.equal(r.f4, 1.5);
    assert.equal(r.f8, 0.1);
    assert.equal(r.yes, true);
    assert.equal(r.no, false);
    assert.equal(r.txt, 'héllo');
    assert.equal(r.vc, 'v');
    assert.deepEqual(r.js, { a: [1, null, { b: true }], n: null });
    assert.deepEqual(r.jsb, [1, 'two', null]);
    assert.equal(r.bin, '\x00\xffA'.replace('\xff', '\ufffd')); // the harness reads Lua strings as UTF-8
    assert.equal(r.ts, '2024-01-02T03:04:05.123456');
    assert.equal(r.tstz, '2024-01-02T03:04:05.5Z');
    assert.equal(r.d, '2024-02-29');
    assert.equal('nothing' in r, false);
    assert.deepEqual(r.ints, [1, 2, 3]);
    assert.deepEqual(r.texts, ['a', 'b']);
    assert.deepEqual(r.holes, [1, null, 3]);
    assert.deepEqual(r.nested, [[1, 2], [3, 4]]);
    assert.deepEqual(r.empty, []);
    assert.deepEqual(r.i8s, ['9223372036854775807', 1]);
    assert.deepEqual(r.nums, ['1.5']);
    assert.deepEqual(r.bools, [true, false]);
    assert.equal(r.id, '11111111-2222-3333-4444-555555555555');
    // bytea round trip: bytes that are not UTF-8 are sent as binary; postgres.bytea forces it.
    assert.deepEqual(await lua.run(`
      db:run("CREATE TABLE blobs (id int PRIMARY KEY, data bytea)")
      db:run("INSERT INTO blobs VALUES (1, $1), (2, $2)", "\\0\\255\\1", postgres.bytea("abc"))
      local a, b = db:get("SELECT data FROM blobs WHERE id = 1").data, db:get("SELECT data FROM blobs WHERE id = 2").data
      return { a == "\\0\\255\\1", #a, b == "abc" }`), [true, 3, true]);
    // A time zone offset other than UTC keeps its offset.
    assert.equal(await lua.run(`return db:get("SELECT '2024-01-02 03:04:05+05:30'::timestamptz AT TIME ZONE 'UTC' AS t").t`), '2024-01-01T21:34:05');
    assert.equal(await lua.run(`return db:get("SET LOCAL TimeZone = 'Asia/Kolkata'; SELECT '2024-01-02 00:00:00+00'::timestamptz AS t").t`), '2024-01-02T05:30:00+05:30');
  } finally {
    await lua.close();
  }
});

test('SQL injection strings are stored and read back verbatim', async () => {
  const lua = await withDb();
  const nasty = ["'; DROP TABLE notes; --", "Robert'); DROP TABLE students;--", '$1', "\\'", '" OR 1=1 --', "' OR ''='", 'tab\tnew\nline', '%_*?'];
  try {
    await lua.run(`db:run("CREATE TABLE notes (id serial PRIMARY KEY, body text)")`);
    for (const s of nasty) await lua.run(`db:run("INSERT INTO notes (body) VALUES ($1)", ${lit(s)})`);
    assert.deepEqual(await lua.run(`local out = {} for i, r in ipairs(db:query("SELECT body FROM notes ORDER BY id")) do out[i] = r.body end return out`), nasty);
    assert.equal(await lua.run(`return db:get("SELECT count(*)::int AS n FROM notes WHERE body = $1", ${lit(nasty[0])}).n`), 1);
    assert.equal((await admin.query("SELECT to_regclass('notes') IS NOT NULL AS ok")).rows[0].ok, true);
  } finally {
    await lua.close();
  }
});

test('constraint violations are nil, err with the SQLSTATE, detail and constraint name', async () => {
  const lua = await withDb();
  try {
    await lua.run(`db:run("CREATE TABLE accounts (id int PRIMARY KEY, email text UNIQUE NOT NULL, balance int CHECK (balance >= 0))")`);
    await lua.run(`db:run("INSERT INTO accounts VALUES (1, 'a@x.io', 10)")`);
    const dup = await lua.run(`local r, err = db:run("INSERT INTO accounts VALUES ($1, $2, $3)", 2, "a@x.io", 5) return {r == nil, err.code, err.message, err.detail, err.constraint, err.table}`);
    assert.deepEqual(dup, [true, '23505', 'duplicate key value violates unique constraint "accounts_email_key"', 'Key (email)=(a@x.io) already exists.', 'accounts_email_key', 'accounts']);
    assert.equal(await lua.run(`local _, err = db:run("INSERT INTO accounts VALUES (3, NULL, 1)") return err.code`), '23502');
    assert.equal(await lua.run(`local _, err = db:run("UPDATE accounts SET balance = -1") return err.code`), '23514');
    // Data errors depend on input, so they are expected too.
    assert.equal(await lua.run(`local _, err = db:get("SELECT $1::int AS n", "abc") return err.code`), '22P02');
    assert.equal(await lua.run(`local _, err = db:get("SELECT 1 / $1::int AS n", 0) return err.code`), '22012');
    // The error value prints usefully.
    assert.match(String(await lua.run(`local _, err = db:run("INSERT INTO accounts VALUES (1, 'b@x.io', 1)") return tostring(err)`)), /23505/);
  } finally {
    await lua.close();
  }
});

test('transactions: commit, rollback on error (re-raised), nested savepoints, failed statements', async () => {
  const lua = await withDb();
  try {
    await lua.run(`db:run("CREATE TABLE ledger (id serial PRIMARY KEY, what text UNIQUE)")`);
    // Commit returns fn's results.
    assert.deepEqual(await lua.run(`return {db:transaction(function(tx)
      tx:run("INSERT INTO ledger (what) VALUES ($1)", "one")
      return tx:get("SELECT count(*)::int AS n FROM ledger").n, "done"
    end)}`), [1, 'done']);
    // An error rolls back and raises fn's error again, at its line.
    await assert.rejects(lua.run(`db:transaction(function(tx)
      tx:run("INSERT INTO ledger (what) VALUES ('two')")
      error("boom")
    end)`), /snippet\d+\.lua:3: boom/);
    assert.deepEqual(await lua.run(`return db:query("SELECT what FROM ledger ORDER BY id")`), [{ what: 'one' }]);
    // Nested: the inner part rolls back alone; the outer commits.
    assert.deepEqual(await lua.run(`return {db:transaction(function(tx)
      tx:run("INSERT INTO ledger (what) VALUES ('outer')")
      local ok = pcall(tx.transaction, tx, function(inner)
        inner:run("INSERT INTO ledger (what) VALUES ('inner')")
        error("inner fails")
      end)
      local v = tx:transaction(function(inner)
        inner:run("INSERT INTO ledger (what) VALUES ('inner2')")
        return "kept"
      end)
      return ok, v
    end)}`), [false, 'kept']);
    assert.deepEqual(await lua.run(`return db:query("SELECT what FROM ledger ORDER BY id")`), [{ what: 'one' }, { what: 'outer' }, { what: 'inner2' }]);
    // A statement that failed (nil, err) aborts the transaction: it rolls back and says why.
    const failed = await lua.run(`local r, err = db:transaction(function(tx)
      tx:run("INSERT INTO ledger (what) VALUES ('three')")
      local dup, derr = tx:run("INSERT INTO ledger (what) VALUES ('one')")
      assert(dup == nil and derr.code == "23505")
      return "unreachable result"
    end) return {r == nil, err.code, err.message}`) as unknown[];
    assert.deepEqual(failed.slice(0, 2), [true, '25P02']);
    assert.match(String(failed[2]), /rolled back because a statement in it failed: duplicate key/);
    // In a nested transaction the failure only undoes that part.
    assert.deepEqual(await lua.run(`return {db:transaction(function(tx)
      tx:run("INSERT INTO ledger (what) VALUES ('four')")
      local r, err = tx:transaction(function(inner) return inner:run("INSERT INTO ledger (what) VALUES ('one')") end)
      return r == nil, err.code
    end)}`), [true, '25P02']);
    assert.deepEqual(await lua.run(`return db:query("SELECT what FROM ledger ORDER BY id")`), [{ what: 'one' }, { what: 'outer' }, { what: 'inner2' }, { what: 'four' }]);
    // The tx object is only valid inside its function; a SQL mistake inside raises.
    await assert.rejects(lua.run(`local saved db:transaction(function(tx) saved = tx end) saved:query("SELECT 1")`), /the transaction is over/);
    await assert.rejects(lua.run(`db:transaction(function(tx) tx:query("SELEC 1") end)`), /snippet\d+\.lua:1: tx:query: syntax error/);
    await assert.rejects(lua.run(`db:transaction("not a function")`), /db:transaction: expected a function\(tx\), got string/);
    // Every connection went back to the pool.
    assert.equal(await lua.run(`local s = db:stats() return s.total == s.idle`), true);
  } finally {
    await lua.close();
  }
});

test('a transaction runs on its own connection while other requests run outside it', async () => {
  const lua = await withDb();
  try {
    await lua.run(`db:run("CREATE TABLE iso (n int)")`);
    // Inside the transaction the row is visible; through db (another connection) it is not yet.
    assert.deepEqual(await lua.run(`return {db:transaction(function(tx)
      tx:run("INSERT INTO iso VALUES (1)")
      return tx:get("SELECT count(*)::int AS n FROM iso").n, db:get("SELECT count(*)::int AS n FROM iso").n
    end)}`), [1, 0]);
    assert.equal(await lua.run(`return db:get("SELECT count(*)::int AS n FROM iso").n`), 1);
  } finally {
    await lua.close();
  }
});

test('a transaction whose connection the server ends mid-way: nil, err, no crash, the pool recovers', async () => {
  const lua = await withDb(`{ application_name = "redox-killed" }`);
  try {
    await lua.run(`db:run("CREATE TABLE killed (n int)")`);
    const running = lua.run(`local inner
    local r, err = db:transaction(function(tx)
      tx:run("INSERT INTO killed VALUES (1)")
      local me = tx:get("SELECT pg_backend_pid() AS pid").pid
      db:run("CREATE TABLE killed_ready (pid int)") db:run("INSERT INTO killed_ready VALUES ($1)", me)
      -- Wait (on the database, through db) until the test has terminated this transaction's backend.
      while db:get("SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1", me).n > 0 do redox.sleep(0.02) end
      local r2, err2 = tx:run("INSERT INTO killed VALUES (2)")
      inner = err2 and err2.code
      return "fn returned"
    end)
    return {r == nil, err and err.code, inner}`);
    await until('the transaction to be open', async () => (await admin.query("SELECT to_regclass('killed_ready') IS NOT NULL AS ok")).rows[0].ok &&
      (await admin.query('SELECT count(*)::int AS n FROM killed_ready')).rows[0].n === 1);
    await admin.query('SELECT pg_terminate_backend(pid) FROM killed_ready');
    const out = await running.then((v) => ({ ok: true, v }), (e: Error) => ({ ok: false, v: e.message }));
    // The statement after the kill failed (nil, err); then the transaction could not commit: nil, err.
    assert.equal(out.ok, true, String(out.v));
    const [failed, code, innerCode] = out.v as [boolean, string, string];
    assert.equal(failed, true);
    assert.match(innerCode, /^(connection_lost|57P01)$/);
    assert.match(code, /^(connection_lost|57P01|25P02)$/);
    assert.equal((await admin.query('SELECT count(*)::int AS n FROM killed')).rows[0].n, 0, 'nothing committed');
    assert.equal(await lua.run(`return db:get("SELECT 1 AS n").n`), 1);
    assert.equal(await lua.run(`local s = db:stats() return s.total == s.idle`), true);
  } finally {
    await lua.close();
  }
});

test('500 concurrent requests wait on queries together; the pool max caps server connections', async () => {
  const app = `
local db = postgres.connect(redox.env("PG_TEST_URL"), { max = 10, application_name = "redox-conc" })
local waiting = 0
local app = redox.router()
app:get("/q/:n", function(req)
  waiting = waiting + 1
  -- Blocks until the test releases its advisory lock: every request waits at once.
  local row, err = db:get("SELECT $1::int AS n, pg_advisory_lock_shared(42) IS NULL AS locked", tonumber(req.params.n))
  if row then db:get("SELECT pg_advisory_unlock_shared(42)") end
  waiting = waiting - 1
  if not row then return { status = 503, json = { error = err.message } } end
  return { json = { n = row.n } }
end)
app:get("/waiting", function() return { json = { waiting = waiting } } end)
return app`;
  process.env.PG_TEST_URL = server.url;
  await admin.query('SELECT pg_advisory_lock(42)');
  const service = await serveLua(app, ['postgres']);
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  try {
    const N = 500;
    const all = Promise.all(Array.from({ length: N }, (_, i) => httpGet(`${service.url}/q/${i}`, agent)));
    // Every request is inside its handler, suspended on the database, at the same time.
    await until('500 waiting requests', async () => JSON.parse((await httpGet(`${service.url}/waiting`, agent)).body).waiting === N);
    assert.equal(await backends('redox-conc'), 10, 'the pool opened exactly max connections');
    let peak = 0;
    let sampling = false; // one query at a time on the admin connection
    const sampler = setInterval(() => {
      if (sampling) return;
      sampling = true;
      void backends('redox-conc').then((n) => (peak = Math.max(peak, n))).finally(() => (sampling = false));
    }, 5);
    await admin.query('SELECT pg_advisory_unlock(42)');
    const results = await all;
    clearInterval(sampler);
    assert.deepEqual(results.map((r) => r.status), Array(N).fill(200));
    assert.deepEqual(results.map((r) => JSON.parse(r.body).n), Array.from({ length: N }, (_, i) => i));
    assert.ok(peak <= 10, `at most max connections, saw ${peak}`);
    assert.equal(JSON.parse((await httpGet(`${service.url}/waiting`, agent)).body).waiting, 0);
  } finally {
    await admin.query('SELECT pg_advisory_unlock_all()');
    agent.destroy();
    await service.close();
    delete process.env.PG_TEST_URL;
  }
  // Closing the service closed its pool.
  await until('pool closed', async () => (await backends('redox-conc')) === 0);
});

test('pool exhaustion: requests wait for a connection, then fail with a clear timeout', async () => {
  const lua = await withDb(`{ max = 2, connect_timeout = 1, application_name = "redox-exhaust" }`);
  try {
    // Open both connections first, so the wait below is for a free one, not for a new one.
    await lua.run(`db:get("SELECT 1")`);
    await admin.query('SELECT pg_advisory_lock(7)');
    const holders = [1, 2].map(() => lua.run(`return db:get("SELECT pg_advisory_lock_shared(7) IS NULL AS x, 1 AS held").held`));
    await until('both connections busy', async () => (await backends('redox-exhaust')) === 2 &&
      (await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'redox-exhaust' AND wait_event_type = 'Lock'")).rows[0].n === 2);
    const third = await lua.run(`local r, err = db:get("SELECT 3 AS n") return {r == nil, err.code, err.message, err.pool_max}`) as unknown[];
    assert.deepEqual(third.slice(0, 2), [true, 'timeout']);
    assert.match(String(third[2]), /no pooled connection became free within 1 s \(all 2 of max= are busy\); raise max=/);
    assert.equal(third[3], 2);
    await admin.query('SELECT pg_advisory_unlock(7)');
    assert.deepEqual(await Promise.all(holders), [1, 1]);
    // Free again: the next query gets a connection.
    assert.equal(await lua.run(`return db:get("SELECT 4 AS n").n`), 4);
    assert.equal(await backends('redox-exhaust'), 2);
  } finally {
    await admin.query('SELECT pg_advisory_unlock_all()');
    await lua.close();
  }
});

test('statement_timeout cancels a slow query with SQLSTATE 57014', async () => {
  const lua = await withDb(`{ statement_timeout = 0.2 }`);
  try {
    assert.deepEqual(await lua.run(`local r, err = db:get("SELECT pg_sleep(5)") return {r == nil, err.code}`), [true, '57014']);
    assert.equal(await lua.run(`return db:get("SELECT 1 AS n").n`), 1);
  } finally {
    await lua.close();
  }
});

test('connection failures: refused, wrong password, bad URL', async () => {
  const lua = await luaWith(['postgres']);
  try {
    const port = await freePort();
    const refused = await lua.run(`local db = postgres.connect("postgres://postgres:x@127.0.0.1:${port}/postgres") local r, err = db:get("SELECT 1") return {r == nil, err.code, err.message}`) as unknown[];
    assert.deepEqual(refused.slice(0, 2), [true, 'connection_refused']);
    assert.match(String(refused[2]), new RegExp(`127\\.0\\.0\\.1:${port}/postgres: connection refused; is the server running`));
    const wrong = server.url.replace(server.password, 'wrong-password');
    assert.deepEqual(await lua.run(`local db = postgres.connect(${lit(wrong)}) local r, err = db:query("SELECT 1") return {r == nil, err.code}`), [true, 'auth_failed']);
    await assert.rejects(lua.run(`postgres.connect("mysql://x@y/z")`), /postgres.connect: "mysql:\/\/x@y\/z" is not a postgres URL; use postgres:\/\/user:password@host:5432\/database/);
    await assert.rejects(lua.run(`postgres.connect({ hots = "x" })`), /postgres.connect: unknown option 'hots'/);
    await assert.rejects(lua.run(`postgres.connect({ max = 0 })`), /postgres.connect: max must be an integer >= 1/);
    // Options instead of a URL.
    assert.equal(await lua.run(`local db = postgres.connect({ host = "127.0.0.1", port = ${server.port}, user = "postgres", password = ${lit(server.password)}, database = "postgres" })
      return db:get("SELECT current_user AS u").u`), 'postgres');
  } finally {
    await lua.close();
  }
});

test('connect() with the same settings shares one pool; close() ends it', async () => {
  const lua = await withDb(`{ application_name = "redox-share" }`);
  try {
    assert.equal(await lua.run(`local a = postgres.connect(${lit(server.url)}, { application_name = "redox-share" })
      a:get("SELECT 1") db:get("SELECT 1")
      return a:stats().total`), 1);
    assert.match(String(await lua.run(`return tostring(db)`)), /^postgres\.db\(127\.0\.0\.1:\d+\/postgres\)$/);
    await lua.run(`db:close()`);
    assert.equal(await lua.run(`return db:is_open()`), false);
    await assert.rejects(lua.run(`db:query("SELECT 1")`), /db:query: the database was closed/);
    await until('pool closed', async () => (await backends('redox-share')) === 0);
  } finally {
    await lua.close();
  }
});

test('the server stopped mid-run: nil, err, then recovery when it is back', async () => {
  const lua = await withDb(`{ connect_timeout = 5 }`);
  try {
    assert.equal(await lua.run(`return db:get("SELECT 1 AS n").n`), 1);
    await server.stop();
    const down = await lua.run(`local r, err = db:get("SELECT 1 AS n") return {r == nil, err.code}`) as unknown[];
    assert.equal(down[0], true);
    assert.ok(['connection_lost', 'connection_refused', '57P01'].includes(String(down[1])), `code ${down[1]}`);
    // Still down: refused now.
    assert.deepEqual(await lua.run(`local r, err = db:get("SELECT 1 AS n") return {r == nil, err.code}`), [true, 'connection_refused']);
    await server.start();
    assert.equal(await lua.run(`return db:get("SELECT 2 AS n").n`), 2);
    // The admin connection was cut too: reconnect it for the hooks.
    await admin.end().catch(() => {});
    admin = connectAdmin();
    await admin.connect();
  } finally {
    await lua.close();
  }
});

test('the README example runs as written', async () => {
  const readme = fs.readFileSync(path.join(ROOT, 'features', 'postgres', 'README.md'), 'utf8');
  const example = /## Example[\s\S]*?```lua\n([\s\S]*?)```/.exec(readme)![1];
  assert.ok(example.includes('redox.env("DATABASE_URL")'));
  process.env.DATABASE_URL = server.url;
  const service = await serveLua(example, ['postgres']);
  try {
    const post = (body: unknown) => fetch(`${service.url}/todos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const created = await post({ title: "buy milk'; DROP TABLE todos; --" });
    assert.equal(created.status, 201);
    const todo = await created.json() as { id: number; title: string; done: boolean; created_at: string };
    assert.equal(todo.title, "buy milk'; DROP TABLE todos; --");
    assert.equal(todo.done, false);
    assert.match(todo.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.equal((await post({ title: "buy milk'; DROP TABLE todos; --" })).status, 409);
    assert.equal((await post({})).status, 400);
    const done = await fetch(`${service.url}/todos/${todo.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ done: true }) });
    assert.equal(done.status, 200);
    assert.equal((await done.json() as { done: boolean }).done, true);
    assert.deepEqual((await (await fetch(`${service.url}/todos`)).json() as { id: number }[]).map((t) => t.id), [todo.id]);
    assert.equal((await fetch(`${service.url}/todos/99999`)).status, 404);
    assert.equal((await fetch(`${service.url}/todos/${todo.id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await fetch(`${service.url}/todos/${todo.id}`)).status, 404);
  } finally {
    await service.close();
    delete process.env.DATABASE_URL;
  }
});
