// The Lua sandbox: Lua reaches the host only through features.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { luaWith, LuaHarness, tempDir } from './support/harness';

let lua: LuaHarness;
let dir: string;
before(async () => {
  dir = tempDir();
  fs.mkdirSync(path.join(dir, 'lib'));
  fs.writeFileSync(path.join(dir, 'lib', 'util.lua'), 'return { answer = 42 }\n');
  fs.writeFileSync(path.join(path.dirname(dir), 'outside-secret.lua'), 'return "secret"\n');
  lua = await luaWith([], dir);
});
after(() => lua.close());

test('dangerous os functions are absent', async () => {
  for (const fn of ['exit', 'execute', 'remove', 'rename', 'tmpname', 'getenv', 'setlocale']) {
    assert.equal(await lua.run(`return os.${fn} == nil`), true, `os.${fn}`);
  }
  assert.equal(typeof (await lua.run('return os.time()')), 'number');
});

test('io, package.loadlib, package.cpath, dofile, loadfile and string.dump are absent', async () => {
  assert.equal(await lua.run('return rawget(_G, "io") == nil'), true);
  assert.equal(await lua.run('return package.loadlib == nil and package.cpath == nil and package.path == nil'), true);
  assert.equal(await lua.run('return dofile == nil and loadfile == nil and string.dump == nil'), true);
});

test('load refuses binary chunks whatever the mode, answering nil and a message as Lua does', async () => {
  assert.deepEqual(await lua.run('return { load("\\27LuaT\\0", "x", "b") }'), { 2: 'attempt to load a binary chunk (bytecode is not allowed in redox)' });
  assert.equal(await lua.run('local f = load("\\27LuaT\\0") return f == nil'), true);
  assert.equal(await lua.run('local parts, i = { "\\27Lua", "T" }, 0 return select(2, load(function() i = i + 1 return parts[i] end))'), 'attempt to load a binary chunk (bytecode is not allowed in redox)');
  assert.equal(await lua.run('return load("return 1 + 1")()'), 2);
  assert.equal(await lua.run('local parts, i = { "return ", "40 + 2" }, 0 return load(function() i = i + 1 return parts[i] end)()'), 42);
});

test('load(text, name, "b") returns nil and stock Lua\'s message instead of raising', async () => {
  assert.deepEqual(await lua.run('return { load("return 1", "x", "b") }'), { 2: "attempt to load a text chunk (mode is 'b')" });
  assert.equal(await lua.run('return load("return 3", "x", "bt")()'), 3);
});

test('coroutine.running() in a main chunk reports the main thread, as stock Lua does', async () => {
  assert.equal(await lua.run('local co, main = coroutine.running() return type(co) == "thread" and main'), true);
  assert.equal(await lua.run('return coroutine.wrap(function() return select(2, coroutine.running()) end)()'), false);
  assert.equal(await lua.run('local co = coroutine.create(function() return select(2, coroutine.running()) end) return select(2, coroutine.resume(co))'), false);
});

test('redox.env of an unset variable is exactly one nil', async () => {
  delete process.env.REDOX_TEST_UNSET;
  assert.equal(await lua.run('return select("#", redox.env("REDOX_TEST_UNSET"))'), 1);
  assert.equal(await lua.run('return tostring(redox.env("REDOX_TEST_UNSET"))'), 'nil');
});

test('math.random differs between VMs (seeded from a secure source)', async () => {
  const other = await luaWith([]);
  try {
    const draw = 'local t = {} for i = 1, 4 do t[i] = math.random(1, 1 << 30) end return table.concat(t, ",")';
    assert.notEqual(await lua.run(draw), await other.run(draw));
  } finally {
    await other.close();
  }
});

test('debug has only traceback; collectgarbage refuses options that stall the VM', async () => {
  assert.equal(await lua.run('local n = 0 for k in pairs(debug) do n = n + 1 end return n'), 1);
  await assert.rejects(lua.run('collectgarbage("stop")'), /not allowed/);
  await assert.rejects(lua.run('collectgarbage("setpause", 1000)'), /not allowed/);
  assert.equal(typeof (await lua.run('return collectgarbage("count")')), 'number');
});

test('require finds app modules and refuses paths outside the app folder', async () => {
  assert.equal(await lua.run('return require("lib.util").answer'), 42);
  await assert.rejects(lua.run('return require("../outside-secret")'), /module names are dotted paths/);
  await assert.rejects(lua.run('return require("/etc/passwd")'), /module names are dotted paths/);
  await assert.rejects(lua.run('return require("nope.missing")'), /module 'nope\.missing' not found \(looked for nope\/missing\.lua, nope\/missing\/init\.lua/);
});

test('a symlink out of the app folder is not followed', async () => {
  fs.symlinkSync(path.join(path.dirname(dir), 'outside-secret.lua'), path.join(dir, 'link.lua'));
  await assert.rejects(lua.run('return require("link")'), /not found/);
});

test('redox.env can be restricted with REDOX_ENV_ALLOW', async () => {
  process.env.REDOX_TEST_VISIBLE = 'yes';
  process.env.REDOX_TEST_HIDDEN = 'no';
  assert.equal(await lua.run('return redox.env("REDOX_TEST_HIDDEN")'), 'no');
  process.env.REDOX_ENV_ALLOW = 'REDOX_TEST_VIS*,PORT';
  try {
    assert.equal(await lua.run('return redox.env("REDOX_TEST_VISIBLE")'), 'yes');
    assert.equal(await lua.run('return redox.env("REDOX_TEST_HIDDEN")'), undefined);
  } finally {
    delete process.env.REDOX_ENV_ALLOW;
  }
});
