// Faults inside one request stay inside it: runaway loops, memory bombs, errors in middleware.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveLua } from './support/harness';

const APP = String.raw`
local app = redox.router()
app:use(function(req, next)
  if req.query.mw_fail then error("middleware broke") end
  return next()
end)
app:get("/ok", function() return "ok" end)
app:get("/spin", function() while true do end end)
app:get("/spin-pcall", function() while true do pcall(function() while true do end end) end end)
app:get("/spin-coroutine", function()
  local co = coroutine.wrap(function() while true do end end)
  co()
  return "escaped"
end)
app:get("/sleepy-spin", function()
  -- waiting does not count against the budget; computing does
  for i = 1, 5 do redox.sleep(100) end
  return "slept"
end)
app:get("/bomb", function()
  local t = {}
  for i = 1, 1e9 do t[i] = string.rep("x", 10000) .. i end
end)
app:get("/big-string", function() return tostring(#string.rep("x", 3 * 1024 * 1024 * 1024)) end)
-- Small inputs, a huge result: a separator repeated 300,000 times, one string listed 20,000 times.
local parts = {}
for i = 1, 300000 do parts[i] = "" end
local big = string.rep("y", 65536)
local same = {}
for i = 1, 20000 do same[i] = big end
app:get("/concat-sep", function() return tostring(#table.concat(parts, string.rep("z", 4096))) end)
app:get("/concat-same", function() return tostring(#table.concat(same)) end)
app:get("/concat-ok", function() return tostring(#table.concat({ "a", 1, "b" }, ", ", 1, 3)) .. " " .. table.concat({}) end)
return app
`;

let s: Awaited<ReturnType<typeof serveLua>>;
before(async () => {
  s = await serveLua(APP, [], { limits: { cpuBudgetMs: '300ms', memoryBytes: '48MiB' } });
});
after(() => s.close());

const logged = async (rid: string | null) => {
  await new Promise((r) => setImmediate(r));
  return s.log.lines.map((l) => JSON.parse(l)).filter((l) => l.request_id === rid);
};

test('an infinite loop is stopped: 503, the log names the route, the server keeps serving', async () => {
  for (const path of ['/spin', '/spin-pcall', '/spin-coroutine']) {
    // An endless loop answers at all only if it was stopped: the 503 and the log line show it.
    const res = await fetch(s.url + path);
    assert.equal(res.status, 503, path);
    const entries = await logged(res.headers.get('x-request-id'));
    const err = entries.find((e) => e.level === 'error');
    assert.equal(err.msg, 'handler exceeded its CPU budget');
    assert.equal(err.path, path);
    assert.equal(await (await fetch(s.url + '/ok')).text(), 'ok');
  }
});

test('time spent waiting on the host does not count against the CPU budget', async () => {
  const res = await fetch(s.url + '/sleepy-spin');
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'slept');
});

test('other requests are served while and after a runaway request is stopped', async () => {
  const [spin, ok] = await Promise.all([fetch(s.url + '/spin'), fetch(s.url + '/ok')]);
  assert.equal(spin.status, 503);
  assert.equal(ok.status, 200);
});

test('a memory bomb gets a clean 500 for that request; the VM recovers', async () => {
  // Its own server: a generous CPU budget so the memory limit is what stops the bomb.
  const m = await serveLua(APP, [], { limits: { cpuBudgetMs: '20s', memoryBytes: '24MiB' } });
  try {
    const res = await fetch(m.url + '/bomb');
    assert.equal(res.status, 500);
    assert.equal((await res.json() as any).error, 'request used too much memory');
    await new Promise((r) => setImmediate(r));
    const rid = res.headers.get('x-request-id');
    assert.ok(m.log.lines.map((l) => JSON.parse(l)).some((e) => e.request_id === rid && e.msg === 'handler exceeded the Lua memory limit'));
    for (let i = 0; i < 5; i++) assert.equal(await (await fetch(m.url + '/ok')).text(), 'ok');
    // memory is given back: the same bomb is stopped by the limit again, not failing at once
    const again = await fetch(m.url + '/bomb');
    assert.equal(again.status, 500);
    assert.ok(m.engine.vm.heapBytes() < 24 * 1024 * 1024 * 2);
    assert.equal(await (await fetch(m.url + '/ok')).text(), 'ok');
  } finally {
    await m.close();
  }
});

