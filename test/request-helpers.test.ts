// Request and response helpers over real HTTP: req.cookies and the cookies response field,
// req:form() (urlencoded and multipart, with its bad-input answers), redox.cors and
// redox.html.escape.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { serveLua } from './support/harness';
import { Service } from '../core/runtime/launch';
import { memoryLogger } from './support/harness';

const APP = String.raw`
local app = redox.router()
app:get("/cookies", function(req) return { json = { cookies = req.cookies, secure = req.secure } } end)
app:get("/set", function(req)
  return { headers = { ["set-cookie"] = "legacy=1" }, body = "ok", cookies = {
    sid = "s3cret value;x",
    theme = { value = "dark", max_age = 3600, path = "/app", domain = "example.com", same_site = "Strict", http_only = false },
    cross = { value = "1", same_site = "None" },
    plain = { value = "p", same_site = false, http_only = false, path = false },
    dated = { value = "d", expires = 0 },
    gone = false,
  } }
end)
app:get("/bad-cookie", function() return { body = "x", cookies = { ["bad name"] = "v" } } end)
app:get("/bad-cookie-option", function() return { body = "x", cookies = { a = { value = "v", maxage = 3 } } } end)
app:post("/form", function(req)
  local limits = req.query.max and { max_file_size = tonumber(req.query.max), max_field_size = tonumber(req.query.max) } or nil
  local f = req:form(limits)
  local files = {}
  for name, file in pairs(f.files) do files[name] = { filename = file.filename, content_type = file.content_type, data = file.content_type == "image/png" and file.data or nil, size = #file.data } end
  return { json = { fields = f.fields, files = files, count = #f.file_list } }
end)
local api = redox.router()
api:use(redox.cors{ origins = { "https://app.example", "https://admin.example" }, methods = { "GET", "POST" },
  headers = { "content-type", "authorization" }, expose = { "x-total" }, credentials = true, max_age = 600 })
api:get("/api/data", function() return { headers = { ["x-total"] = "3", vary = "Accept" }, json = { ok = true } } end)
local open = redox.router()
open:use(redox.cors())
open:get("/open/data", function() return "open" end)
app:get("/escape", function(req) return { headers = { ["content-type"] = "text/html" }, body = "<p>" .. redox.html.escape(req.query.s) .. "</p>" } end)
app:get("/escape-types", function() return { json = { n = redox.html.escape(42), nilv = redox.html.escape(nil) } } end)
return function(req)
  if req.path:sub(1, 5) == "/api/" then return api:handle(req) end
  if req.path:sub(1, 6) == "/open/" then return open:handle(req) end
  return app:handle(req)
end
`;

let url: string;
let service: Service & { log: ReturnType<typeof memoryLogger> };

before(async () => {
  service = await serveLua(APP, [], { limits: { bodyBytes: '64KiB' } });
  url = service.url;
});
after(() => service.close());

