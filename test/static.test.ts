// Static files over real HTTP: validators, ranges, HEAD, content types, compression, prefixes,
// files embedded the way `redox build --static` stores them, and paths that try to leave the
// folder (always 404, never the file, never the app).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { serveLua, spawnRedox, tempDir } from './support/harness';
import { DirectorySource, EmbeddedSource, EmbeddedStaticIndex, parseRange, staticFiles, staticSegments, StaticSource } from '../core/runtime/http/static-files';
import { collectStatic } from '../core/tooling/build/static-assets';
import { Service } from '../core/runtime/launch';

const APP = `return function(req) return { status = 200, body = "APP " .. req.method .. " " .. req.path } end`;
const SECRET = 'top secret outside the folder';

let root: string;
let pub: string;
const CSS = 'body { color: red }\n';
const BIG = 'line of compressible text\n'.repeat(400);
const BINARY = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256));
const servers: Service[] = [];

before(() => {
  root = tempDir('redox-static-');
  pub = path.join(root, 'public');
  fs.mkdirSync(path.join(pub, 'css'), { recursive: true });
  fs.mkdirSync(path.join(pub, 'docs'));
  fs.writeFileSync(path.join(pub, 'css', 'site.css'), CSS);
  fs.writeFileSync(path.join(pub, 'big.txt'), BIG);
  fs.writeFileSync(path.join(pub, 'image.png'), BINARY);
  fs.writeFileSync(path.join(pub, 'docs', 'index.html'), '<h1>docs</h1>');
  fs.writeFileSync(path.join(pub, '.env'), SECRET);
  fs.writeFileSync(path.join(root, 'outside.txt'), SECRET);
  fs.symlinkSync(path.join(root, 'outside.txt'), path.join(pub, 'link-out.txt'));
  fs.symlinkSync(root, path.join(pub, 'dir-out'));
  fs.symlinkSync(path.join(pub, 'css', 'site.css'), path.join(pub, 'link-in.css'));
});
after(async () => {
  for (const s of servers) await s.close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function serve(prefix = '/', compress = true, source: StaticSource = new DirectorySource(pub)): Promise<string> {
  const s = await serveLua(APP, [], { http: { static: staticFiles(source, prefix, compress), compress } });
  servers.push(s);
  return s.url;
}

/** A raw request: the path goes out exactly as written (fetch would normalize dot segments). */
function raw(url: string, pathText: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: pathText, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a file is served with its content type, length, ETag and Last-Modified', async () => {
  const url = await serve();
  const res = await raw(url, '/css/site.css');
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), CSS);
  assert.equal(res.headers['content-type'], 'text/css; charset=utf-8');
  assert.equal(res.headers['content-length'], String(CSS.length));
  assert.match(res.headers.etag!, /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
  assert.equal(res.headers['last-modified'], new Date(fs.statSync(path.join(pub, 'css', 'site.css')).mtimeMs).toUTCString());
  assert.equal(res.headers['accept-ranges'], 'bytes');
  assert.ok(res.headers['x-request-id']);
  const png = await raw(url, '/image.png');
  assert.equal(png.headers['content-type'], 'image/png');
  assert.deepEqual(png.body, BINARY);
  const index = await raw(url, '/docs/');
  assert.equal(index.body.toString(), '<h1>docs</h1>');
  assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
  // A symlink that stays inside the folder is fine.
  assert.equal((await raw(url, '/link-in.css')).body.toString(), CSS);
});

test('If-None-Match and If-Modified-Since answer 304 with no body; stale validators get the file', async () => {
  const url = await serve();
  const first = await raw(url, '/css/site.css');
  const etag = first.headers.etag!;
  const cached = await raw(url, '/css/site.css', { 'if-none-match': `"nope", ${etag}` });
  assert.equal(cached.status, 304);
  assert.equal(cached.body.length, 0);
  assert.equal(cached.headers.etag, etag);
  assert.equal((await raw(url, '/css/site.css', { 'if-none-match': '*' })).status, 304);
  assert.equal((await raw(url, '/css/site.css', { 'if-none-match': '"other"' })).status, 200);
  assert.equal((await raw(url, '/css/site.css', { 'if-modified-since': first.headers['last-modified']! })).status, 304);
  const stale = await raw(url, '/css/site.css', { 'if-modified-since': new Date(Date.parse(first.headers['last-modified']!) - 60_000).toUTCString() });
  assert.equal(stale.status, 200);
  assert.equal(stale.body.toString(), CSS);
});

