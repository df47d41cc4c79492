// cache from a real Lua VM with only this feature installed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LuaHarness, luaWith, ROOT, serveLua } from '../../test/support/harness';
import { liveCount, sweeping } from './registry';

describe('cache', () => {
  let lua: LuaHarness;
  before(async () => {
    lua = await luaWith(['cache']);
  });
  after(() => lua.close());

  it('is reachable as a global and through require', async () => {
    assert.equal(await lua.run('return require("cache") == cache and type(cache.new) == "function"'), true);
  });

  it('keeps strings, numbers, booleans and tables as they were', async () => {
    const r = await lua.run(String.raw`
      local c = cache.new{}
      c:set("s", "héllo")
      c:set("i", 42)
      c:set("f", 2.5)
      c:set("whole", 2.0)
      c:set("neg", -7)
      c:set("t", true)
      c:set("no", false)
      c:set("tbl", {id = 1, name = "ann", tags = {"a", "b"}, nested = {deep = {x = 1.5}}, empty = json.array({})})
      local t = c:get("tbl")
      return {
        s = c:get("s"), i = c:get("i"), i_type = math.type(c:get("i")),
        f = c:get("f"), whole_type = math.type(c:get("whole")), neg = c:get("neg"),
        t = c:get("t"), no = c:get("no"), no_is_false = c:get("no") == false,
        tbl = t, empty_is_array = json.encode(t.empty), missing = c:get("nope") == nil,
      }
    `) as Record<string, unknown>;
    assert.equal(r.s, 'héllo');
    assert.equal(r.i, 42);
    assert.equal(r.i_type, 'integer');
    assert.equal(r.f, 2.5);
    assert.equal(r.whole_type, 'float');
    assert.equal(r.neg, -7);
    assert.equal(r.t, true);
    assert.equal(r.no_is_false, true);
    assert.deepEqual(r.tbl, { id: 1, name: 'ann', tags: ['a', 'b'], nested: { deep: { x: 1.5 } }, empty: [] });
    assert.equal(r.empty_is_array, '[]');
    assert.equal(r.missing, true);
  });

  it('keeps binary strings byte for byte, as values, keys and inside tables', async () => {
    const r = await lua.run(String.raw`
      local bytes = {}
      for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
      local all = table.concat(bytes)
      local c = cache.new{}
      c:set("bin", all)
      c:set(all, "by binary key")
      c:set("\xff\xfe", "one")
      c:set("\xff\xfd", "two")
      c:set("tbl", {blob = all, list = {all, "\0"}})
      local t = c:get("tbl")
      return c:get("bin") == all and #c:get("bin") == 256 and c:get(all) == "by binary key"
        and c:get("\xff\xfe") == "one" and c:get("\xff\xfd") == "two"
        and t.blob == all and t.list[1] == all and t.list[2] == "\0"
    `);
    assert.equal(r, true);
  });

  it('keeps 64-bit integers exact and incr wraps like Lua', async () => {
    const r = await lua.run(`
      local c = cache.new{}
      c:set("max", math.maxinteger)
      c:set("tbl", {big = math.mininteger, list = {(1 << 53) + 1}})
      c:set("m", math.maxinteger - 1)
      local a = c:incr("m")
      local b = c:incr("m")
      c:set("p", 1 << 53)
      local t = c:get("tbl")
      return {c:get("max") == math.maxinteger, t.big == math.mininteger, t.list[1] == 9007199254740993,
              a == math.maxinteger, b == math.mininteger, c:incr("p") == 9007199254740993, math.type(c:get("p"))}
    `);
    assert.deepEqual(r, [true, true, true, true, true, true, 'integer']);
  });

  it('accepts number keys as their string form', async () => {
    const r = await lua.run(`
      local c = cache.new{}
      c:set(7, "seven")
      c:set("8", "eight")
      return {c:get("7"), c:get(8), c:get(7)}
    `);
    assert.deepEqual(r, ['seven', 'eight', 'seven']);
  });

  it('copies tables in and out: later mutation does not reach the cached copy', async () => {
    const r = await lua.run(`
      local c = cache.new{}
      local t = {n = 1, list = {1, 2}}
      c:set("k", t)
      t.n = 2; t.list[1] = 99; t.extra = true
      local a = c:get("k")
      a.n = 3; a.list[2] = 77
      local b = c:get("k")
      return {n = b.n, list = b.list, extra = b.extra == nil, distinct = a ~= b}
    `);
    assert.deepEqual(r, { n: 1, list: [1, 2], extra: true, distinct: true });
  });

  it('evicts the least recently used entry when max_entries is reached', async () => {
    const r = await lua.run(`
      local c = cache.new{max_entries = 3}
      c:set("a", 1); c:set("b", 2); c:set("c", 3)
      c:get("a")            -- a is now the most recently used
      c:set("d", 4)         -- evicts b
      local n = c:size()
      return {a = c:get("a"), b = c:get("b") == nil, c = c:get("c"), d = c:get("d"), n = n, evictions = c:stats().evictions}
    `);
    assert.deepEqual(r, { a: 1, b: true, c: 3, d: 4, n: 3, evictions: 1 });
  });

  it('stays within max_entries when every older entry was read (second chance wraps around)', async () => {
    const r = await lua.run(`
      local c = cache.new{max_entries = 3}
      c:set("a", 1); c:set("b", 2); c:set("c", 3)
      c:get("a"); c:get("b"); c:get("c")
      c:set("d", 4)
      c:set("e", 5)
      local n = c:size()
      return {n = n, d = c:get("d"), e = c:get("e"), evictions = c:stats().evictions}
    `);
    assert.deepEqual(r, { n: 3, d: 4, e: 5, evictions: 2 });
  });

  it('evicts by bytes, oldest first, and keeps the byte count within max_bytes', async () => {
    const r = await lua.run(`
      local c = cache.new{max_bytes = 1000}
      local v = string.rep("x", 200)   -- about 300 bytes each with key and overhead
      c:set("k1", v); c:set("k2", v); c:set("k3", v)
      local n3, b3 = c:size()
      c:get("k1")
      c:set("k4", v)                  -- over 1000 bytes: k2 (least recently used) goes
      local n, bytes = c:size()
      return {n3 = n3, b3 = b3, k1 = c:get("k1") ~= nil, k2 = c:get("k2") == nil, k3 = c:get("k3") ~= nil, k4 = c:get("k4") ~= nil, n = n, bytes = bytes}
    `) as Record<string, number | boolean>;
    assert.equal(r.n3, 3);
    assert.ok((r.b3 as number) > 600 && (r.b3 as number) <= 1000, `3 entries take ${r.b3} bytes`);
    assert.equal(r.k1, true);
    assert.equal(r.k2, true);
    assert.equal(r.k3, true);
    assert.equal(r.k4, true);
    assert.equal(r.n, 3);
    assert.ok((r.bytes as number) <= 1000);
  });

  it('refuses an entry larger than max_bytes with nil, err and drops the old value', async () => {
    const r = await lua.run(`
      local c = cache.new{max_bytes = 500}
      c:set("k", "small")
      local ok, err = c:set("k", string.rep("y", 1000))
      return {ok = ok == nil, code = err.code, text = tostring(err), gone = c:get("k") == nil}
    `) as Record<string, unknown>;
    assert.equal(r.ok, true);
    assert.equal(r.code, 'cache_too_large');
    assert.match(r.text as string, /^cache_too_large: .*max_bytes \(500\)/);
    assert.equal(r.gone, true);
  });

  it('expires entries after their TTL and reports the time left', async () => {
    const r = await lua.run(`
      local c = cache.new{}
      c:set("short", "v", 0.05)
      c:set("forever", "v")
      local before, left, forever = c:get("short"), c:ttl("short"), c:ttl("forever")
      redox.sleep(80)
      return {before = before, left = left, left_type = math.type(left), forever = forever,
              after = c:get("short") == nil, ttl_after = c:ttl("short") == nil, missing_ttl = c:ttl("none") == nil,
              readd = c:add("short", "again", 0.05), expired = c:stats().expired}
    `) as Record<string, unknown>;
    assert.equal(r.before, 'v');
    assert.ok((r.left as number) > 0 && (r.left as number) <= 0.05, `ttl left ${r.left}`);
    assert.equal(r.left_type, 'float');
    assert.equal(r.forever, -1);
    assert.equal(r.after, true);
    assert.equal(r.ttl_after, true);
    assert.equal(r.missing_ttl, true);
    assert.equal(r.readd, true);
    assert.equal(r.expired, 1);
  });

  it('sweeps expired entries that nobody reads again', async () => {
    const r = await lua.run(`
      local c = cache.new{}
      for i = 1, 100 do c:set("k" .. i, i, 0.05) end
      c:set("keep", 1)
      local before = c:size()
      redox.sleep(1300)  -- the sweep runs every second
      local after, bytes = c:size()
      return {before = before, after = after, expired = c:stats().expired}
    `);
    assert.deepEqual(r, { before: 101, after: 1, expired: 100 });
  });

  it('rejects a bad TTL as a programming error', async () => {
    await assert.rejects(lua.run('local c = cache.new{}\nc:set("k", 1, -5)'), /snippet\d+\.lua:2: cache:set: ttl must be a number of seconds/);
    await assert.rejects(lua.run('local c = cache.new{}\nc:set("k", 1, "10")'), /cache:set: ttl must be/);
  });

  it('add stores only when the key is absent', async () => {
    const r = await lua.run(`
      local c = cache.new{}
      local first = c:add("k", "one")
      local second = c:add("k", "two")
      return {first = first, second = second, value = c:get("k")}
    `);
    assert.deepEqual(r, { first: true, second: false, value: 'one' });
  });

  it('incr counts from init, keeps integers and floats apart, and keeps the TTL', async () => {
    const r = await lua.run(`
      local c = cache.new{}
      local a = c:incr("hits")            -- missing: 0 + 1
      local b = c:incr("hits", 5)
      local d = c:incr("from10", 1, 10)   -- missing: 10 + 1
      local f = c:incr("f", 0.5)
      local g = c:incr("hits", -2)
      c:set("t", 1, 10)
      c:incr("t")
      local t_left = c:ttl("t")
      local e = c:incr("e", 1, 0, 0.05)
      redox.sleep(80)
      return {a = a, a_type = math.type(a), b = b, d = d, f = f, f_type = math.type(f), g = g,
              t = c:get("t"), t_kept = t_left > 9, e = e, e_gone = c:get("e") == nil}
    `);
    assert.deepEqual(r, { a: 1, a_type: 'integer', b: 6, d: 11, f: 0.5, f_type: 'float', g: 4, t: 2, t_kept: true, e: 1, e_gone: true });
  });

  it('incr on a non-number raises at the caller', async () => {
    await assert.rejects(lua.run('local c = cache.new{}\nc:set("s", "text")\nc:incr("s")'), /snippet\d+\.lua:3: cache:incr: the value under key "s" is not a number/);
    await assert.rejects(lua.run('local c = cache.new{}\nc:incr("n", "1")'), /snippet\d+\.lua:2: cache:incr: the increment must be a number, got string/);
  });

  it('delete, flush, size and stats', async () => {
    const r = await lua.run(`
      local c = cache.new{max_entries = 10}
      c:set("a", "1"); c:set("b", "2")
      local del, del_again = c:delete("a"), c:delete("a")
      c:get("b"); c:get("b"); c:get("zzz")
      local n, bytes = c:size()
      local s = c:stats()
      c:flush()
      local n2, bytes2 = c:size()
      return {del = del, del_again = del_again, n = n, bytes_pos = bytes > 0, hits = s.hits, misses = s.misses,
              entries = s.entries, stat_bytes = s.bytes == bytes, evictions = s.evictions, max_entries = s.max_entries,
              n2 = n2, bytes2 = bytes2, b_gone = c:get("b") == nil}
    `);
    assert.deepEqual(r, {
      del: true, del_again: false, n: 1, bytes_pos: true, hits: 2, misses: 1, entries: 1, stat_bytes: true,
      evictions: 0, max_entries: 10, n2: 0, bytes2: 0, b_gone: true,
    });
  });

  it('get_or_set calls fn only on a miss and does not store nil, err', async () => {
    const r = await lua.run(`
      local c = cache.new{}
      local calls = 0
      local function load(k) calls = calls + 1; return {key = k, n = calls} end
      local a = c:get_or_set("u:1", 60, load)
      local b = c:get_or_set("u:1", 60, load)
      local v, err = c:get_or_set("u:2", 60, function() return nil, "not found" end)
      return {a = a.n, b = b.n, key = b.key, calls = calls, v = v == nil, err = err, stored = c:get("u:2") == nil, ttl = c:ttl("u:1") > 59}
    `);
    assert.deepEqual(r, { a: 1, b: 1, key: 'u:1', calls: 1, v: true, err: 'not found', stored: true, ttl: true });
  });

  it('named caches share one store; anonymous ones are private', async () => {
    const r = await lua.run(`
      local a = cache.new{name = "shared-test", max_entries = 100}
      local b = cache.new{name = "shared-test"}
      a:set("k", "from a")
      local p1, p2 = cache.new{}, cache.new{}
      p1:set("k", "p1")
      return {b = b:get("k"), same_stats = b:stats().name, p2 = p2:get("k") == nil, p1 = p1:get("k")}
    `);
    assert.deepEqual(r, { b: 'from a', same_stats: 'shared-test', p2: true, p1: 'p1' });
    await assert.rejects(lua.run('cache.new{name = "shared-test", max_entries = 5}'), /cache "shared-test" already exists with .*max_entries=100/);
  });

  it('named caches are shared by every VM of the process', async () => {
    const other = await luaWith(['cache']);
    try {
      await lua.run('cache.new{name = "process-wide"}:set("greeting", "hi")');
      assert.equal(await other.run('return cache.new{name = "process-wide"}:get("greeting")'), 'hi');
    } finally {
      await other.close();
    }
  });

  it('raises at the caller line for misuse', async () => {
    await assert.rejects(lua.run('local c = cache.new{}\nc:get({})'), /snippet\d+\.lua:2: cache:get: key must be a string or a number, got table/);
    await assert.rejects(lua.run('local c = cache.new{}\nc.get("k")'), /snippet\d+\.lua:2: call cache methods with a colon/);
    await assert.rejects(lua.run('\ncache.new{max_size = 10}'), /snippet\d+\.lua:2: cache.new: unknown option "max_size"/);
    await assert.rejects(lua.run('cache.new{max_entries = 0}'), /max_entries must be a positive integer, got 0/);
    await assert.rejects(lua.run('local c = cache.new{}\nc:set("k", nil)'), /snippet\d+\.lua:2: cache:set: the value is nil; to remove a key use c:delete\(key\)/);
    await assert.rejects(lua.run('local c = cache.new{}\nc:get_or_set("k", 1, "nope")'), /snippet\d+\.lua:2: cache:get_or_set\(key, ttl, fn\): fn must be a function/);
  });

  it('takes a whole float where an integer is needed, and keeps floats floats', async () => {
    const r = await lua.run(`
      local c = cache.new{max_entries = 3.0}
      c:set("f", 2.0); c:set("i", 2)
      local n = c:incr("n", 1.0)
      return {c:stats().max_entries, lru_cache.create(2.0):stats().max_entries, math.type(c:get("f")),
              math.type(c:get("i")), math.type(n), math.type(c:incr("i", 2.0)), math.type(c:incr("i"))}
    `);
    assert.deepEqual(r, [3, 2, 'float', 'integer', 'float', 'float', 'float']);
    await assert.rejects(lua.run('\nlru_cache.create(2.5)'), /snippet\d+\.lua:2: lru_cache.create\(max\): max must be an integer >= 1 \(the most entries kept\), got 2.5/);
    await assert.rejects(lua.run('local c = cache.new{}\nc:set("k", {f = print})'), /snippet\d+\.lua:2: cannot pass a Lua function to the host/);
  });

  it('releases private caches that Lua collects and keeps working', async () => {
    await lua.run('collectgarbage(); collectgarbage()');
    const before = liveCount();
    await lua.run('for i = 1, 50 do cache.new{}:set("k", i) end');
    assert.equal(liveCount(), before + 50);
    const r = await lua.run(`
      collectgarbage(); collectgarbage()
      local c = cache.new{}
      c:set("k", "alive")
      return c:get("k")
    `);
    assert.equal(r, 'alive');
    assert.ok(liveCount() <= before + 1, `${liveCount() - before} private caches still alive`);
  });
});

