// The redis feature against a real redis-server that this file starts (on a free port, no
// persistence) and stops, from real Lua VMs with only this feature.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import Redis from 'ioredis';
import { luaWith, serveLua, LuaHarness, ROOT } from '../../test/support/harness';
import { freePort, startRedis, RedisServer } from '../../test/support/servers';

let server: RedisServer;
/** A direct client for setup and for watching the server. */
let admin: Redis;

before(async () => {
  server = await startRedis();
  admin = new Redis(server.url, { maxRetriesPerRequest: 0, retryStrategy: () => 50 });
  admin.on('error', () => {}); // the outage test stops the server under it
});

after(async () => {
  admin?.disconnect();
  await server?.close();
});

const lit = (s: string) => JSON.stringify(s);

async function withRedis(options = ''): Promise<LuaHarness> {
  const lua = await luaWith(['redis']);
  await lua.run(`r = redis.connect(${lit(server.url)}${options ? `, ${options}` : ''})`);
  return lua;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Connections the server has from Redox clients (they name themselves "redox"). */
async function redoxClients(): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  return list.split('\n').filter((l) => / name=redox /.test(l)).length;
}

test('strings, counters, hashes, lists and sets map to Lua values', async () => {
  const lua = await withRedis();
  try {
    assert.deepEqual(await lua.run(`return {
      r:set("s:name", "Ann"), r:get("s:name"), r:get("s:missing") == nil,
      r:incr("s:n"), r:incrby("s:n", 41), r:decr("s:n"), r:incrbyfloat("s:f", 1.5),
      r:exists("s:name", "s:missing"), r:del("s:name", "s:missing"), r:get("s:name") == nil,
    }`), ['OK', 'Ann', true, 1, 42, 41, '1.5', 1, 1, true]);
    // nx/xx: nil when the condition fails; get returns the old value.
    assert.deepEqual(await lua.run(`return {
      r:set("s:once", "a", {nx = true}), r:set("s:once", "b", {nx = true}) == nil, r:get("s:once"),
      r:set("s:once", "c", {xx = true, get = true}), r:get("s:once"),
    }`), ['OK', true, 'a', 'a', 'c']);
    assert.deepEqual(await lua.run(`return {
      r:hset("h:u", "name", "Ann", "age", 31), r:hset("h:u", {city = "Oslo"}), r:hget("h:u", "age"), r:hget("h:u", "nope") == nil,
      r:hgetall("h:u"), r:hincrby("h:u", "age", 1), r:hdel("h:u", "city"), r:hlen("h:u"), next(r:hgetall("h:none")) == nil,
    }`), [2, 1, '31', true, { name: 'Ann', age: '31', city: 'Oslo' }, 32, 1, 2, true]);
    assert.deepEqual(await lua.run(`return {
      r:lpush("l:q", "a", "b"), r:rpush("l:q", "c"), r:lrange("l:q", 0, -1), r:rpop("l:q"), r:lpop("l:q"), r:llen("l:q"), r:rpop("l:none") == nil,
      r:sadd("set:s", "x", "y", "x"), r:sismember("set:s", "y"), r:scard("set:s"),
    }`), [2, 3, ['b', 'a', 'c'], 'c', 'b', 1, true, 2, 1, 2]);
    // A missing value inside an array reply keeps its place as json.null.
    assert.deepEqual(await lua.run(`r:set("m:a", "1") r:set("m:c", "3")
      local v = r:mget("m:a", "m:b", "m:c") return {#v, v[2] == json.null, json.encode(v)}`), [3, true, '["1",null,"3"]']);
    // Values are bytes: binary data and numbers round-trip.
    assert.deepEqual(await lua.run(`local bin = "\\0\\255\\1\\r\\n" r:set("b:bin", bin) r:set("b:num", 12.5)
      return {r:get("b:bin") == bin, #r:get("b:bin"), r:get("b:num"), r:strlen("b:bin")}`), [true, 5, '12.5', 5]);
    // Any command by name.
    assert.deepEqual(await lua.run(`r:set("c:k", "hello world") return {r:call("GETRANGE", "c:k", 0, 4), r:call("type", "c:k"), r:ping()}`), ['hello', 'string', 'PONG']);
    // Strings that look like injection are just data.
    const nasty = "'; FLUSHALL\r\n*1\r\n$8\r\nFLUSHALL\r\n";
    assert.equal(await lua.run(`r:set("inj", ${lit(nasty)}) return r:get("inj")`), nasty);
    assert.equal(await admin.get('c:k'), 'hello world');
  } finally {
    await lua.close();
  }
});

