// `redox test` through the real CLI: discovery, one fresh VM per file, the in-process client,
// assertion messages, feature selection, filters, reporters and exit codes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnRedox, tempDir } from './support/harness';

async function redox(args: string[], cwd: string) {
  const p = spawnRedox(args, { cwd, env: { NO_COLOR: '1', REDOX_LOG_LEVEL: 'warn' } });
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

function project(files: Record<string, string>): string {
  const dir = tempDir('redox-test-cmd-');
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

const APP = `
local app = redox.router()
local hits = 0
app:get("/users/:id", function(req)
  hits = hits + 1
  return { json = { id = tonumber(req.params.id), auth = req.headers["authorization"], q = req.query.q, hits = hits } }
end)
app:post("/echo", function(req) return { status = 201, headers = { ["x-kind"] = "echo" }, json = req:json() } end)
app:delete("/users/:id", function() return nil end)
app:get("/cookies", function() return { headers = { ["set-cookie"] = { "a=1", "b=2" } }, body = "ok" } end)
app:get("/boom", function() error("kaboom") end)
return app
`;

const PASSING = `
test("GET with headers and query", function()
  local res = t.get("/users/7", { headers = { Authorization = "Bearer x" }, query = { q = "a b" } })
  t.status(res, 200)
  t.eq(res:json(), { id = 7, auth = "Bearer x", q = "a b", hits = 1 })
  t.eq(res.headers["content-type"], "application/json; charset=utf-8")
end)
test("POST json, PUT-less DELETE, repeated headers", function()
  local res = t.post("/echo", { json = { list = { 1, 2 }, name = "Ada" } })
  t.status(res, 201)
  t.eq(res.headers["x-kind"], "echo")
  t.eq(res:json(), { list = { 1, 2 }, name = "Ada" })
  t.status(t.delete("/users/1"), 204)
  t.eq(t.get("/cookies").headers["set-cookie"], { "a=1", "b=2" })
  t.status(t.patch("/users/1"), 405)
end)
describe("group", function()
  local order = {}
  before_each(function() order[#order + 1] = "before" end)
  after_each(function() order[#order + 1] = "after" end)
  it("runs hooks around each test", function() t.eq(order, { "before" }) end)
  it("in order", function() t.eq(order, { "before", "after", "before" }) end)
end)
test("raises, match, neq, ok", function()
  local err = t.raises(function() redox.abort(404, "no such user") end, "no such user")
  t.eq(err.status, 404)
  t.match("hello world", "wor")
  t.neq({ 1 }, { 2 })
  t.ok(true)
end)
t.skip("not yet", function() error("never runs") end)
`;

describe('redox test', () => {
  it('discovers test files, runs each in a fresh VM and reports one line per test with a summary', { timeout: 180_000 }, async () => {
    const dir = project({
      'app.lua': APP,
      'users_test.lua': PASSING,
      // A fresh VM per file: the app's counter and the globals of the file before start over.
      'a_first_test.lua': 'LEAK = true\ntest("counts", function() t.get("/users/1") t.eq(t.get("/users/1"):json().hits, 2) end)',
      'spec/second.test.lua': 'test("fresh VM", function() t.eq(LEAK, nil) t.eq(t.get("/users/1"):json().hits, 1) end)',
      'test/helpers_are_tests_too.lua': 'test("in test/", function() t.ok(true) end)',
      'node_modules/pkg/x_test.lua': 'test("never", function() error("node_modules is not searched") end)',
      'lib/util.lua': 'return {}',
    });
    const r = await redox(['test'], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.split('\n').filter((l) => /^(ok|FAIL|skip) /.test(l));
    assert.deepEqual(lines.map((l) => l.replace(/ \([\d.]+ ms\)$/, '')), [
      'ok   a_first_test.lua > counts',
      'ok   spec/second.test.lua > fresh VM',
      'ok   test/helpers_are_tests_too.lua > in test/',
      'ok   users_test.lua > GET with headers and query',
      'ok   users_test.lua > POST json, PUT-less DELETE, repeated headers',
      'ok   users_test.lua > group > runs hooks around each test',
      'ok   users_test.lua > group > in order',
      'ok   users_test.lua > raises, match, neq, ok',
      'skip users_test.lua > not yet',
    ]);
    assert.match(r.stdout, /^8 passed, 0 failed, 1 skipped \(4 files, \d+ ms\)$/m);
    // Paths narrow the search; --filter matches the full name.
    const one = await redox(['test', 'users_test.lua', '--filter', 'group >'], dir);
    assert.equal(one.code, 0, one.stdout + one.stderr);
    assert.match(one.stdout, /^2 passed, 0 failed, 0 skipped \(1 file/m);
    const none = await redox(['test', '--filter', 'no such test'], dir);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no test matched --filter "no such test"/);
  });

  it('exits 1 on failure and explains each: a diff, the status with the handler error, the line', { timeout: 180_000 }, async () => {
    const dir = project({
      'app.lua': APP,
      'fail_test.lua': [
        'test("diff", function() t.eq(t.get("/users/2"):json(), { id = 2, auth = "x", hits = 1 }) end)',
        'test("status", function() t.status(t.get("/boom"), 200) end)',
        'test("lua error", function() local x = nil; return x.field end)',
        'test("raises wrong error", function() t.raises(function() error("other") end, "expected text") end)',
        'test("passes", function() t.ok(1) end)',
      ].join('\n'),
      'broken_test.lua': 'test("never", function() end)\nthis is not lua',
    });
    const r = await redox(['test'], dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /FAIL fail_test\.lua > diff \([\d.]+ ms\)\n +expected values to be equal\n +first difference at auth: expected "x", got nil\n +expected: \{ auth = "x", hits = 1, id = 2 \}\n +actual: +\{ hits = 1, id = 2 \}\n +at fail_test\.lua:1\n/);
    assert.match(r.stdout, /FAIL fail_test\.lua > status .*\n +expected status 200, got 500\n +body: .*internal server error.*\n +handler error: app\.lua:11: kaboom\n/);
    assert.match(r.stdout, /FAIL fail_test\.lua > lua error .*\n +fail_test\.lua:3: attempt to index a nil value \(local 'x'\)/);
    assert.match(r.stdout, /FAIL fail_test\.lua > raises wrong error .*\n +expected an error matching "expected text", got ".*other"\n +at fail_test\.lua:4/);
    assert.match(r.stdout, /ok   fail_test\.lua > passes/);
    assert.match(r.stdout, /FAIL broken_test\.lua\n +broken_test\.lua failed while loading \(before its tests ran\): .*broken_test\.lua:2: syntax error/);
    assert.match(r.stdout, /^1 passed, 5 failed, 0 skipped \(2 files/m);
  });

  it('uses the features serve would: --features, --distro and redox.json', { timeout: 180_000 }, async () => {
    const dir = project({
      'uses_test.lua': 'test("uuid", function() t.ok(uuid.v4()) end)\ntest("sqlite", function() t.ok(sqlite.open(":memory:")) end)',
    });
    const all = await redox(['test'], dir);
    assert.equal(all.code, 0, all.stdout + all.stderr);
    const narrow = await redox(['test', '--features', 'uuid'], dir);
    assert.equal(narrow.code, 1);
    assert.match(narrow.stdout, /FAIL uses_test\.lua > sqlite .*\n +uses_test\.lua:2: feature "sqlite" is not included in this build \(features: uuid\)/);
    fs.writeFileSync(path.join(dir, 'redox.json'), JSON.stringify({ features: ['sqlite'] }));
    const fromProject = await redox(['test'], dir);
    assert.equal(fromProject.code, 1);
    assert.match(fromProject.stdout, /FAIL uses_test\.lua > uuid .*\n +uses_test\.lua:1: feature "uuid" is not included/);
    assert.match(fromProject.stdout, /ok   uses_test\.lua > sqlite/);
  });

  it('writes TAP and JUnit for CI', { timeout: 180_000 }, async () => {
    const dir = project({
      'app.lua': APP,
      'a_test.lua': 'print("hello from a test")\ntest("passes", function() t.status(t.get("/users/1"), 200) end)\ntest("fails # hash", function() t.eq(1, 2) end)\nt.skip("later")',
    });
    const tap = await redox(['test', '--reporter', 'tap'], dir);
    assert.equal(tap.code, 1);
    assert.equal(tap.stdout, [
      'TAP version 13',
      '# hello from a test',
      'ok 1 - a_test.lua > passes',
      'not ok 2 - a_test.lua > fails \\# hash',
      '  ---',
      '  message: |-',
      '    expected values to be equal',
      '      expected: 2',
      '      actual:   1',
      '  at: |-',
      '    at a_test.lua:3',
      '  ...',
      'ok 3 - a_test.lua > later # SKIP',
      '1..3',
      '# pass 1',
      '# fail 1',
      '# skip 1',
      '',
    ].join('\n'));
    const out = path.join(dir, 'results.xml');
    const junit = await redox(['test', '--reporter', 'junit', '--output', out], dir);
    assert.equal(junit.code, 1);
    assert.match(junit.stdout, /^FAIL a_test\.lua > fails # hash/m, 'the console still shows the spec lines');
    const xml = fs.readFileSync(out, 'utf8');
    assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="redox test" tests="3" failures="1" skipped="1" time="[\d.]+">\n  <testsuite name="a_test\.lua" tests="3" failures="1" errors="0" skipped="1"/);
    assert.match(xml, /<testcase classname="a_test\.lua" name="passes" time="[\d.]+"\/>/);
    assert.match(xml, /<testcase classname="a_test\.lua" name="fails # hash" time="[\d.]+">\n +<failure message="expected values to be equal">expected values to be equal\n +expected: 2\n +actual: +1\nat a_test\.lua:3<\/failure>/);
    assert.match(xml, /<system-out>hello from a test\n<\/system-out>/);
  });

  it('says clearly when there is nothing to test or no app to call', { timeout: 180_000 }, async () => {
    const empty = project({ 'README.md': 'nothing here' });
    const none = await redox(['test'], empty);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /REDOX_TEST_NOT_FOUND/);
    assert.match(none.stderr, /\*_test\.lua/);
    const missing = await redox(['test', 'nope_test.lua'], empty);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope_test\.lua does not exist/);
    const badReporter = await redox(['test', '--reporter', 'xml'], empty);
    assert.equal(badReporter.code, 2);
    const noApp = project({ 'unit_test.lua': 'test("pure", function() t.eq(1 + 1, 2) end)\ntest("http", function() t.get("/") end)' });
    const r = await redox(['test'], noApp);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /ok   unit_test\.lua > pure/);
    assert.match(r.stdout, /FAIL unit_test\.lua > http .*\n +unit_test\.lua:2: no app to send requests to: pass --app app\.lua/);
    // --app picks another file; a module that is not an app fails to load, reported per file.
    fs.writeFileSync(path.join(noApp, 'svc.lua'), 'get("/", function() return "hi" end)');
    const withApp = await redox(['test', '--app', 'svc.lua', '--filter', 'http'], noApp);
    assert.equal(withApp.code, 0, withApp.stdout + withApp.stderr);
  });
});