describe('cache README example', () => {
  it('serves as written', async () => {
    const readme = fs.readFileSync(path.join(ROOT, 'features', 'cache', 'README.md'), 'utf8');
    const code = /```lua\n([\s\S]*?)```/.exec(readme)![1];
    const service = await serveLua(code, ['cache']);
    try {
      const first = await (await fetch(`${service.url}/users/7`)).json() as { user: { id: string; loaded_at: number }; views: number };
      const second = await (await fetch(`${service.url}/users/7`)).json() as typeof first;
      assert.equal(first.user.id, '7');
      assert.deepEqual([first.views, second.views], [1, 2]);
      assert.equal(second.user.loaded_at, first.user.loaded_at, 'the second read comes from the cache');
      const missing = await fetch(`${service.url}/users/0`);
      assert.equal(missing.status, 404);
      assert.match((await missing.json() as { error: string }).error, /no such user/);
      const stats = await (await fetch(`${service.url}/stats`)).json() as { hits: number; misses: number };
      assert.deepEqual([stats.hits, stats.misses], [1, 2]);
    } finally {
      await service.close();
    }
  });
});

describe('cache cleanup', () => {
  it('stops the sweep timer when the last VM closes', async () => {
    const a = await luaWith(['cache']);
    await a.run('cache.new{}:set("k", 1, 10)');
    assert.equal(sweeping(), true);
    await a.close();
    assert.equal(sweeping(), false);
  });
});
