// `serve --workers`: several processes with their own VMs, crash recovery, graceful drain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { httpGet as get, listeningUrl, spawnRedox, Spawned, tempDir } from './support/harness';

const APP = String.raw`
local hits = 0
get("/", function() hits = hits + 1 return tostring(hits) end)
get("/slow", function() print("arrived") redox.sleep(300) return "done" end)
`;

/** Pids of the workers the primary started and that still run, from its "worker started" log
 *  lines (portable: no pgrep, no /proc). */
function children(p: Spawned): number[] {
  const pids = p.stdout().split('\n').filter((l) => l.includes('"msg":"worker started"')).map((l) => Number(/"pid":(\d+)/.exec(l)![1]));
  return pids.filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
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
    assert.equal(children(p).length, 2);
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
    const [victim] = children(p);
    let ok = 0;
    let okAfterKill = 0;
    let failed = 0;
    let killed = false;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        try {
          if ((await get(url + '/')).status === 200) {
            ok++;
            if (killed) okAfterKill++;
          }
        } catch {
          failed++;
        }
      }
    })();
    try {
      await until('20 requests before the kill', () => (ok >= 20 ? true : undefined));
      process.kill(victim, 'SIGKILL');
      killed = true;
      // A slow restart (backoff on a busy machine) is waited for, not raced.
      const after = await until('a replacement worker', () => { const c = children(p); return c.length === 2 && !c.includes(victim) ? c : undefined; });
      await until('20 requests after the restart', () => (okAfterKill >= 20 ? true : undefined));
      assert.equal(after.length, 2, 'a replacement worker runs');
    } finally {
      stop = true;
      await load;
    }
    assert.ok(failed <= 5, `only requests on the killed worker's connections may fail: ${failed} failed, ${ok} ok`);
    assert.match(p.stdout(), /worker exited; restarting/);
  } finally {
    p.child.kill('SIGTERM');
    await p.exited;
  }
});

test('every worker killed, one after another or at once: the primary stays (no admin listener keeps it alive), restarts them, and keeps the port', async () => {
  const { p, url } = await start('2');
  /** Waits for two workers none of `gone` and for the original URL to answer again. */
  const recovered = async (gone: number[]) => {
    const now = await until('two replacement workers', () => {
      if (p.child.exitCode !== null) throw new Error(`the primary exited (code ${p.child.exitCode}) with no worker left: ${p.stdout()}`);
      const c = children(p);
      return c.length === 2 && !c.some((pid) => gone.includes(pid)) ? c : undefined;
    });
    // A request may meet a worker still booting: retried, not raced.
    let status = 0;
    for (const deadline = Date.now() + 60_000; status !== 200 && Date.now() < deadline;) {
      status = await get(url + '/').then((r) => r.status, () => 0);
      if (status !== 200) await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(status, 200, 'the original URL answers');
    return now;
  };
  try {
    // One after the other, the second before the first one's replacement listens (an OOM
    // killer working through them).
    const [first, second] = children(p);
    process.kill(first, 'SIGKILL');
    await until('the first replacement forked', () => (children(p).some((pid) => pid !== first && pid !== second) ? true : undefined));
    process.kill(second, 'SIGKILL');
    const after = await recovered([first, second]);
    // Both at once.
    for (const pid of after) process.kill(pid, 'SIGKILL');
    await recovered(after);
    assert.equal(p.child.exitCode, null, 'the primary still runs');
  } finally {
    p.child.kill('SIGTERM');
    await p.exited;
  }
});

// Windows has no SIGTERM for a child process: kill() there ends it at once, so no drain to test.
const noSigterm = process.platform === 'win32' ? 'Windows cannot deliver SIGTERM to a child process (kill ends it at once)' : false;

test('SIGTERM on a busy machine: every accepted request completes (no resets), then the primary exits 0', { skip: noSigterm }, async () => {
  // Two busy loops beside the server, as on a loaded host.
  const busy = [1, 2].map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  try {
    const { p, url } = await start('2');
    const agent = new http.Agent({ keepAlive: false, maxSockets: 500 });
    const inflight = Array.from({ length: 100 }, () => get(url + '/slow', agent).catch((err: Error & { code?: string }) => ({ status: 0, body: err.code ?? err.message })));
    // Every request is inside a handler (accepted by a worker) before the signal.
    await until('100 requests in handlers', () => (p.stdout().split('\n').filter((l) => l === 'arrived').length >= 100 ? true : undefined), 120_000);
    p.child.kill('SIGTERM');
    const results = await Promise.all(inflight);
    const failures = results.filter((r) => r.status !== 200 || r.body !== 'done');
    assert.deepEqual(failures, [], `${failures.length} of 100 failed`);
    assert.equal(await p.exited, 0);
    agent.destroy();
  } finally {
    for (const b of busy) b.kill('SIGKILL');
  }
});
