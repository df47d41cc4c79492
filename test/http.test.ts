// The app model over real HTTP: routing, params, query, JSON in/out, errors, limits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { serveLua } from './support/harness';

const APP = String.raw`
local app = redox.router()
app:use(function(req, next)
  local res = next()
  res.headers["x-middleware"] = "ran"
  return res
end)
app:get("/", function(req) return "hello" end)
app:get("/users/:id", function(req) return { json = { id = req.params.id } } end)
app:get("/users/:id/posts/:post", function(req) return { json = req.params } end)
app:get("/static/*", function(req) return req.params["*"] end)
app:get("/query", function(req) return { json = req.query } end)
app:get("/headers", function(req) return { json = { ua = req.headers["user-agent"], custom = req.headers["x-custom"] } } end)
app:post("/echo", function(req) return { status = 201, json = req:json() } end)
app:put("/raw", function(req) return { headers = { ["content-type"] = "application/octet-stream" }, body = req:body() } end)
app:patch("/thing", function() return "patched" end)
app:delete("/thing", function() return nil end)
app:options("/opts", function() return { status = 200, body = "custom options" } end)
app:all("/any", function(req) return req.method end)
app:get("/info", function(req) return { json = { method = req.method, path = req.path, id = req.id, ip = req.ip } } end)
app:get("/fail", function() error("secret internal detail") end)
app:get("/bad-status", function() return { status = 1000 } end)
app:get("/bad-header", function() return { headers = { ["x-a"] = "line\r\nInjected: yes" } } end)
app:get("/bad-header-type", function() return { headers = { ["x-a"] = {} , ["x-b"] = true } } end)
app:get("/unknown-key", function() return { stauts = 200 } end)
app:get("/bad-json", function() return { json = { f = print } } end)
app:get("/abort", function() redox.abort(404, "no such thing") end)
app:get("/empty-array", function() return { json = { items = json.array() } } end)
app:get("/multi-cookie", function() return { headers = { ["set-cookie"] = { "a=1", "b=2" } }, body = "ok" } end)
app:get("/slow", function(req) redox.sleep(tonumber(req.query.ms)) return "done" end)
return app
`;

let url: string;
let close: () => Promise<void>;
let lines: string[];

before(async () => {
  const s = await serveLua(APP, [], { limits: { bodyBytes: '64KiB', handlerTimeoutMs: '1s' } });
  url = s.url;
  close = s.close;
  lines = s.log.lines;
});
after(() => close());