function request(p: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url + p, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function multipart(boundary: string, parts: { name: string; value: string | Buffer; filename?: string; type?: string }[], end = true): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}\r\n` +
      (p.type ? `Content-Type: ${p.type}\r\n` : '') + '\r\n'));
    chunks.push(Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value));
    chunks.push(Buffer.from('\r\n'));
  }
  if (end) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

test('req.cookies parses the Cookie header and skips malformed pairs instead of failing', async () => {
  const res = await request('/cookies', { headers: { cookie: 'a=1; novalue; =anon; b="quoted%20v"; bad name=x; a=2; c=%zz; d=; e=x=y' } });
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.text), { cookies: { a: '1', b: 'quoted v', c: '%zz', d: '', e: 'x=y' }, secure: false });
  const none = await request('/cookies');
  assert.deepEqual(JSON.parse(none.text).cookies, {});
  const garbage = await request('/cookies', { headers: { cookie: ';;;===;\t' } });
  assert.equal(garbage.status, 200);
});

test('the cookies response field: secure defaults, every option, deletion, kept beside set-cookie headers', async () => {
  const res = await request('/set');
  assert.equal(res.status, 200);
  assert.deepEqual(res.headers['set-cookie'], [
    'legacy=1',
    'cross=1; Path=/; HttpOnly; SameSite=None; Secure',
    'dated=d; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax',
    'gone=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax',
    'plain=p',
    'sid=s3cret%20value%3Bx; Path=/; HttpOnly; SameSite=Lax',
    'theme=dark; Path=/app; Domain=example.com; Max-Age=3600; SameSite=Strict',
  ]);
  // What the server sets, the parser reads back.
  const back = await request('/cookies', { headers: { cookie: 'sid=s3cret%20value%3Bx' } });
  assert.equal(JSON.parse(back.text).cookies.sid, 's3cret value;x');
});

test('an invalid cookie in a response is a 500 with the reason in the log', async () => {
  for (const [p, why] of [['/bad-cookie', /cookie 'bad name': the name must be a token/], ['/bad-cookie-option', /cookie 'a': unknown option 'maxage'/]] as const) {
    const res = await request(p);
    assert.equal(res.status, 500);
    assert.ok(service.log.lines.some((l) => why.test(l)), `log explains ${p}`);
  }
});

test('req:form() reads urlencoded bodies (repeated names become lists)', async () => {
  const res = await request('/form', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=Ada+Lovelace&tag=a&tag=b&empty=&enc=%C3%A9%26' });
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.text), { fields: { name: 'Ada Lovelace', tag: ['a', 'b'], empty: '', enc: 'é&' }, files: {}, count: 0 });
});

test('req:form() reads multipart fields and files (binary-safe)', async () => {
  const bytes = Buffer.from([0, 1, 2, 255, 13, 10, 45, 45]);
  const body = multipart('XyZ', [
    { name: 'title', value: 'hello' },
    { name: 'avatar', value: 'PNGDATA', filename: 'me.png', type: 'image/png' },
    { name: 'blob', value: bytes, filename: 'b.bin', type: 'application/octet-stream' },
    { name: 'avatar', value: 'second', filename: 'two.png', type: 'image/png' },
  ]);
  const res = await request('/form', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=XyZ' }, body });
  assert.equal(res.status, 200);
  const out = JSON.parse(res.text);
  assert.deepEqual(out.fields, { title: 'hello' });
  assert.deepEqual(out.files.avatar, { filename: 'me.png', content_type: 'image/png', data: 'PNGDATA', size: 7 });
  assert.equal(out.files.blob.size, bytes.length);
  assert.equal(out.count, 3);
});

test('req:form() bad input: no boundary 400, truncated 400, part over the limit 413, body over --max-body 413, not a form 415', async () => {
  const noBoundary = await request('/form', { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'x' });
  assert.equal(noBoundary.status, 400);
  assert.match(JSON.parse(noBoundary.text).error, /invalid form body: .*boundary/i);
  const truncated = await request('/form', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=B' }, body: multipart('B', [{ name: 'a', value: 'cut here' }], false).subarray(0, 60) });
  assert.equal(truncated.status, 400);
  assert.match(JSON.parse(truncated.text).error, /invalid form body: Unexpected end of form/);
  const bigFile = await request('/form?max=100', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=B' }, body: multipart('B', [{ name: 'f', value: Buffer.alloc(500, 'x'), filename: 'big.txt' }]) });
  assert.equal(bigFile.status, 413);
  assert.match(JSON.parse(bigFile.text).error, /uploaded file "big.txt" is larger than 100 bytes/);
  const bigField = await request('/form?max=100', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'f=' + 'x'.repeat(500) });
  assert.equal(bigField.status, 413);
  assert.match(JSON.parse(bigField.text).error, /form field "f" is larger than 100 bytes/);
  const overBody = await request('/form', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=B' }, body: multipart('B', [{ name: 'f', value: Buffer.alloc(70 * 1024, 'x'), filename: 'huge' }]) });
  assert.equal(overBody.status, 413);
  assert.match(JSON.parse(overBody.text).error, /request body larger than 65536 bytes/);
  const json = await request('/form', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(json.status, 415);
  assert.match(JSON.parse(json.text).error, /expected a form body/);
});

test('redox.cors answers preflights for allowed origins and refuses others without CORS headers', async () => {
  const pre = await request('/api/data', { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example');
  assert.equal(pre.headers['access-control-allow-methods'], 'GET, POST');
  assert.equal(pre.headers['access-control-allow-headers'], 'content-type, authorization');
  assert.equal(pre.headers['access-control-allow-credentials'], 'true');
  assert.equal(pre.headers['access-control-max-age'], '600');
  assert.match(pre.headers.vary as string, /Origin/);
  const refused = await request('/api/data', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
  assert.equal(refused.status, 204);
  assert.equal(refused.headers['access-control-allow-origin'], undefined);
  // A plain OPTIONS (no preflight headers) is routed as usual.
  assert.equal((await request('/api/data', { method: 'OPTIONS' })).status, 204);
});

test('redox.cors adds headers to real responses of allowed origins, merges Vary, and "*" without credentials', async () => {
  const ok = await request('/api/data', { headers: { origin: 'https://admin.example' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['access-control-allow-origin'], 'https://admin.example');
  assert.equal(ok.headers['access-control-allow-credentials'], 'true');
  assert.equal(ok.headers['access-control-expose-headers'], 'x-total');
  assert.equal(ok.headers.vary, 'Accept, Origin, Accept-Encoding');
  const evil = await request('/api/data', { headers: { origin: 'https://evil.example' } });
  assert.equal(evil.status, 200);
  assert.equal(evil.headers['access-control-allow-origin'], undefined);
  const noOrigin = await request('/api/data');
  assert.equal(noOrigin.headers['access-control-allow-origin'], undefined);
  const open = await request('/open/data', { headers: { origin: 'https://anyone.example' } });
  assert.equal(open.headers['access-control-allow-origin'], '*');
  assert.equal(open.headers['access-control-allow-credentials'], undefined);
  const openPre = await request('/open/data', { method: 'OPTIONS', headers: { origin: 'https://x.example', 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'x-custom' } });
  assert.equal(openPre.headers['access-control-allow-origin'], '*');
  assert.equal(openPre.headers['access-control-allow-headers'], 'x-custom', 'without a headers option the requested ones are allowed');
});

test('redox.html.escape escapes the five HTML-significant characters', async () => {
  const res = await request('/escape?s=' + encodeURIComponent(`<script>alert("x" + 'y')</script> & more`));
  assert.equal(res.text, '<p>&lt;script&gt;alert(&quot;x&quot; + &#39;y&#39;)&lt;/script&gt; &amp; more</p>');
  assert.deepEqual(JSON.parse((await request('/escape-types')).text), { n: '42', nilv: '' });
});