test('expiry: ex/px on set, expire, ttl, persist, and keys that expire are gone', async () => {
  const lua = await withRedis();
  try {
    assert.deepEqual(await lua.run(`r:set("e:a", "v", {ex = 60})
      local t = r:ttl("e:a")
      return {t > 0 and t <= 60, r:ttl("e:missing"), r:persist("e:a"), r:ttl("e:a"), r:expire("e:a", 100), r:expire("e:missing", 5)}`),
    [true, -2, 1, -1, 1, 0]);
    const pttl = await lua.run(`return r:pttl("e:a")`) as number;
    assert.ok(pttl > 0 && pttl <= 100_000, `pttl ${pttl}`);
    await lua.run(`r:set("e:short", "v", {px = 30}) r:set("e:keep", "v")`);
    await lua.run(`r:pexpire("e:keep", 30)`);
    // The server removes them: wait for that event, not for a fixed time.
    await until('keys to expire', async () => (await lua.run(`return r:get("e:short") == nil and r:get("e:keep") == nil`)) === true);
    assert.equal(await admin.exists('e:short', 'e:keep'), 0);
    await assert.rejects(lua.run(`r:set("e:x", "v", {ex = 1.5})`), /snippet\d+\.lua:1: r:set: ex must be a whole number > 0, got 1\.5/);
    // A whole float is a whole number (the marshaller's rule, not redis's).
    assert.equal(await lua.run(`r:set("e:f", "v", {ex = 60.0}) local t = r:ttl("e:f") return t > 0 and t <= 60`), true);
    await assert.rejects(lua.run(`r:set("e:x", "v", {ttl = 5})`), /r:set: unknown option 'ttl'/);
  } finally {
    await lua.close();
  }
});

test('pipelines return every reply in order, in one round trip; atomic uses MULTI/EXEC', async () => {
  const lua = await withRedis();
  try {
    await lua.run(`r:ping()`); // connected: the handshake's commands are done
    const before = Number(/total_commands_processed:(\d+)/.exec(await admin.info('stats'))![1]);
    const out = await lua.run(`local replies = r:pipeline(function(p)
        p:set("p:a", "1")
        p:incr("p:a")
        p:get("p:missing")
        p:hset("p:h", {x = "1"})
        p:hgetall("p:h")
        p:mget("p:a", "p:missing")
        p:call("STRLEN", "p:a")
      end)
      return {replies.n, replies[1], replies[2], replies[3] == nil, replies[4], replies[5], replies[6][2] == json.null, replies[7]}`);
    assert.deepEqual(out, [7, 'OK', 2, true, 1, { x: '1' }, true, 1]);
    const after = Number(/total_commands_processed:(\d+)/.exec(await admin.info('stats'))![1]);
    assert.equal(after - before, 7 + 1, 'the seven commands (plus the first INFO) and nothing else');
    assert.deepEqual(await lua.run(`local rs = r:pipeline(function(p) p:incr("p:tx") p:incr("p:tx") end, {atomic = true}) return {rs.n, rs[1], rs[2]}`), [2, 1, 2]);
    assert.deepEqual(await lua.run(`local rs = r:pipeline(function(p) end) return {rs.n}`), [0]);
    // An error reply in one command: nil, err naming it (the others still ran).
    assert.deepEqual(await lua.run(`local rs, err = r:pipeline(function(p) p:set("p:s", "x") p:incr("p:s") p:set("p:after", "y") end)
      return {rs == nil, err.code, err.index, r:get("p:after")}`), [true, 'ERR', 2, 'y']);
    await assert.rejects(lua.run(`r:pipeline("nope")`), /r:pipeline: expected a function\(p\)/);
  } finally {
    await lua.close();
  }
});

