// The admin listener over real HTTP, through the real CLI: health, readiness while a slow app
// loads and during a SIGTERM drain, unknown paths, the metrics route only with the feature,
// the primary of a worker group, and the usage errors.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { httpGet, listeningUrl, spawnRedox, Spawned, tempDir } from './support/harness';
import { freePort, until } from './support/ports';

const dir = tempDir('redox-admin-');
const running: Spawned[] = [];
after(async () => {
  for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, code: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, code);
  return file;
}

function serve(args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  const p = spawnRedox(['serve', ...args], { cwd: dir, env });
  running.push(p);
  return p;
}

const get = (url: string) => httpGet(url);

describe('admin listener', { timeout: 300_000 }, () => {
  it('answers /healthz at once and /readyz 503 while a slow app loads, then 200', async () => {
    // The app's load waits on a gate the test opens: start-up is as slow as the test wants.
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    const gate = http.createServer((_req, res) => { opened.then(() => res.end('go')); });
    await new Promise<void>((r) => gate.listen(0, '127.0.0.1', () => r()));
    const gatePort = (gate.address() as import('node:net').AddressInfo).port;
    const app = write('slow-load.lua', `
      local res = assert(requests.get("http://127.0.0.1:${gatePort}/"))
      get("/", function() return "loaded after " .. res.body end)
    `);
    const admin = await freePort();
    const p = serve([app, '--port', '0', '--admin-port', String(admin), '--features', 'requests']);
    const base = `http://127.0.0.1:${admin}`;
    const starting = await until(async () => (await get(base + '/readyz')));
    assert.equal(starting.status, 503);
    assert.match(starting.body, /starting/);
    assert.deepEqual(await get(base + '/healthz'), { status: 200, body: 'ok\n' });
    open();
    const url = await listeningUrl(p);
    assert.deepEqual(await get(base + '/readyz'), { status: 200, body: 'ready\n' });
    assert.equal((await get(url + '/')).body, 'loaded after go');
    // The app's router never sees admin paths, and the admin port never serves the app.
    assert.equal((await get(url + '/healthz')).status, 404);
    const unknown = await get(base + '/');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body, /no admin endpoint \/; available: \/healthz, \/readyz/);
    const metrics = await get(base + '/metrics');
    assert.equal(metrics.status, 404, 'no metrics feature in this run');
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
    gate.close();
  });

  it('answers /readyz 503 from the moment a SIGTERM drain begins, while a request finishes', async () => {
    // The handler waits on the test's hold server, so the drain lasts exactly as long as the test wants.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held!: () => void;
    const holding = new Promise<void>((r) => (held = r));
    const hold = http.createServer((_req, res) => { held(); released.then(() => res.end('released')); });
    await new Promise<void>((r) => hold.listen(0, '127.0.0.1', () => r()));
    const holdPort = (hold.address() as import('node:net').AddressInfo).port;
    const app = write('drain.lua', `
      get("/work", function() return assert(requests.get("http://127.0.0.1:${holdPort}/")).body end)
    `);
    const p = serve([app, '--port', '0', '--admin-port', '0', '--features', 'requests']);
    const url = await listeningUrl(p);
    const base = /\(admin (http:\/\/\S+)\)/.exec(p.stdout())![1];
    assert.equal((await get(base + '/readyz')).status, 200);
    const work = get(url + '/work');
    await holding;
    p.child.kill('SIGTERM');
    const draining = await until(async () => {
      const r = await get(base + '/readyz');
      return r.status === 503 ? r : undefined;
    });
    assert.match(draining.body, /draining/);
    assert.equal((await get(base + '/healthz')).status, 200, 'still alive while draining');
    release();
    assert.deepEqual(await work, { status: 200, body: 'released' });
    assert.equal(await p.exited, 0);
    hold.close();
  });

  it('takes the port from REDOX_ADMIN_PORT and answers for a whole worker group from the primary', async () => {
    const app = write('group.lua', 'get("/", function() return "hi" end)');
    const admin = await freePort();
    const p = serve([app, '--port', '0', '--workers', '2'], { REDOX_ADMIN_PORT: String(admin) });
    const url = await listeningUrl(p);
    assert.match(p.stdout(), new RegExp(`\\(2 workers\\) \\(admin http://127\\.0\\.0\\.1:${admin}\\)`));
    assert.equal((await get(url + '/')).body, 'hi');
    assert.deepEqual(await get(`http://127.0.0.1:${admin}/readyz`), { status: 200, body: 'ready\n' });
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
  });

  it('rejects --admin-port equal to --port (or REDOX_ADMIN_PORT equal to PORT) as a usage error', async () => {
    const app = write('same.lua', 'get("/", function() return "x" end)');
    const port = await freePort();
    const a = serve([app, '--port', String(port), '--admin-port', String(port)]);
    assert.equal(await a.exited, 2);
    assert.match(a.stderr(), /--admin-port \d+ is the app's port too/);
    assert.match(a.stderr(), /REDOX_USAGE/);
    const b = serve([app], { PORT: String(port), REDOX_ADMIN_PORT: String(port) });
    assert.equal(await b.exited, 2);
    assert.match(b.stderr(), /REDOX_ADMIN_PORT \d+ is the app's port too/);
    const c = serve([app, '--admin-port', 'nine']);
    assert.equal(await c.exited, 2);
    assert.match(c.stderr(), /--admin-port must be a port number from 0 to 65535, got "nine"/);
  });

  it('refuses an admin port that is taken with REDOX_PORT_IN_USE', async () => {
    const busy = http.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    try {
      const taken = (busy.address() as import('node:net').AddressInfo).port;
      const app = write('busy.lua', 'get("/", function() return "x" end)');
      const p = serve([app, '--port', '0', '--admin-port', String(taken)]);
      assert.equal(await p.exited, 1);
      assert.match(p.stderr(), /admin port \d+ is already in use/);
      assert.match(p.stderr(), /REDOX_PORT_IN_USE/);
    } finally {
      busy.close();
    }
  });
});
