// The core json module, run in a real Lua VM and checked against JavaScript's JSON.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { luaWith, LuaHarness } from './support/harness';

let lua: LuaHarness;
before(async () => { lua = await luaWith([]); });
after(() => lua.close());

test('decode then encode matches JavaScript for a variety of documents', async () => {
  const docs = [
    '{"a":1,"b":[true,false,null],"c":{"d":"e"}}',
    '[1,-2,3.5,1e+21,0.1,12345678901234]',
    '"quotes \\" backslash \\\\ slash / tab \\t newline \\n unicode \\u00e9 \\ud83d\\ude00"',
    '[]',
    '{}',
    '[[],{},[[[]]]]',
  ];
  for (const doc of docs) {
    const out = (await lua.run(`return json.encode(json.decode([==[${doc}]==]))`)) as string;
    assert.deepEqual(JSON.parse(out), JSON.parse(doc), doc);
  }
});

test('encoding sorts keys, keeps integers and floats apart, escapes control characters', async () => {
  assert.equal(await lua.run('return json.encode({b = 1, a = 2.5, c = "x\\1y"})'), '{"a":2.5,"b":1,"c":"x\\u0001y"}');
  assert.equal(await lua.run('return json.encode({1, 2, 3})'), '[1,2,3]');
  assert.equal(await lua.run('return json.encode(0.1 + 0.2)'), '0.30000000000000004');
  assert.equal(await lua.run('return json.encode(3.0)'), '3');
});

test('json.null, empty arrays and json.array()', async () => {
  assert.equal(await lua.run('return json.encode({a = json.null})'), '{"a":null}');
  assert.equal(await lua.run('return json.decode("null") == json.null'), true);
  assert.equal(await lua.run('return json.encode({})'), '{}');
  assert.equal(await lua.run('return json.encode(json.array())'), '[]');
  assert.equal(await lua.run('return json.encode({list = json.empty_array})'), '{"list":[]}');
  assert.equal(await lua.run('return json.encode(json.decode("{\\"x\\":[]}"))'), '{"x":[]}', 'decoded empty arrays stay arrays');
  assert.equal(await lua.run('return json.is_array(json.decode("[1]"))'), true);
});

test('invalid input errors say what and where', async () => {
  const cases: [string, RegExp][] = [
    ['{"a":1,}', /expected a string key at position 8 \(line 1, column 8\)/],
    ['[1,2', /expected ',' or ']' at position 5/],
    ['{"a" 1}', /expected ':' at position 6/],
    ['"abc', /unterminated string at position 1/],
    ['[01]', /invalid number at position 2/],
    ['tru', /unexpected character at position 1/],
    ['{}x', /unexpected trailing characters at position 3/],
    [' \n\n  @', /unexpected character at position 6 \(line 3, column 3\)/],
    ['', /unexpected end of input/],
  ];
  for (const [input, pattern] of cases) {
    await assert.rejects(lua.run(`return json.decode([==[${input}]==])`), pattern, input);
  }
  await assert.rejects(lua.run('return json.decode("\\"\\255\\"")'), /invalid UTF-8 at position 2/);
});

test('encoding errors: cycles, sparse arrays, mixed keys, functions, NaN', async () => {
  await assert.rejects(lua.run('local t = {} t.self = t return json.encode(t)'), /contains itself \(cycle\)/);
  await assert.rejects(lua.run('return json.encode({1, nil, 3})'), /sparse array/);
  await assert.rejects(lua.run('return json.encode({1, a = 2})'), /both array items and string keys/);
  await assert.rejects(lua.run('return json.encode({f = print})'), /type function/);
  await assert.rejects(lua.run('return json.encode(0/0)'), /cannot encode/);
  await assert.rejects(lua.run('return json.encode("\\255")'), /invalid UTF-8/);
  // Number keys: only positive integers are array indexes (2.0 is stored as the integer 2).
  await assert.rejects(lua.run('return json.encode({[1.5] = 1})'), /key of type number \(1\.5\)/);
  await assert.rejects(lua.run('return json.encode({[0] = 1})'), /key of type number \(0\)/);
  await assert.rejects(lua.run('return json.encode({[-1] = 1})'), /key of type number \(-1\)/);
  await assert.rejects(lua.run('return json.encode({[2^60] = 1})'), /sparse array/);
  assert.equal(await lua.run('return json.encode({[1.0] = "a", [2] = "b"})'), '["a","b"]');
});

test('depth limit: deeply nested input is an error, not a crash', async () => {
  const deep = '['.repeat(100000) + ']'.repeat(100000);
  await assert.rejects(lua.run(`return json.decode(string.rep("[", 100000) .. string.rep("]", 100000))`), /nesting deeper than 200 levels/);
  assert.equal(await lua.run('return #json.encode(json.decode(string.rep("[", 150) .. string.rep("]", 150)))'), 300);
  assert.equal(await lua.run('return select(2, pcall(json.decode, string.rep("[", 10) .. string.rep("]", 10), {max_depth = 5})):match("deeper than 5") ~= nil'), true);
  assert.ok(deep.length > 0);
});

test('decode accepts values with __tostring (a response object)', async () => {
  assert.deepEqual(await lua.run('return json.decode(setmetatable({}, {__tostring = function() return "{\\"k\\":1}" end}))'), { k: 1 });
});
