// uuid from a real Lua VM with only this feature installed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LuaHarness, luaWith, ROOT, serveLua } from '../../test/support/harness';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuid', () => {
  let lua: LuaHarness;
  before(async () => {
    lua = await luaWith(['uuid']);
  });
  after(() => lua.close());

  it('is reachable as a global and through require', async () => {
    assert.equal(await lua.run('return require("uuid") == uuid'), true);
  });

  it('makes v4 UUIDs in canonical lower-case form, all different', async () => {
    const ids = await lua.run('local t = {} for i = 1, 500 do t[i] = uuid.v4() end return t') as string[];
    assert.equal(ids.length, 500);
    for (const id of ids) assert.match(id, V4);
    assert.equal(new Set(ids).size, 500);
  });

  it('makes v7 UUIDs whose leading 48 bits are the creation time in ms', async () => {
    const before = Date.now();
    const id = await lua.run('return uuid.v7()') as string;
    const after = Date.now();
    assert.match(id, V7);
    const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    assert.ok(ms >= before && ms <= after, `timestamp ${ms} not within ${before}..${after}`);
  });

  it('orders 1000 consecutive v7 UUIDs by creation when sorted as strings', async () => {
    const r = await lua.run(`
      local ids = {}
      for i = 1, 1000 do ids[i] = uuid.v7() end
      local sorted = {}
      for i, v in ipairs(ids) do sorted[i] = v end
      table.sort(sorted)
      for i = 1, #ids do
        if ids[i] ~= sorted[i] then return "out of order at " .. i end
      end
      local seen = {}
      for _, v in ipairs(ids) do
        if seen[v] then return "duplicate " .. v end
        seen[v] = true
      end
      return "ok"
    `);
    assert.equal(r, 'ok');
  });

  it('reports the version of a UUID', async () => {
    const r = await lua.run(`return {
      uuid.version(uuid.v4()), uuid.version(uuid.v7()),
      uuid.version("6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
      uuid.version("00000000-0000-0000-0000-000000000000"),
    }`);
    assert.deepEqual(r, [4, 7, 1, 0]);
  });

  it('validates good and bad input', async () => {
    const r = await lua.run(`
      local cases = {
        uuid.v4(), uuid.v7(), "6BA7B810-9DAD-11D1-80B4-00C04FD430C8",
        "not-a-uuid", "", "6ba7b810-9dad-11d1-80b4-00c04fd430c", "6ba7b810-9dad-11d1-80b4-00c04fd430c8x",
        "6ba7b8109dad11d180b400c04fd430c8", "6ba7b810-9dad-11d1-c0b4-00c04fd430c8", "g ba7b810-9dad-11d1-80b4-00c04fd430c8",
      }
      local out = {}
      for i, s in ipairs(cases) do out[i] = uuid.validate(s) end
      out[#out + 1] = uuid.validate(nil)
      out[#out + 1] = uuid.validate(42)
      return out
    `);
    assert.deepEqual(r, [true, true, true, false, false, false, false, false, false, false, false, false]);
  });

  it('gives nil as the version of anything that is not a UUID', async () => {
    const r = await lua.run(`return {
      uuid.version("not-a-uuid") == nil, uuid.version("") == nil, uuid.version(nil) == nil, uuid.version({}) == nil,
    }`);
    assert.deepEqual(r, [true, true, true, true]);
  });
});

describe('uuid README example', () => {
  it('serves as written', async () => {
    const readme = fs.readFileSync(path.join(ROOT, 'features', 'uuid', 'README.md'), 'utf8');
    const code = /```lua\n([\s\S]*?)```/.exec(readme)![1];
    const service = await serveLua(code, ['uuid']);
    try {
      const created = await fetch(`${service.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"item":"tea"}' });
      assert.equal(created.status, 201);
      const order = await created.json() as { id: string; request: string; item: string };
      assert.equal(order.item, 'tea');
      assert.match(order.id, V7);
      assert.match(order.request, V4);
      assert.deepEqual(await (await fetch(`${service.url}/orders/${order.id}`)).json(), { id: order.id, version: 7 });
      assert.equal((await fetch(`${service.url}/orders/42`)).status, 400);
    } finally {
      await service.close();
    }
  });
});