test('Range: 206 with the exact bytes, suffix ranges, 416 when unsatisfiable, stale If-Range gets 200', async () => {
  const url = await serve();
  const part = await raw(url, '/image.png', { range: 'bytes=10-19' });
  assert.equal(part.status, 206);
  assert.equal(part.headers['content-range'], `bytes 10-19/${BINARY.length}`);
  assert.deepEqual(part.body, BINARY.subarray(10, 20));
  const tail = await raw(url, '/image.png', { range: 'bytes=-5' });
  assert.deepEqual(tail.body, BINARY.subarray(BINARY.length - 5));
  const open = await raw(url, '/image.png', { range: 'bytes=2990-' });
  assert.deepEqual(open.body, BINARY.subarray(2990));
  const bad = await raw(url, '/image.png', { range: 'bytes=5000-6000' });
  assert.equal(bad.status, 416);
  assert.equal(bad.headers['content-range'], `bytes */${BINARY.length}`);
  const staleIfRange = await raw(url, '/image.png', { range: 'bytes=0-1', 'if-range': '"old"' });
  assert.equal(staleIfRange.status, 200);
  assert.equal(staleIfRange.body.length, BINARY.length);
  assert.deepEqual(parseRange('bytes=0-1,5-6', 10), null, 'several ranges: the whole file');
  assert.deepEqual(parseRange('items=0-1', 10), null);
});

test('HEAD has the headers and no body; other methods go to the app', async () => {
  const url = await serve();
  const head = await raw(url, '/image.png', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], String(BINARY.length));
  assert.equal(head.body.length, 0);
  const post = await raw(url, '/image.png', {}, 'POST');
  assert.equal(post.body.toString(), 'APP POST /image.png');
});

test('with prefix "/", a missing file goes to the app; under a prefix, the prefix belongs to the files', async () => {
  const root = await serve();
  assert.equal((await raw(root, '/api/users')).body.toString(), 'APP GET /api/users');
  const url = await serve('/assets');
  assert.equal((await raw(url, '/assets/css/site.css')).body.toString(), CSS);
  assert.equal((await raw(url, '/css/site.css')).body.toString(), 'APP GET /css/site.css');
  const missing = await raw(url, '/assets/missing.css');
  assert.equal(missing.status, 404);
  assert.match(missing.body.toString(), /"error":"not found"/);
  assert.equal((await raw(url, '/assetsX/css/site.css')).body.toString(), 'APP GET /assetsX/css/site.css');
});

test('paths that try to leave the folder or reach hidden files are 404: never the file, never the app', async () => {
  const url = await serve();
  const prefixed = await serve('/assets');
  const attempts = [
    '/../outside.txt', '/css/../../outside.txt', '/%2e%2e/outside.txt', '/css/%2E%2E/%2e%2e/outside.txt',
    '/css/..%2f..%2foutside.txt', '/css%2fsite.css', '/..%5coutside.txt', '/css\\..\\..\\outside.txt',
    '/css/site.css%00', '/css/site.css%00.png', '/.env', '/%2eenv', '/link-out.txt', '/dir-out/outside.txt',
    '/%E0%A4%A', '/css/./site.css',
  ];
  for (const p of attempts) {
    for (const [base, pathText] of [[url, p], [prefixed, '/assets' + p]]) {
      const res = await raw(base, pathText);
      assert.equal(res.status, 404, `${pathText} must be 404, got ${res.status}`);
      assert.doesNotMatch(res.body.toString(), /secret|APP/, `${pathText} leaked`);
    }
  }
  assert.equal(staticSegments('/a/b.css', '/assets'), null);
  assert.deepEqual(staticSegments('/a/b%20c.css', '/'), ['a', 'b c.css']);
  assert.equal(staticSegments('/a/..', '/'), 'reject');
});

