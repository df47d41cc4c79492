// `redox build --app app.lua --static ./public`: one file that serves the app and the folder,
// run alone from an empty folder under `env -i`; the files come from inside the binary.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { listeningUrl, placeBinary, spawnRedox, Spawned, tempDir } from './support/harness';
import { BuildManifest } from '../core/tooling/build/manifest';

const skip = process.platform === 'win32' ? 'needs a POSIX shell (env -i)' : false;
const TMP = tempDir('redox-static-binary-');
const SRC = path.join(TMP, 'src');
const CSS = 'h1 { font-weight: bold }\n'.repeat(100);
let binary = '';
let manifest: BuildManifest;

before(async () => {
  if (skip) return;
  fs.mkdirSync(path.join(SRC, 'public', 'css'), { recursive: true });
  fs.writeFileSync(path.join(SRC, 'app.lua'), 'return function(req) return { json = { app = true, path = req.path } } end');
  fs.writeFileSync(path.join(SRC, 'public', 'css', 'site.css'), CSS);
  fs.writeFileSync(path.join(SRC, 'public', 'index.html'), '<h1>home</h1>');
  fs.writeFileSync(path.join(SRC, 'public', '.secret'), 'not embedded');
  const p = spawnRedox(['build', '--distro', 'minimal', '--app', 'app.lua', '--static', 'public', '--out', path.join(TMP, 'dist'), '--name', 'site', '--json'], { cwd: SRC });
  assert.equal(await p.exited, 0, p.stderr());
  manifest = (JSON.parse(p.stdout()) as BuildManifest[])[0];
  // The binary alone, in a folder with nothing else.
  const dir = path.join(TMP, 'run');
  fs.mkdirSync(dir);
  binary = path.join(dir, 'site');
  placeBinary(path.join(TMP, 'dist', 'site'), binary);
  fs.rmSync(path.join(TMP, 'dist'), { recursive: true, force: true });
  fs.rmSync(SRC, { recursive: true, force: true });
});
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

function run(args: string[]): Spawned {
  return spawnRedox(args, { cwd: path.dirname(binary), bin: ['env', '-i', `REDOX_CACHE_DIR=${path.join(TMP, 'cache')}`, './site'] });
}

function get(url: string, p: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get(url + p, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

test('the binary serves its embedded files and app with no files beside it', { skip }, async () => {
  assert.deepEqual(manifest.static, { files: 2, bytes: CSS.length + '<h1>home</h1>'.length });
  const p = run(['--port', '0']);
  try {
    const url = await listeningUrl(p);
    const css = await get(url, '/css/site.css');
    assert.equal(css.status, 200);
    assert.equal(css.body.toString(), CSS);
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal((await get(url, '/css/site.css', { 'if-none-match': css.headers.etag! })).status, 304);
    assert.equal((await get(url, '/css/site.css', { range: 'bytes=0-1' })).body.toString(), 'h1');
    assert.equal(zlib.brotliDecompressSync((await get(url, '/css/site.css', { 'accept-encoding': 'br' })).body).toString(), CSS);
    assert.equal((await get(url, '/')).body.toString(), '<h1>home</h1>');
    assert.deepEqual(JSON.parse((await get(url, '/api/x')).body.toString()), { app: true, path: '/api/x' });
    assert.equal((await get(url, '/.secret')).status, 404);
  } finally {
    p.child.kill('SIGTERM');
    await p.exited;
  }
  const version = run(['version']);
  assert.equal(await version.exited, 0);
  assert.match(version.stdout(), /static: 2 files, \d+ bytes \(embedded\)/);
});

test('redox build --static with a missing folder fails before building, with a code', async () => {
  const p = spawnRedox(['build', '--distro', 'minimal', '--static', path.join(TMP, 'nope'), '--out', path.join(TMP, 'never')], { cwd: TMP });
  assert.equal(await p.exited, 2);
  assert.match(p.stderr(), /--static .*nope: no such folder[\s\S]*REDOX_STATIC_DIR/);
  assert.equal(fs.existsSync(path.join(TMP, 'never', 'redox-minimal')), false);
});