test('error replies are nil, err; mistakes in the code raise at the caller\'s line', async () => {
  const lua = await withRedis();
  try {
    assert.deepEqual(await lua.run(`r:lpush("w:list", "a") local v, err = r:get("w:list") return {v == nil, err.code, tostring(err):match("^WRONGTYPE: ") ~= nil}`), [true, 'WRONGTYPE', true]);
    assert.deepEqual(await lua.run(`r:set("w:s", "abc") local v, err = r:incr("w:s") return {v == nil, err.code, err.message}`), [true, 'ERR', 'ERR value is not an integer or out of range']);
    await assert.rejects(lua.run(`\nlocal v = r:call("NOSUCHCMD", "x")`), /snippet\d+\.lua:2: r:nosuchcmd: ERR unknown command 'NOSUCHCMD'/i);
    await assert.rejects(lua.run(`local v = r:get()`), /snippet\d+\.lua:1: r:get: ERR wrong number of arguments/);
    await assert.rejects(lua.run(`local v = r:set("k", {})`), /r:set: argument 2 must be a string or a number, got a table/);
    await assert.rejects(lua.run(`r:call("SUBSCRIBE", "news")`), /r:call: SUBSCRIBE is refused: it turns the shared connection into a subscriber/);
    await assert.rejects(lua.run(`r:call("select", 2)`), /r:call: SELECT is refused: .*connect with \{db = n\} instead/);
    await assert.rejects(lua.run(`redis.connect("http://x")`), /redis.connect: "http:\/\/x" is not a redis URL/);
    await assert.rejects(lua.run(`redis.connect({ hots = "x" })`), /redis.connect: unknown option 'hots'/);
  } finally {
    await lua.close();
  }
});

test('publish reaches a subscriber', async () => {
  const lua = await withRedis();
  const sub = new Redis(server.url);
  try {
    const got = new Promise<string>((resolve) => sub.on('message', (_ch, msg) => resolve(msg)));
    await sub.subscribe('news');
    assert.equal(await lua.run(`return r:publish("news", "hello")`), 1);
    assert.equal(await got, 'hello');
  } finally {
    sub.disconnect();
    await lua.close();
  }
});

test('command timeout, refused connection and wrong password are nil, err', async () => {
  const lua = await luaWith(['redis']);
  const locked = await startRedis({ password: 'right-pass' });
  try {
    // BLPOP on an empty list blocks: the command times out (on a client of its own).
    assert.deepEqual(await lua.run(`local slow = redis.connect(${lit(server.url)}, { timeout = 0.3 })
      local v, err = slow:call("BLPOP", "t:empty", "0") slow:close() return {v == nil, err.code}`), [true, 'timeout']);
    const port = await freePort();
    const refused = await lua.run(`local c = redis.connect("redis://127.0.0.1:${port}") local v, err = c:get("k") c:close() return {v == nil, err.code, err.message}`) as unknown[];
    assert.deepEqual(refused.slice(0, 2), [true, 'connection_refused']);
    assert.match(String(refused[2]), new RegExp(`127\\.0\\.0\\.1:${port}/0: connection refused`));
    assert.deepEqual(await lua.run(`local c = redis.connect("redis://:wrong-pass@127.0.0.1:${locked.port}") local v, err = c:get("k") c:close() return {v == nil, err.code}`), [true, 'auth_failed']);
    assert.equal(await lua.run(`local c = redis.connect({ host = "127.0.0.1", port = ${locked.port}, password = "right-pass" }) c:set("k", "v") local v = c:get("k") c:close() return v`), 'v');
  } finally {
    await locked.close();
    await lua.close();
  }
});

