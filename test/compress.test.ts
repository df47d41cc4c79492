// Response compression over real HTTP: negotiation with q-values, the size threshold, types that
// are compressed already, handlers that encode themselves, Vary, and --compress off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { serveLua, spawnRedox, tempDir } from './support/harness';
import { negotiateEncoding } from '../core/runtime/http/compress';
import { resolveHttpSettings } from '../core/runtime/http/settings';
import { Service } from '../core/runtime/launch';
import fs from 'node:fs';
import path from 'node:path';

const TEXT = 'compress me please '.repeat(200);
const APP = String.raw`
local text = ${JSON.stringify(TEXT)}
local app = redox.router()
app:get("/text", function() return text end)
app:get("/json", function() local t = {} for i = 1, 200 do t[i] = { id = i, name = "item" } end return { json = t } end)
app:get("/small", function() return "tiny" end)
app:get("/png", function() return { headers = { ["content-type"] = "image/png" }, body = text } end)
app:get("/own", function() return { headers = { ["content-type"] = "text/plain", ["content-encoding"] = "identity-custom" }, body = text } end)
app:get("/vary", function() return { headers = { vary = "Origin" }, body = text } end)
app:get("/no-transform", function() return { headers = { ["cache-control"] = "no-transform" }, body = text } end)
app:get("/empty", function() return nil end)
return app
`;

let url: string;
let offUrl: string;
const servers: Service[] = [];

before(async () => {
  const on = await serveLua(APP);
  const off = await serveLua(APP, [], { http: { compress: false } });
  servers.push(on, off);
  url = on.url;
  offUrl = off.url;
});
after(async () => {
  for (const s of servers) await s.close();
});

function get(base: string, p: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.request(base + p, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject).end();
  });
}

test('Accept-Encoding negotiation honours q-values, q=0 and *', () => {
  assert.equal(negotiateEncoding('gzip, deflate, br'), 'br');
  assert.equal(negotiateEncoding('gzip;q=1, br;q=0.5'), 'gzip');
  assert.equal(negotiateEncoding('br;q=0, gzip'), 'gzip');
  assert.equal(negotiateEncoding('br;q=0, gzip;q=0'), null);
  assert.equal(negotiateEncoding('identity'), null);
  assert.equal(negotiateEncoding('*'), 'br');
  assert.equal(negotiateEncoding('*;q=0.1, gzip;q=0.5'), 'gzip');
  assert.equal(negotiateEncoding('br;q=abc, gzip'), 'gzip', 'a malformed q skips that entry');
  assert.equal(negotiateEncoding(undefined), null);
});

test('a large text response is brotli or gzip as asked, with Vary and a correct length', async () => {
  const br = await get(url, '/text', { 'accept-encoding': 'gzip, br' });
  assert.equal(br.headers['content-encoding'], 'br');
  assert.equal(br.headers.vary, 'Accept-Encoding');
  assert.equal(br.headers['content-length'], String(br.body.length));
  assert.equal(zlib.brotliDecompressSync(br.body).toString(), TEXT);
  const gz = await get(url, '/json', { 'accept-encoding': 'br;q=0.1, gzip' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(JSON.parse(zlib.gunzipSync(gz.body).toString()).length, 200);
  const none = await get(url, '/text');
  assert.equal(none.headers['content-encoding'], undefined);
  assert.equal(none.headers.vary, 'Accept-Encoding', 'the response still varies on the header');
  assert.equal(none.body.toString(), TEXT);
});

test('small bodies, compressed types, self-encoded bodies, no-transform, HEAD and 204 are left alone', async () => {
  const ae = { 'accept-encoding': 'br, gzip' };
  const small = await get(url, '/small', ae);
  assert.equal(small.headers['content-encoding'], undefined);
  assert.equal(small.body.toString(), 'tiny');
  const png = await get(url, '/png', ae);
  assert.equal(png.headers['content-encoding'], undefined);
  assert.equal(png.headers.vary, undefined);
  const own = await get(url, '/own', ae);
  assert.equal(own.headers['content-encoding'], 'identity-custom', 'never compressed twice');
  assert.equal(own.body.toString(), TEXT);
  assert.equal((await get(url, '/no-transform', ae)).headers['content-encoding'], undefined);
  const vary = await get(url, '/vary', ae);
  assert.equal(vary.headers.vary, 'Origin, Accept-Encoding');
  const head = await get(url, '/text', ae, 'HEAD');
  assert.equal(head.headers['content-encoding'], undefined);
  assert.equal(head.body.length, 0);
  assert.equal((await get(url, '/empty', ae)).status, 204);
});

test('--compress off sends everything as is', async () => {
  const res = await get(offUrl, '/text', { 'accept-encoding': 'br, gzip' });
  assert.equal(res.headers['content-encoding'], undefined);
  assert.equal(res.body.toString(), TEXT);
});

test('--compress and REDOX_COMPRESS: flag wins, bad values are usage errors', async () => {
  assert.equal(resolveHttpSettings({}, {}).compress, true);
  assert.equal(resolveHttpSettings({}, { REDOX_COMPRESS: 'off' }).compress, false);
  assert.equal(resolveHttpSettings({ compress: 'on' }, { REDOX_COMPRESS: 'off' }).compress, true);
  assert.throws(() => resolveHttpSettings({ compress: 'maybe' }, {}), /--compress must be on or off, got "maybe"/);
  const dir = tempDir();
  try {
    fs.writeFileSync(path.join(dir, 'app.lua'), 'return function() return "x" end');
    const p = spawnRedox(['serve', path.join(dir, 'app.lua'), '--port', '0', '--compress', 'maybe']);
    assert.equal(await p.exited, 2);
    assert.match(p.stderr(), /--compress must be on or off[\s\S]*REDOX_USAGE/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