test('one allocation larger than the VM can hold fails that request only', async () => {
  const res = await fetch(s.url + '/big-string');
  assert.equal(res.status, 500);
  assert.equal(await (await fetch(s.url + '/ok')).text(), 'ok');
});

test('table.concat whose result would not fit is refused before it allocates, as a memory failure', async () => {
  for (const path of ['/concat-sep', '/concat-same']) {
    const rssBefore = process.memoryUsage().rss;
    const res = await fetch(s.url + path);
    // Refused before allocating: the wasm heap did not grow by the hundreds of MB asked for.
    assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024, `${path}: RSS grew by ${process.memoryUsage().rss - rssBefore} bytes`);
    assert.equal(res.status, 500, path);
    const entries = await logged(res.headers.get('x-request-id'));
    assert.ok(entries.some((e) => e.msg === 'handler exceeded the Lua memory limit'), `${path}: ${JSON.stringify(entries)}`);
  }
  assert.equal(await (await fetch(s.url + '/concat-ok')).text(), '7 ');
});

test('an error in middleware is a 500 and the next request works', async () => {
  const res = await fetch(s.url + '/ok?mw_fail=1');
  assert.equal(res.status, 500);
  const entries = await logged(res.headers.get('x-request-id'));
  assert.match(entries.find((e) => e.level === 'error').error, /app\.lua:4: middleware broke/);
  assert.equal(await (await fetch(s.url + '/ok')).text(), 'ok');
});

// Lazy budgets (core/lua/budget.ts): the count hook makes every Lua instruction slower, so with
// the watchdog on, a request's coroutine runs without it until the run has gone on for a while.
const HOOK_APP = String.raw`
local app = redox.router()
app:get("/mask", function() return tostring(hook_mask()) end)
app:get("/co-mask", function()
  local co = coroutine.create(function() return hook_mask() end)
  local _, mask = coroutine.resume(co)
  return tostring(mask)
end)
app:get("/until-engaged", function()
  while hook_mask() == 0 do end
  return "engaged"
end)
-- Two coroutines deep: the watchdog finds the one running through the ones resuming it.
app:get("/nested-until-engaged", function()
  local inner = coroutine.wrap(function() while hook_mask() == 0 do end return "engaged" end)
  local outer = coroutine.create(function() return inner() end)
  local _, result = coroutine.resume(outer)
  return result
end)
return app
`;
const LUA_MASKCOUNT = '8';

/** HOOK_APP with hook_mask(): the hook bits of the calling coroutine, as the VM has them. */
async function serveHookApp(limits: Record<string, string>) {
  const m = await serveLua(HOOK_APP, [], { limits });
  const vm = m.engine.vm;
  vm.pushRawFunction(vm.L, (T) => {
    vm.api.raw._lua_pushinteger(T, BigInt(vm.api.raw._lua_gethookmask(T)));
    return 1;
  });
  vm.api.setGlobal(vm.L, 'hook_mask');
  const get = async (path: string) => {
    const res = await fetch(m.url + path);
    return `${res.status} ${await res.text()}`;
  };
  return { m, get };
}

test('with the watchdog, a request runs without the budget hook until it has run for a while', async () => {
  // A budget far longer than the engage time: only the watchdog's engage can end the loop in time.
  const { m, get } = await serveHookApp({ cpuBudgetMs: '20s', memoryBytes: '64MiB' });
  try {
    assert.equal(await get('/mask'), '200 0');
    assert.equal(await get('/co-mask'), '200 0');
    assert.equal(await get('/until-engaged'), '200 engaged');
    assert.equal(await get('/nested-until-engaged'), '200 engaged');
    // The pooled coroutine goes back without the hook.
    assert.equal(await get('/mask'), '200 0');
  } finally {
    await m.close();
  }
});

test('without the watchdog, every request runs under the budget hook', async () => {
  const { m, get } = await serveHookApp({ cpuBudgetMs: '20s', watchdogGraceMs: '0' });
  try {
    assert.equal(await get('/mask'), `200 ${LUA_MASKCOUNT}`);
    assert.equal(await get('/co-mask'), `200 ${LUA_MASKCOUNT}`);
  } finally {
    await m.close();
  }
});
