// Synchronous-looking async: many requests suspended at once in their own coroutines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { httpGet as get, luaWith, serveLua } from './support/harness';

const agent = new http.Agent({ keepAlive: true, maxSockets: 2000 });


test('1,000 requests are suspended in their own coroutines at the same time', async () => {
  // A barrier in Lua: no handler returns before all 1,000 have arrived, so the test can only pass
  // if 1,000 coroutines were suspended at once (one after another would never get past it).
  const s = await serveLua(`
    local arrived = 0
    get("/", function(req)
      arrived = arrived + 1
      local seen = arrived
      while arrived < 1000 do redox.sleep(250) end
      return req.query.i .. " " .. tostring(seen <= 1000)
    end)`, [], { limits: { maxConnectionsPerIp: '0' } });
  try {
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => get(`${s.url}/?i=${i}`, agent)));
    results.forEach((r, i) => {
      assert.equal(r.status, 200);
      assert.equal(r.body, `${i} true`, 'each coroutine resumed with its own state');
    });
  } finally {
    await s.close();
  }
});

test('5,000 suspended coroutines complete and Lua memory returns to its baseline', async () => {
  const lua = await luaWith([]);
  const count = async () => {
    await lua.run('collectgarbage() collectgarbage()');
    return (await lua.run('return collectgarbage("count")')) as number;
  };
  const round = async () => {
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 5000; i++) pending.push(lua.run(`local t = {} for j = 1, 20 do t[j] = j * ${i} end redox.sleep(200) return #t`));
    await new Promise((r) => setTimeout(r, 50));
    const during = (await lua.run('return collectgarbage("count")')) as number;
    const results = await Promise.all(pending);
    assert.ok(results.every((r) => r === 20));
    return during;
  };
  try {
    const fresh = await count();
    // The first round sizes the registry (a high-water mark of ~16 bytes a slot); after it,
    // a round must leave nothing behind.
    await round();
    const baseline = await count();
    const during = await round();
    const after = await count();
    assert.ok(during > baseline + 1000, `5,000 live coroutines hold memory (${baseline} -> ${during} KiB)`);
    assert.ok(after <= baseline + 16, `memory returns to baseline: ${baseline} KiB -> ${after} KiB (fresh VM: ${fresh} KiB)`);
  } finally {
    await lua.close();
  }
});

test('a host wait inside a user coroutine passes through coroutine.wrap and resume', async () => {
  const lua = await luaWith([]);
  try {
    const out = await lua.run(String.raw`
      local gen = coroutine.wrap(function()
        for i = 1, 3 do redox.sleep(5) coroutine.yield(i) end
      end)
      local co = coroutine.create(function(a) redox.sleep(5) local b = coroutine.yield(a + 1) redox.sleep(5) return b * 2 end)
      local _, first = coroutine.resume(co, 1)
      local _, second = coroutine.resume(co, 10)
      local ok, err = pcall(function() redox.sleep(1) error("inner") end)
      return { gen(), gen(), gen(), first, second, ok, tostring(err):match("inner") }
    `);
    assert.deepEqual(out, [1, 2, 3, 2, 20, false, 'inner']);
  } finally {
    await lua.close();
  }
});

test('a host wait where yielding is impossible raises a clear error', async () => {
  const lua = await luaWith([]);
  try {
    await assert.rejects(lua.run('table.sort({3, 2, 1}, function(a, b) redox.sleep(1) return a < b end)'),
      /redox\.sleep waits for I\/O and cannot be called here/);
  } finally {
    await lua.close();
  }
});