test('a returned string is 200 text/plain with a request id and middleware applied', async () => {
  const res = await fetch(url + '/');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(res.headers.get('x-middleware'), 'ran');
  assert.match(res.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
  assert.equal(res.headers.get('content-length'), '5');
  assert.equal(await res.text(), 'hello');
});

test('path params are decoded and multiple params work', async () => {
  assert.deepEqual(await (await fetch(url + '/users/a%20b')).json() as Promise<any> as any, { id: 'a b' });
  assert.deepEqual(await (await fetch(url + '/users/7/posts/9')).json() as Promise<any>, { id: '7', post: '9' });
  assert.equal(await (await fetch(url + '/users/7/')).text(), '{"id":"7"}', 'trailing slash matches');
});

test('splat captures the rest of the path', async () => {
  assert.equal(await (await fetch(url + '/static/css/site.css')).text(), 'css/site.css');
});

test('query strings decode, repeat into arrays', async () => {
  const q = await (await fetch(url + '/query?a=1&b=two+words&a=2&c=%E2%9C%93&flag')).json() as Promise<any>;
  assert.deepEqual(q, { a: ['1', '2'], b: 'two words', c: '✓', flag: '' });
});

test('headers have lower-case keys', async () => {
  const h = await (await fetch(url + '/headers', { headers: { 'User-Agent': 't/1', 'X-Custom': 'v' } })).json() as Promise<any>;
  assert.deepEqual(h, { ua: 't/1', custom: 'v' });
});

test('JSON in and out', async () => {
  const body = { name: 'Alice', tags: ['a', 'b'], nested: { n: 1.5, ok: true, nothing: null }, empty: [] };
  const res = await fetch(url + '/echo', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.deepEqual((await res.json() as any), body);
});

test('invalid JSON body is a 400 with the position, not a 500', async () => {
  const res = await fetch(url + '/echo', { method: 'POST', body: '{"a": tru}' });
  assert.equal(res.status, 400);
  const j = (await res.json() as any);
  assert.match(j.error, /invalid JSON body: .*position 7/);
  assert.ok(j.request_id);
  const empty = await fetch(url + '/echo', { method: 'POST' });
  assert.equal(empty.status, 400);
});

test('binary bodies round-trip byte for byte', async () => {
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const res = await fetch(url + '/raw', { method: 'PUT', body: bytes });
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
});

test('nil is 204; PATCH and DELETE route', async () => {
  assert.equal((await fetch(url + '/thing', { method: 'PATCH' })).status, 200);
  const del = await fetch(url + '/thing', { method: 'DELETE' });
  assert.equal(del.status, 204);
  assert.equal(await del.text(), '');
});

test('404 for no route; 405 with Allow for another method', async () => {
  const nf = await fetch(url + '/nope');
  assert.equal(nf.status, 404);
  assert.equal(((await nf.json() as any)).error, 'not found');
  const na = await fetch(url + '/users/1', { method: 'POST' });
  assert.equal(na.status, 405);
  assert.equal(na.headers.get('allow'), 'GET, HEAD, OPTIONS');
});

test('HEAD is served from GET without a body; OPTIONS answers with Allow', async () => {
  const head = await fetch(url + '/', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
  const opts = await fetch(url + '/thing', { method: 'OPTIONS' });
  assert.equal(opts.status, 204);
  assert.equal(opts.headers.get('allow'), 'DELETE, OPTIONS, PATCH');
  assert.equal(await (await fetch(url + '/opts', { method: 'OPTIONS' })).text(), 'custom options');
});

test('app:all matches every method', async () => {
  assert.equal(await (await fetch(url + '/any', { method: 'PUT' })).text(), 'PUT');
  assert.equal(await (await fetch(url + '/any', { method: 'DELETE' })).text(), 'DELETE');
});

test('request fields: method, path, id, ip; an incoming x-request-id is kept', async () => {
  const res = await fetch(url + '/info?x=1', { headers: { 'x-request-id': 'trace-abc.123' } });
  const info = (await res.json() as any);
  assert.deepEqual(info, { method: 'GET', path: '/info', id: 'trace-abc.123', ip: '127.0.0.1' });
  assert.equal(res.headers.get('x-request-id'), 'trace-abc.123');
  const bad = await fetch(url + '/info', { headers: { 'x-request-id': 'bad id with spaces' } });
  assert.notEqual(((await bad.json() as any)).id, 'bad id with spaces');
});

test('a Lua error is a 500 JSON without details; the log has message and traceback; the next request works', async () => {
  const res = await fetch(url + '/fail');
  assert.equal(res.status, 500);
  const body = (await res.json() as any);
  assert.equal(body.error, 'internal server error');
  assert.equal(body.request_id, res.headers.get('x-request-id'));
  assert.doesNotMatch(JSON.stringify(body), /secret/);
  await new Promise((r) => setImmediate(r));
  const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'handler failed' && l.request_id === body.request_id);
  assert.ok(logged, 'error logged');
  assert.match(logged.error, /app\.lua:\d+: secret internal detail/);
  assert.match(logged.error, /stack traceback/);
  assert.equal((await fetch(url + '/')).status, 200);
});

test('invalid response tables are a 500 with a log line saying what was wrong', async () => {
  for (const [path, why] of [
    ['/bad-status', /status must be an integer from 100 to 599/],
    ['/bad-header', /contains CR, LF or NUL/],
    ['/bad-header-type', /must be a string/],
    ['/unknown-key', /unknown key 'stauts'/],
    ['/bad-json', /invalid response .*json\.encode: cannot encode .*function/],
  ] as const) {
    const res = await fetch(url + path);
    assert.equal(res.status, 500, path);
    assert.equal(res.headers.get('injected'), null);
    await new Promise((r) => setImmediate(r));
    const rid = res.headers.get('x-request-id');
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.request_id === rid && l.level === 'error');
    assert.match(logged.error, why, path);
  }
});

test('redox.abort answers with its status', async () => {
  const res = await fetch(url + '/abort');
  assert.equal(res.status, 404);
  assert.equal(((await res.json() as any)).error, 'no such thing');
});

test('json.array() keeps empty arrays; header lists send repeated headers', async () => {
  assert.equal(await (await fetch(url + '/empty-array')).text(), '{"items":[]}');
  const res = await fetch(url + '/multi-cookie');
  assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2']);
});

test('every request is logged once with method, path, status, duration and id', async () => {
  const res = await fetch(url + '/users/55');
  await new Promise((r) => setImmediate(r));
  const rid = res.headers.get('x-request-id');
  const entries = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request' && l.request_id === rid);
  assert.equal(entries.length, 1);
  assert.equal(entries[0].method, 'GET');
  assert.equal(entries[0].path, '/users/55');
  assert.equal(entries[0].status, 200);
  assert.equal(typeof entries[0].duration_ms, 'number');
});

test('a body over the limit is 413, by content-length and while streaming chunks', async () => {
  const big = Buffer.alloc(65 * 1024, 'a');
  const res = await fetch(url + '/echo', { method: 'POST', body: big });
  assert.equal(res.status, 413);
  // chunked: no content-length, the limit is enforced while reading
  const stream = new ReadableStream({
    start(c) {
      for (let i = 0; i < 20; i++) c.enqueue(new Uint8Array(8 * 1024));
      c.close();
    },
  });
  const chunked = await fetch(url + '/echo', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
  assert.equal(chunked.status, 413);
  assert.equal((await fetch(url + '/')).status, 200);
});

test('headers over the limit are 431', async () => {
  const res = await rawRequest(url, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
  assert.match(res, /^HTTP\/1\.1 431/);
});

test('a URL over 8 KiB is 414', async () => {
  const res = await fetch(url + '/' + 'a'.repeat(9000));
  assert.equal(res.status, 414);
});

test('a handler past the timeout is a 503 and the server keeps serving', async () => {
  const res = await fetch(url + '/slow?ms=3000');
  assert.equal(res.status, 503);
  assert.match(((await res.json() as any)).error, /did not finish within 1000 ms/);
  assert.equal(await (await fetch(url + '/slow?ms=10')).text(), 'done');
});

function rawRequest(base: string, text: string): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), '127.0.0.1', () => sock.write(text));
    let out = '';
    sock.on('data', (d) => (out += d));
    sock.on('end', () => resolve(out));
    sock.on('error', reject);
    setTimeout(() => { sock.destroy(); resolve(out); }, 2000);
  });
}

