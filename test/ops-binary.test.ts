// Operations on a real built `web` binary: a real Prometheus scrapes it running `--workers 2`
// from an empty folder and reads back the request counts the test made, summed over workers;
// and the FROM scratch image `redox build --image` made with podman is complete: a container
// of it is mounted and the binary, chrooted into that root as the image's non-root user,
// serves a request.
import assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildImage, IMAGE_UID } from '../core/tooling/build/image';
import { httpGet, listeningUrl, placeBinary, spawnRedox, Spawned, tempDir } from './support/harness';
import { freePort, until } from './support/ports';

const TMP = tempDir('redox-ops-bin-');
const TAG = `localhost/redox-ops-test-${process.pid}:t1`;
const BIN = 'redox-web';
const hasPodman = !spawnSync('podman', ['--version'], { stdio: 'ignore' }).error;
const children: (ChildProcess | Spawned)[] = [];
const cleanups: (() => void)[] = [];

const APP = `
local app = redox.router()
-- Made once per VM at load: the test learns which worker answered.
local vm = uuid.v4()
app:get("/hello/:name", function(req)
  return { json = { hello = req.params.name, worker = vm } }
end)
return app
`;

/** GET over a fresh connection each time, so the primary hands requests to both workers. */
function getFresh(url: string): Promise<{ status: number; body: string }> {
  return httpGet(url, new http.Agent({ keepAlive: false }));
}

before(async () => {
  fs.writeFileSync(path.join(TMP, 'app.lua'), APP);
  const b = spawnRedox(['build', '--distro', 'web', '--app', 'app.lua', '--out', 'dist', '--image', TAG], { cwd: TMP });
  children.push(b);
  const code = await b.exited;
  assert.equal(code, 0, `redox build failed:\n${b.stderr()}\n${b.stdout()}`);
  if (hasPodman) cleanups.push(() => spawnSync('podman', ['rmi', '-f', TAG], { stdio: 'ignore' }));
}, { timeout: 30 * 60_000 }); // a cold cache compiles better-sqlite3 first