test('300 concurrent requests share one connection', async () => {
  const app = `
local r = redis.connect(redox.env("REDIS_TEST_URL"))
local app = redox.router()
app:get("/hit/:i", function(req)
  local n = assert(r:incr("conc:hits"))
  assert(r:set("conc:" .. req.params.i, n))
  return { json = { n = n } }
end)
return app`;
  process.env.REDIS_TEST_URL = server.url;
  const service = await serveLua(app, ['redis']);
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  try {
    const N = 300;
    const results = await Promise.all(Array.from({ length: N }, (_, i) => new Promise<{ status: number; n: number }>((resolve, reject) => {
      http.get(`${service.url}/hit/${i}`, { agent }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, n: JSON.parse(body).n }));
      }).on('error', reject);
    })));
    assert.deepEqual(results.map((r) => r.status), Array(N).fill(200));
    // INCR is atomic: every request saw a different count, 1..N.
    assert.deepEqual(results.map((r) => r.n).sort((a, b) => a - b), Array.from({ length: N }, (_, i) => i + 1));
    assert.equal(await admin.get('conc:hits'), String(N));
    assert.equal(await redoxClients(), 1);
  } finally {
    agent.destroy();
    await service.close();
    delete process.env.REDIS_TEST_URL;
  }
  await until('client closed', async () => (await redoxClients()) === 0);
});

test('the server stopped mid-run: nil, err, then recovery when it is back', async () => {
  const lua = await withRedis(`{ max_backoff = 0.2 }`);
  try {
    assert.equal(await lua.run(`r:set("o:k", "before") return r:get("o:k")`), 'before');
    await server.stop();
    const down = await lua.run(`local v, err = r:get("o:k") return {v == nil, err.code}`) as unknown[];
    assert.equal(down[0], true);
    assert.ok(['connection_lost', 'connection_refused'].includes(String(down[1])), `code ${down[1]}`);
    assert.deepEqual(await lua.run(`local v, err = r:set("o:k", "x") return {v == nil, err.code}`), [true, 'connection_refused']);
    await server.start();
    // Back (empty: no persistence): the client reconnects by itself.
    await until('reconnect', async () => (await lua.run(`return r:set("o:k", "after")`)) === 'OK');
    assert.equal(await lua.run(`return r:get("o:k")`), 'after');
  } finally {
    await lua.close();
  }
});

test('the README example runs as written (bearer tokens looked up in Redis)', async () => {
  const readme = fs.readFileSync(path.join(ROOT, 'features', 'redis', 'README.md'), 'utf8');
  const example = /## Example[\s\S]*?```lua\n([\s\S]*?)```/.exec(readme)![1];
  assert.ok(example.includes('redox.env("REDIS_URL")'));
  process.env.REDIS_URL = server.url;
  const service = await serveLua(example, ['redis']);
  try {
    const me = (token?: string) => fetch(`${service.url}/api/me`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    assert.equal((await me()).status, 401);
    assert.equal((await me('unknown-token')).status, 401);
    const login = await fetch(`${service.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'ann', token: 'tok-123' }) });
    assert.equal(login.status, 201);
    const ttl = await admin.ttl('session:tok-123');
    assert.ok(ttl > 0 && ttl <= 3600, `ttl ${ttl}`);
    assert.equal(await admin.get('session:tok-123'), 'ann');
    const first = await me('tok-123');
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { user: 'ann', hits: 1 });
    assert.deepEqual(await (await me('tok-123')).json(), { user: 'ann', hits: 2 });
    // A token injected into the key stays one key.
    assert.equal((await me('tok-123 x')).status, 401);
    assert.equal((await fetch(`${service.url}/api/logout`, { method: 'POST', headers: { authorization: 'Bearer tok-123' } })).status, 204);
    assert.equal((await me('tok-123')).status, 401);
    // An expired session is refused.
    await admin.set('session:old', 'bob', 'PX', 20);
    await until('session expired', async () => (await admin.exists('session:old')) === 0);
    assert.equal((await me('old')).status, 401);
  } finally {
    await service.close();
    delete process.env.REDIS_URL;
  }
});
