// `serve --workers`: several processes with their own VMs, crash recovery, graceful drain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { httpGet as get, listeningUrl, spawnRedox, tempDir } from './support/harness';

const APP = String.raw`
local hits = 0
get("/", function() hits = hits + 1 return tostring(hits) end)
get("/slow", function() redox.sleep(300) return "done" end)
`;

function children(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}


async function start(workers: string) {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'app.lua'), APP);
  const p = spawnRedox(['serve', 'app.lua', '--port', '0', '--workers', workers, '--features', 'uuid'], { cwd: dir });
  const url = await listeningUrl(p);
  return { p, url };
}

test('two workers each run their own VM and share the port', async () => {
  const { p, url } = await start('2');
  try {
    assert.match(p.stdout(), /listening on http:\/\/127\.0\.0\.1:\d+ \(2 workers\)/);
    assert.equal(children(p.child.pid!).length, 2);
    const counts: number[] = [];
    // A new connection per request: cluster balances connections, not requests.
    const fresh = new http.Agent({ keepAlive: false });
    for (let i = 0; i < 20; i++) counts.push(Number((await get(url + '/', fresh)).body));
    // One VM would count to 20; two VMs sharing the load each count about half.
    assert.ok(Math.max(...counts) < 20, `requests spread over workers: ${counts.join(',')}`);
  } finally {
    p.child.kill('SIGTERM');
    await p.exited;
  }
});

test('a worker killed with SIGKILL under load is restarted while the other keeps serving', async () => {
  const { p, url } = await start('2');
  try {
    const [victim] = children(p.child.pid!);
    let ok = 0;
    let failed = 0;
    const load = (async () => {
      const until = Date.now() + 2500;
      while (Date.now() < until) {
        try {
          if ((await get(url + '/')).status === 200) ok++;
        } catch {
          failed++;
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    process.kill(victim, 'SIGKILL');
    await load;
    assert.ok(ok > 50, `kept serving: ${ok} ok, ${failed} failed`);
    assert.ok(failed <= 5, `only requests on the killed worker's connections may fail: ${failed}`);
    const after = children(p.child.pid!);
    assert.equal(after.length, 2, 'a replacement worker runs');
    assert.ok(!after.includes(victim));
    assert.match(p.stdout(), /worker exited; restarting/);
  } finally {
    p.child.kill('SIGTERM');
    await p.exited;
  }
});

test('SIGTERM under load: every accepted request completes, then the primary exits 0', async () => {
  const { p, url } = await start('2');
  const agent = new http.Agent({ keepAlive: false, maxSockets: 500 });
  const inflight = Array.from({ length: 100 }, () => get(url + '/slow', agent));
  await new Promise((r) => setTimeout(r, 150));
  p.child.kill('SIGTERM');
  const results = await Promise.allSettled(inflight);
  const failures = results.filter((r) => r.status === 'rejected' || r.value.status !== 200);
  assert.equal(failures.length, 0, `failed: ${JSON.stringify(failures.slice(0, 3))}`);
  assert.equal(await p.exited, 0);
});
