// A barrage of hostile input over raw TCP. Each case states the outcome it expects; after all
// of them the server must still answer a normal request correctly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { serveLua } from './support/harness';

const APP = String.raw`
local db = sqlite.open(":memory:")
db:exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
local app = redox.router()
app:get("/", function() return "ok" end)
app:post("/json", function(req) local v = req:json() return { json = { type = type(v) } } end)
app:post("/notes", function(req)
  local body = req:body()
  local r = db:run("INSERT INTO notes (body) VALUES (?)", body)
  return { status = 201, json = { id = r.last_insert_rowid } }
end)
app:get("/notes/:id", function(req)
  local row = db:get("SELECT body FROM notes WHERE id = ?", req.params.id)
  if not row then redox.abort(404, "no such note") end
  return row.body
end)
app:get("/count", function() return tostring(db:get("SELECT count(*) AS n FROM notes").n) end)
app:get("/echo-header", function(req) return { headers = { ["x-echo"] = req.headers["x-in"] or "" }, body = "e" } end)
return app
`;

let s: Awaited<ReturnType<typeof serveLua>>;
let port: number;
before(async () => {
  s = await serveLua(APP, ['sqlite'], { limits: { headersTimeoutMs: '1s', requestTimeoutMs: '2s', bodyBytes: '64KiB' } });
  port = Number(new URL(s.url).port);
});
after(() => s.close());

/** Sends raw bytes (optionally in timed pieces) and returns what the server answered. */
function raw(pieces: (string | Buffer)[], gapMs = 0, waitMs = 3000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    sock.on('data', (d) => (text += d.toString('latin1')));
    sock.on('close', () => { closed = true; resolve({ text, closed }); });
    sock.on('error', () => undefined);
    sock.on('connect', async () => {
      for (const p of pieces) {
        if (sock.destroyed) break;
        sock.write(p);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
    setTimeout(() => { sock.destroy(); resolve({ text, closed }); }, waitMs);
  });
}

const status = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);

test('malformed request lines and invalid methods are 400, not crashes', async () => {
  for (const line of ['GARBAGE\r\n\r\n', 'GET\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'G@T / HTTP/1.1\r\nHost: x\r\n\r\n', '\x00\x01\x02 / HTTP/1.1\r\n\r\n', 'GET /' + ' '.repeat(10) + 'x HTTP/1.1\r\n\r\n']) {
    const r = await raw([line]);
    assert.equal(status(r.text), 400, JSON.stringify(line));
  }
});

test('an unknown but well-formed method gets 400 from the parser or 404/405 from the router', async () => {
  const r = await raw(['BREW / HTTP/1.1\r\nHost: x\r\n\r\n']);
  assert.ok([400, 405].includes(status(r.text)), r.text.slice(0, 40));
});

test('header injection: CR/LF inside a header value never reaches a response header', async () => {
  const r = await raw(['GET /echo-header HTTP/1.1\r\nHost: x\r\nX-In: a\rInjected: yes\r\n\r\n']);
  assert.equal(status(r.text), 400);
  assert.doesNotMatch(r.text, /\r\nInjected:/i);
  const ok = await fetch(s.url + '/echo-header', { headers: { 'x-in': 'plain' } });
  assert.equal(ok.headers.get('x-echo'), 'plain');
});

test('oversized URL, headers and body: 414, 431, 413', async () => {
  assert.equal(status((await raw([`GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`])).text), 414);
  assert.equal(status((await raw([`GET / HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'v'.repeat(40)}`).join('\r\n')}\r\n\r\n`])).text), 431);
  assert.equal(status((await raw([`POST /notes HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\nabc`])).text), 413);
});

test('chunked-encoding abuse: bad sizes, both length headers, endless chunks', async () => {
  const bad = await raw(['POST /notes HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n']);
  assert.equal(status(bad.text), 400);
  const smuggle = await raw(['POST /notes HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /count HTTP/1.1\r\nHost: x\r\n\r\n']);
  assert.equal(status(smuggle.text), 400, 'request smuggling shape is refused');
  const huge = await raw(['POST /notes HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', ...Array.from({ length: 40 }, () => `800\r\n${'a'.repeat(0x800)}\r\n`)]);
  assert.equal(status(huge.text), 413, 'chunked body over the limit');
  const overflow = await raw(['POST /notes HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n']);
  assert.equal(status(overflow.text), 400);
});

test('slowloris: a client that trickles headers is disconnected before it finishes', async () => {
  // 200 pieces 100 ms apart would take 20 s; the headers timeout is 1 s (a hang guard at 25 s).
  const pieces = ['GET / HTTP/1.1\r\n', ...Array.from({ length: 200 }, (_, i) => `X-Slow-${i}: y\r\n`)];
  const r = await raw(pieces, 100, 25_000);
  assert.ok(r.closed, 'connection closed by the server');
  assert.ok(r.text === '' || status(r.text) === 408, r.text.slice(0, 40));
});

test('invalid UTF-8 and deeply nested JSON bodies are 400, never a crash', async () => {
  const cases: Buffer[] = [
    Buffer.from([0x22, 0xff, 0xfe, 0x22]),
    Buffer.from('['.repeat(30_000) + ']'.repeat(30_000)),
    Buffer.from('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)),
    Buffer.from('{"a": tru'),
    Buffer.from([0xc0, 0x80]),
  ];
  for (const body of cases) {
    const res = await fetch(s.url + '/json', { method: 'POST', body });
    assert.equal(res.status, 400, body.subarray(0, 12).toString('latin1'));
  }
  const fine = await fetch(s.url + '/json', { method: 'POST', body: '{"nested":[[[1]]]}' });
  assert.deepEqual(await fine.json(), { type: 'table' });
});

test('SQL injection strings through sqlite parameters are stored verbatim', async () => {
  const attacks = ["'; DROP TABLE notes; --", "1 OR 1=1", "\" OR \"\"=\"", "'); DELETE FROM notes WHERE ('1'='1", "\u0000NUL\u0000", 'Robert\'); DROP TABLE Students;--'];
  for (const a of attacks) {
    const res = await fetch(s.url + '/notes', { method: 'POST', body: a });
    assert.equal(res.status, 201);
    const { id } = await res.json() as { id: number };
    assert.equal(await (await fetch(`${s.url}/notes/${id}`)).text(), a);
  }
  assert.equal((await fetch(`${s.url}/notes/1%20OR%201=1`)).status, 404, 'a path parameter is a value, not SQL');
  assert.ok(Number(await (await fetch(s.url + '/count')).text()) >= attacks.length, 'the table survived');
});

test('after the barrage the server answers a normal request correctly', async () => {
  const res = await fetch(s.url + '/');
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'ok');
});