test('header checks hold on every response, also once a name or value is known good', async () => {
  // The response shaper remembers names and values that passed (at most 256 of each): the same
  // name must still be refused with a bad value, framing headers still dropped, and a bad name
  // still refused after the memory is full.
  const svc = await serveLua(String.raw`
local app = redox.router()
app:get("/ok", function() return { headers = { ["X-Kind"] = "a", ["Content-Length"] = "999" }, body = "ok" } end)
app:get("/bad-value", function() return { headers = { ["X-Kind"] = "a\r\nInjected: 1" }, body = "no" } end)
app:get("/many", function(req)
  local h = {}
  for i = 1, 300 do h["X-N" .. i] = "v" .. i end
  return { headers = h, body = "many" }
end)
app:get("/bad-name", function() return { headers = { ["Bad Name"] = "a" }, body = "no" } end)
return app
`);
  try {
    const base = svc.url;
    for (let i = 0; i < 3; i++) {
      const ok = await fetch(base + '/ok');
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('x-kind'), 'a');
      assert.equal(ok.headers.get('content-length'), '2', 'the server frames the body; the handler\'s length is dropped every time');
      assert.equal((await fetch(base + '/bad-value')).status, 500);
    }
    for (let i = 0; i < 2; i++) {
      const many = await fetch(base + '/many');
      assert.equal(many.status, 200);
      assert.equal(many.headers.get('x-n1'), 'v1');
      assert.equal(many.headers.get('x-n300'), 'v300');
      assert.equal((await fetch(base + '/bad-name')).status, 500);
    }
    await new Promise((r) => setImmediate(r));
    const errors = svc.log.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'invalid response' || l.level === 'error').map((l) => String(l.error));
    assert.equal(errors.filter((e) => /header 'X-Kind' contains CR, LF or NUL/.test(e)).length, 3, errors.join('\n'));
    assert.equal(errors.filter((e) => /invalid header name 'Bad Name'/.test(e)).length, 2, errors.join('\n'));
  } finally {
    await svc.close();
  }
});
