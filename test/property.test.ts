// Property-based tests (fast-check) for json and the router, against a real Lua VM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { luaWith, LuaHarness } from './support/harness';
import { LuaError } from '../core/lua/vm';

let lua: LuaHarness;
before(async () => {
  lua = await luaWith([]);
  await lua.run(String.raw`
    function roundtrip(text) return json.encode(json.decode(text)) end
    function try_decode(text)
      local ok, err = pcall(json.decode, text)
      if ok then return "ok" end
      return tostring(err)
    end
  `);
});
after(() => lua.close());

const luaString = (s: string) => `"${Buffer.from(s, 'utf8').toString('latin1').replace(/[\\"\x00-\x1f\x7f-\xff]/g, (c) => `\\${String(c.charCodeAt(0)).padStart(3, '0')}`)}"`;
const luaBytes = (b: Uint8Array) => `"${Array.from(b, (x) => `\\${String(x).padStart(3, '0')}`).join('')}"`;

test('json: decode then encode gives back the same JSON value', async () => {
  await fc.assert(fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (value) => {
    const text = JSON.stringify(value);
    const out = (await lua.run(`return roundtrip(${luaString(text)})`)) as string;
    assert.deepEqual(JSON.parse(out), JSON.parse(text));
  }), { numRuns: 300 });
});

test('json: decode never crashes on arbitrary input; it returns or raises a json.decode error', async () => {
  const inputs = fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map(luaBytes),
    fc.string({ maxLength: 64 }).map(luaString),
    fc.jsonValue().map((v) => JSON.stringify(v)).chain((t) => fc.nat(t.length).map((n) => luaString(t.slice(0, n)))),
  );
  await fc.assert(fc.asyncProperty(inputs, async (literal) => {
    const r = (await lua.run(`return try_decode(${literal})`)) as string;
    assert.ok(r === 'ok' || /json\.decode: .* at position \d+ \(line \d+, column \d+\)/.test(r), r);
  }), { numRuns: 500 });
  assert.equal(await lua.run('return 1 + 1'), 2, 'the VM is still healthy');
});

test('json: encode of arbitrary Lua data is valid JSON', async () => {
  const leaf = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.string({ maxLength: 8 }).map(luaString));
  const table = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, leaf, tie('arr'), tie('obj')),
    arr: fc.array(tie('node'), { maxLength: 4 }).map((xs) => `{${xs.join(',')}}`),
    obj: fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), tie('node'), { maxKeys: 4 }).map((o) => `{${Object.entries(o).map(([k, v]) => `[${luaString(k)}]=${v}`).join(',')}}`),
  }));
  await fc.assert(fc.asyncProperty(table.node, async (expr) => {
    const text = (await lua.run(`return json.encode(${expr})`)) as string;
    assert.doesNotThrow(() => JSON.parse(text), text);
  }), { numRuns: 300 });
});

const segment = fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@-]{1,12}$/);

test('router: a :param route captures any segment, percent-decoded', async () => {
  await lua.run(`
    R = redox.router()
    R:get("/items/:id", function(req) return req.params.id end)
    R:get("/items/:id/parts/*", function(req) return req.params.id .. "|" .. req.params["*"] end)
    R:get("/static", function() return "static" end)
    function route(method, path)
      local fn, params, allowed = R:match(method, path)
      if fn then return fn({ params = params }) end
      if allowed then return "405" end
      return "404"
    end
  `);
  await fc.assert(fc.asyncProperty(fc.string({ minLength: 1, maxLength: 12 }), fc.array(segment, { maxLength: 3 }), async (id, rest) => {
    const enc = encodeURIComponent(id);
    const one = await lua.run(`return route("GET", ${luaString('/items/' + enc)})`);
    assert.equal(one, id);
    if (rest.length) {
      const two = await lua.run(`return route("GET", ${luaString(`/items/${enc}/parts/${rest.join('/')}`)})`);
      assert.equal(two, `${id}|${rest.join('/')}`);
    }
    assert.equal(await lua.run(`return route("POST", ${luaString('/items/' + enc)})`), '405');
  }), { numRuns: 300 });
});

test('router: paths no route matches are 404, never an error', async () => {
  await fc.assert(fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 5 }), async (parts) => {
    fc.pre(parts[0] !== 'items' && parts[0] !== 'static');
    assert.equal(await lua.run(`return route("GET", ${luaString('/' + parts.join('/'))})`), '404');
  }), { numRuns: 300 });
});

test('fast-check found the VM usable throughout', async () => {
  await assert.rejects(lua.run('error("still raising normally")'), LuaError);
});
