// The original Redox's example app (its shape: test/fixtures/seed) runs unchanged with
// --features distro-web,cache, served by the real CLI over real HTTP.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { httpGet, listeningUrl, luaWith, ROOT, spawnRedox, tempDir } from './support/harness';

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'seed', 'app.lua');
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/;

describe('seed compatibility', () => {
  it('serves the seed app unchanged: logger, sqlite.connect, lru_cache, uuid, json, requests, get()', { timeout: 60_000 }, async () => {
    const dir = tempDir('redox-seed-');
    fs.copyFileSync(FIXTURE, path.join(dir, 'app.lua'));
    // Offline and deterministic: the upstream host is outside the allow-list, so /todos fails
    // inside requests.get (proving the route and the feature are wired) without a network.
    const server = spawnRedox(['serve', 'app.lua', '--features', 'distro-web,cache', '--port', '0'],
      { cwd: dir, env: { REDOX_ALLOW_HOSTS: 'allowed.invalid', REDOX_LOG_LEVEL: 'info' } });
    try {
      const url = await listeningUrl(server);
      const first = await httpGet(url + '/');
      assert.equal(first.status, 200, first.body);
      assert.match(first.body, /^Hello, World!\{/);
      const user = JSON.parse(first.body.slice('Hello, World!'.length));
      assert.equal(user.id, 1);
      assert.equal(user.name, 'Alice');
      assert.match(user.uuid, UUID);

      // lru_cache: the second request is served from the cache (same UUID) ...
      assert.equal((await httpGet(url + '/')).body, first.body);
      // ... until :delete drops it.
      assert.equal((await httpGet(url + '/forget')).body, 'forgotten');
      const third = await httpGet(url + '/');
      assert.equal(third.status, 200);
      assert.notEqual(third.body, first.body);

      const todos = await httpGet(url + '/todos');
      assert.equal(todos.status, 500);
      assert.ok(fs.existsSync(path.join(dir, 'app.sqlite')), 'sqlite://app.sqlite created the file in the working folder');
      // The access log line is written after the response: wait for it.
      while (!/"path":"\/todos","status":500/.test(server.stdout() + server.stderr())) await new Promise((r) => setTimeout(r, 20));
      const logs = server.stdout() + server.stderr();
      for (const line of ['seed app: starting', 'seed app: opening the database', 'seed app: schema and one user']) {
        assert.ok(logs.includes(line), `logger.info line "${line}" missing from: ${logs}`);
      }
      // requests.get returned nil, err (host not allowed) and the seed passes it on to json.decode.
      assert.match(logs, /"path":"\/todos"[^\n]*app\.lua:\d+: json\.decode expects a string, got nil/, 'the /todos failure came from requests.get refusing the host');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lru_cache.create(max) keeps at most max entries, least recently used out first', async () => {
    const lua = await luaWith(['cache']);
    try {
      const out = await lua.run(`
        local c = lru_cache.create(2)
        c:set("a", 1); c:set("b", 2)
        local a = c:get("a")          -- a is now the most recently used
        c:set("c", 3)                 -- evicts b
        return { a = a, b = c:get("b"), c = c:get("c"), same = require("lru_cache") == lru_cache,
                 deleted = c:delete("a"), after = c:get("a") }`);
      assert.deepEqual(out, { a: 1, c: 3, same: true, deleted: true });
    } finally {
      await lua.close();
    }
  });

  it('lru_cache.create rejects a size that is not a positive integer, at the caller\'s line', async () => {
    const lua = await luaWith(['cache']);
    try {
      await assert.rejects(lua.run('local c = lru_cache.create(0)\nreturn c'), /snippet\d+\.lua:1: lru_cache\.create\(max\): max must be an integer >= 1/);
    } finally {
      await lua.close();
    }
  });

  it('logger is log, in every VM (no feature needed)', async () => {
    const lua = await luaWith([]);
    try {
      assert.equal(await lua.run('return logger == log and require("logger") == log'), true);
      await assert.rejects(lua.run('return lru_cache.create(1)'), /lru_cache/);
    } finally {
      await lua.close();
    }
  });
});