after(() => {
  for (const c of children) {
    const child = 'child' in c ? c.child : c;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  for (const f of cleanups.reverse()) f();
  fs.rmSync(TMP, { recursive: true, force: true });
});

describe('a built web binary under a real Prometheus', { timeout: 180_000 }, () => {
  it('reports request counts summed over two workers', async () => {
    // Run from an empty folder with nothing but the binary.
    const run = path.join(TMP, 'run');
    fs.mkdirSync(run);
    placeBinary(path.join(TMP, 'dist', BIN), path.join(run, BIN));
    const admin = await freePort();
    const server = spawnRedox(['--port', '0', '--workers', '2', '--admin-port', String(admin)], { cwd: run, bin: [path.join(run, BIN)] });
    children.push(server);
    const url = await listeningUrl(server, 60_000);

    const N = 40;
    const byWorker = new Map<string, number>();
    for (let i = 0; i < N; i++) {
      const r = await getFresh(`${url}/hello/n${i}`);
      assert.equal(r.status, 200);
      const w = JSON.parse(r.body).worker as string;
      byWorker.set(w, (byWorker.get(w) ?? 0) + 1);
    }
    assert.equal(byWorker.size, 2, `both workers served: ${JSON.stringify([...byWorker])}`);

    // The primary's own scrape already holds the sum, with no per-worker split of the counter.
    const scrape = await httpGet(`http://127.0.0.1:${admin}/metrics`);
    assert.equal(scrape.status, 200);
    assert.match(scrape.body, /^redox_http_requests_total\{method="GET",route="\/hello\/:name",status_class="2xx"\} 40$/m);
    assert.match(scrape.body, /^redox_lua_heap_bytes\{worker="1"\} \d+/m);
    assert.match(scrape.body, /^redox_lua_heap_bytes\{worker="2"\} \d+/m);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: scrape.body, encoding: 'utf8' });
    assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}${lint.error ?? ''}`);

    // A real Prometheus with a temp config scrapes the primary's admin listener.
    const promPort = await freePort();
    const promDir = path.join(TMP, 'prometheus');
    fs.mkdirSync(promDir);
    fs.writeFileSync(path.join(promDir, 'prometheus.yml'), [
      'global:', '  scrape_interval: 1s', '  scrape_timeout: 1s',
      'scrape_configs:', '  - job_name: redox', '    static_configs:', `      - targets: ["127.0.0.1:${admin}"]`, '',
    ].join('\n'));
    const prom = spawn('prometheus', [
      `--config.file=${path.join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(promDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(prom);
    let promLog = '';
    prom.stderr!.on('data', (d) => (promLog += d));
    const query = async (q: string) => {
      const r = await httpGet(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
      if (r.status !== 200) return undefined;
      return JSON.parse(r.body).data.result as { metric: Record<string, string>; value: [number, string] }[];
    };
    // Poll until Prometheus has scraped the requests (the test's timeout is the hang guard).
    const series = await until(async () => {
      if (prom.exitCode !== null) throw new Error(`prometheus exited: ${promLog}`);
      const r = await query('redox_http_requests_total{route="/hello/:name"}');
      return r && r.length > 0 && r[0].value[1] === String(N) ? r : undefined;
    }, 250);
    assert.equal(series.length, 1, 'one series for the group, no worker label');
    assert.equal(series[0].metric.job, 'redox');
    assert.equal(series[0].metric.status_class, '2xx');
    assert.equal(series[0].metric.worker, undefined);
    const heaps = await query('redox_lua_heap_bytes');
    assert.deepEqual(heaps!.map((s) => s.metric.worker).sort(), ['1', '2']);
    const up = await query('up{job="redox"}');
    assert.equal(up![0].value[1], '1');

    prom.kill('SIGTERM');
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  });
});

describe('the container image', { timeout: 180_000 }, () => {
  it('records the image and its size in sizes.md and writes a Containerfile next to the binary', { skip: !hasPodman && 'podman is not installed (.ci/run installs it)' }, () => {
    const sizes = fs.readFileSync(path.join(TMP, 'dist', 'sizes.md'), 'utf8');
    assert.match(sizes, new RegExp(`\\| ${BIN} \\| ${TAG.replace(/[./]/g, '\\$&')} \\| \\d+\\.\\d MiB \\|`));
    const cf = fs.readFileSync(path.join(TMP, 'dist', 'Containerfile'), 'utf8');
    assert.match(cf, /^FROM scratch$/m);
    assert.match(cf, new RegExp(`^USER ${IMAGE_UID}:${IMAGE_UID}$`, 'm'));
    assert.match(cf, /^EXPOSE 8080 9100$/m);
  });

  it('is complete: the binary chrooted into a mounted container of it serves a request as the non-root user, with two workers', { skip: !hasPodman && 'podman is not installed (.ci/run installs it)' }, async () => {
    const created = spawnSync('podman', ['create', TAG], { encoding: 'utf8' });
    assert.equal(created.status, 0, created.stderr);
    const id = created.stdout.trim();
    cleanups.push(() => spawnSync('podman', ['rm', '-f', id], { stdio: 'ignore' }));
    const mounted = spawnSync('podman', ['mount', id], { encoding: 'utf8' });
    assert.equal(mounted.status, 0, mounted.stderr);
    cleanups.push(() => spawnSync('podman', ['umount', id], { stdio: 'ignore' }));
    const root = mounted.stdout.trim();
    // Only what the image carries: no shell, no package manager, no node_modules.
    assert.ok(fs.existsSync(path.join(root, 'app', BIN)));
    assert.ok(fs.existsSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt')));
    assert.match(fs.readFileSync(path.join(root, 'etc/passwd'), 'utf8'), new RegExp(`^redox:x:${IMAGE_UID}:`, 'm'));
    assert.equal(fs.existsSync(path.join(root, 'bin/sh')), false);

    const port = await freePort();
    const admin = await freePort();
    // `podman run` cannot work here (cgroups); chroot runs the same files with the image's user.
    // Two workers, as the generated Kubernetes Deployment runs it (REDOX_WORKERS=2).
    const p = spawnRedox([`--userspec=${IMAGE_UID}:${IMAGE_UID}`, root, `/app/${BIN}`, '--workers', '2'], {
      bin: ['chroot'],
      env: { HOST: '127.0.0.1', PORT: String(port), REDOX_ADMIN_PORT: String(admin), TMPDIR: '/tmp', HOME: '/tmp' },
    });
    children.push(p);
    const url = await listeningUrl(p, 60_000);
    assert.match(p.stdout(), /\(2 workers\)/);
    const r = await httpGet(`${url}/hello/chroot`);
    assert.equal(r.status, 200, p.stderr());
    assert.equal(JSON.parse(r.body).hello, 'chroot');
    assert.deepEqual(await httpGet(`http://127.0.0.1:${admin}/readyz`), { status: 200, body: 'ready\n' });
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
  });

  it('without podman or docker still writes the Containerfile and says how to build it', () => {
    const out = path.join(TMP, 'no-tools');
    fs.mkdirSync(out);
    fs.linkSync(path.join(TMP, 'dist', BIN), path.join(out, BIN));
    const r = buildImage({ outDir: out, binary: BIN, tag: 'shop:1', containerfile: 'Containerfile', embeddedApp: true }, () => false);
    assert.equal(r.tool, null);
    assert.equal(r.bytes, null);
    assert.equal(r.buildCommand, `podman build -f ${path.join(out, 'Containerfile')} -t shop:1 ${out}`);
    assert.match(fs.readFileSync(path.join(out, 'Containerfile'), 'utf8'), /^COPY redox-web\.rootfs\/ \/$/m);
    assert.ok(fs.existsSync(path.join(out, `${BIN}.rootfs`, 'lib64')) || fs.existsSync(path.join(out, `${BIN}.rootfs`, 'lib')));
  });
});