test('compressible files are compressed for clients that accept it, with their own ETag; images and ranges are not', async () => {
  const url = await serve();
  const br = await raw(url, '/big.txt', { 'accept-encoding': 'gzip;q=0.5, br' });
  assert.equal(br.headers['content-encoding'], 'br');
  assert.equal(br.headers.vary, 'Accept-Encoding');
  assert.equal(zlib.brotliDecompressSync(br.body).toString(), BIG);
  assert.ok(br.body.length < BIG.length / 5);
  const plain = await raw(url, '/big.txt');
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.notEqual(br.headers.etag, plain.headers.etag);
  assert.equal((await raw(url, '/big.txt', { 'accept-encoding': 'br', 'if-none-match': br.headers.etag! })).status, 304);
  const gz = await raw(url, '/big.txt', { 'accept-encoding': 'gzip' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(zlib.gunzipSync(gz.body).toString(), BIG);
  const png = await raw(url, '/image.png', { 'accept-encoding': 'gzip, br' });
  assert.equal(png.headers['content-encoding'], undefined);
  const range = await raw(url, '/big.txt', { 'accept-encoding': 'br', range: 'bytes=0-3' });
  assert.equal(range.status, 206);
  assert.equal(range.body.toString(), 'line');
  const off = await serve('/', false);
  assert.equal((await raw(off, '/big.txt', { 'accept-encoding': 'br' })).headers['content-encoding'], undefined);
});

test('files embedded as redox build --static stores them are served the same way', async () => {
  const work = tempDir('redox-static-build-');
  try {
    const collected = collectStatic(pub, root, work);
    const index = JSON.parse(fs.readFileSync(collected.indexFile, 'utf8')) as EmbeddedStaticIndex;
    assert.deepEqual(Object.keys(index.files).sort(), ['big.txt', 'css/site.css', 'docs/index.html', 'image.png', 'link-in.css'],
      'dot-files and symlinks out of the folder are left out');
    const url = await serve('/', true, new EmbeddedSource(index, fs.readFileSync(collected.dataFile)));
    const css = await raw(url, '/css/site.css');
    assert.equal(css.body.toString(), CSS);
    assert.match(css.headers.etag!, /^"[0-9a-f]{32}"$/);
    assert.equal((await raw(url, '/css/site.css', { 'if-none-match': css.headers.etag! })).status, 304);
    assert.deepEqual((await raw(url, '/image.png', { range: 'bytes=100-199' })).body, BINARY.subarray(100, 200));
    assert.equal((await raw(url, '/docs')).body.toString(), '<h1>docs</h1>');
    assert.equal(zlib.brotliDecompressSync((await raw(url, '/big.txt', { 'accept-encoding': 'br' })).body).toString(), BIG);
    for (const p of ['/../outside.txt', '/.env']) assert.equal((await raw(url, p)).status, 404);
    // Not embedded at all: an ordinary missing file, which the app answers.
    assert.equal((await raw(url, '/link-out.txt')).body.toString(), 'APP GET /link-out.txt');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('serve --static with a missing folder, or --static-prefix alone, fails at start-up with a code', async () => {
  const app = path.join(root, 'app.lua');
  fs.writeFileSync(app, APP);
  const missing = spawnRedox(['serve', app, '--port', '0', '--static', path.join(root, 'nope')]);
  assert.equal(await missing.exited, 2);
  assert.match(missing.stderr(), /--static .*nope: no such folder[\s\S]*REDOX_STATIC_DIR/);
  const alone = spawnRedox(['serve', app, '--port', '0', '--static-prefix', '/assets']);
  assert.equal(await alone.exited, 2);
  assert.match(alone.stderr(), /--static-prefix needs --static DIR/);
});

test('serve --static from the CLI serves the folder', async () => {
  const app = path.join(root, 'app.lua');
  fs.writeFileSync(app, APP);
  const p = spawnRedox(['serve', app, '--port', '0', '--static', pub, '--static-prefix', '/assets']);
  try {
    const { listeningUrl } = await import('./support/harness');
    const url = await listeningUrl(p);
    assert.equal((await raw(url, '/assets/css/site.css')).body.toString(), CSS);
    assert.equal((await raw(url, '/assets/../outside.txt')).status, 404);
  } finally {
    p.child.kill('SIGTERM');
    await p.exited;
  }
});
