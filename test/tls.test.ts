// HTTPS and HTTP/2 over real TLS sockets, with a certificate made by openssl for this run:
// the same app, limits, compression and logging as plain HTTP; and start-up errors for missing
// or mismatched files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import path from 'node:path';
import zlib from 'node:zlib';
import { listeningUrl, serveLua, spawnRedox, tempDir } from './support/harness';
import { loadTls } from '../core/runtime/http/tls';
import { Service } from '../core/runtime/launch';
import { memoryLogger } from './support/harness';

const APP = String.raw`
local app = redox.router()
app:get("/info", function(req)
  return { json = { secure = req.secure, ua = req.headers["user-agent"], path = req.path }, cookies = { sid = "abc" } }
end)
app:post("/echo", function(req) return { status = 201, body = req:body() } end)
app:get("/big", function() return string.rep("abcdefgh", 1000) end)
return app
`;

let dir: string;
let cert: string;
let key: string;
let otherKey: string;
const servers: (Service & { log: ReturnType<typeof memoryLogger> })[] = [];

function makePair(name: string): { cert: string; key: string } {
  const c = path.join(dir, `${name}-cert.pem`);
  const k = path.join(dir, `${name}-key.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', k, '-out', c, '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return { cert: c, key: k };
}

before(() => {
  dir = tempDir('redox-tls-');
  ({ cert, key } = makePair('main'));
  otherKey = makePair('other').key;
});
after(async () => {
  for (const s of servers) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function serveTls(h2: boolean) {
  const s = await serveLua(APP, [], { limits: { bodyBytes: '16KiB' }, http: { tls: loadTls({ certFile: cert, keyFile: key, http2: h2 }), compress: true } });
  servers.push(s);
  return s;
}

function httpsGet(url: string, p: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url + p, { ca: fs.readFileSync(cert), headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), alpn: (res.socket as import('node:tls').TLSSocket).alpnProtocol }));
    });
    req.on('error', reject);
    req.end();
  });
}

function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer): Promise<{ headers: http2.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers);
    const chunks: Buffer[] = [];
    let head: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => (head = h));
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => resolve({ headers: head, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    if (body) stream.end(body);
    else stream.end();
  });
}

test('HTTPS: the app answers over TLS, req.secure is true and cookies are Secure by default', async () => {
  const s = await serveTls(false);
  assert.match(s.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const res = await httpsGet(s.url, '/info', { 'user-agent': 'tls-test' });
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body.toString()), { secure: true, ua: 'tls-test', path: '/info' });
  assert.deepEqual(res.headers['set-cookie'], ['sid=abc; Path=/; HttpOnly; SameSite=Lax; Secure']);
  const big = await httpsGet(s.url, '/big', { 'accept-encoding': 'gzip' });
  assert.equal(zlib.gunzipSync(big.body).toString(), 'abcdefgh'.repeat(1000));
  assert.ok(s.log.lines.some((l) => /"msg":"request".*"path":"\/info".*"status":200/.test(l)), 'requests are logged as over HTTP');
});

test('HTTP/2: requests, bodies, compression and the body limit on one session; HTTP/1.1 still served on the same port', async () => {
  const s = await serveTls(true);
  const session = http2.connect(s.url, { ca: fs.readFileSync(cert) });
  try {
    const info = await h2Request(session, { ':path': '/info', 'user-agent': 'h2-test' });
    assert.equal(info.headers[':status'], 200);
    assert.deepEqual(JSON.parse(info.body.toString()), { secure: true, ua: 'h2-test', path: '/info' });
    assert.ok(info.headers['x-request-id']);
    const echo = await h2Request(session, { ':method': 'POST', ':path': '/echo' }, Buffer.from('hello over h2'));
    assert.equal(echo.headers[':status'], 201);
    assert.equal(echo.body.toString(), 'hello over h2');
    const big = await h2Request(session, { ':path': '/big', 'accept-encoding': 'br' });
    assert.equal(big.headers['content-encoding'], 'br');
    assert.equal(zlib.brotliDecompressSync(big.body).toString(), 'abcdefgh'.repeat(1000));
    const tooLarge = await h2Request(session, { ':method': 'POST', ':path': '/echo' }, Buffer.alloc(64 * 1024, 'x'));
    assert.equal(tooLarge.headers[':status'], 413);
    assert.match(tooLarge.body.toString(), /request body larger than 16384 bytes/);
    // The session survives a refused stream.
    const again = await h2Request(session, { ':path': '/info' });
    assert.equal(again.headers[':status'], 200);
  } finally {
    session.close();
  }
  const h1 = await httpsGet(s.url, '/info');
  assert.equal(h1.status, 200);
  assert.equal(h1.alpn, false, 'a client without ALPN h2 gets HTTP/1.1');
  assert.ok(s.log.lines.filter((l) => /"msg":"request"/.test(l)).length >= 6);
});

test('TLS files: missing, not PEM or mismatched are coded start-up errors; half a pair or h2 without TLS are usage errors', async () => {
  const app = path.join(dir, 'app.lua');
  fs.writeFileSync(app, APP);
  const cases: [string[], number, RegExp][] = [
    [['--tls-cert', path.join(dir, 'nope.pem'), '--tls-key', key], 1, /--tls-cert .*nope\.pem: no such file[\s\S]*REDOX_TLS_FILE/],
    [['--tls-cert', cert, '--tls-key', otherKey], 1, /does not belong to the certificate[\s\S]*REDOX_TLS_INVALID/],
    [['--tls-cert', key, '--tls-key', key], 1, /is not a PEM certificate[\s\S]*REDOX_TLS_INVALID/],
    [['--tls-cert', cert, '--tls-key', cert], 1, /is not an unencrypted PEM private key[\s\S]*REDOX_TLS_INVALID/],
    [['--tls-cert', cert], 2, /--tls-cert needs --tls-key too[\s\S]*REDOX_USAGE/],
    [['--http2'], 2, /--http2 needs TLS[\s\S]*REDOX_USAGE/],
  ];
  for (const [flags, code, message] of cases) {
    const p = spawnRedox(['serve', app, '--port', '0', ...flags]);
    assert.equal(await p.exited, code, `${flags.join(' ')}: ${p.stderr()}`);
    assert.match(p.stderr(), message);
  }
});

test('serve --tls-cert/--tls-key/--http2 from the CLI (and from REDOX_TLS_* variables)', async () => {
  const app = path.join(dir, 'app.lua');
  fs.writeFileSync(app, APP);
  const p = spawnRedox(['serve', app, '--port', '0', '--http2'], { env: { REDOX_TLS_CERT: cert, REDOX_TLS_KEY: key } });
  try {
    const url = await listeningUrl(p);
    assert.match(url, /^https:/);
    const session = http2.connect(url, { ca: fs.readFileSync(cert) });
    try {
      const res = await h2Request(session, { ':path': '/info' });
      assert.equal(res.headers[':status'], 200);
    } finally {
      session.close();
    }
  } finally {
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
  }
});
