// The host router (core/runtime/routes.ts) must route exactly as the Lua router's match() does:
// fast-check builds random route tables and paths, and both answer for each, in a real Lua VM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { luaWith, LuaHarness } from './support/harness';
import { Routes } from '../core/runtime/routes';

let lua: LuaHarness;
before(async () => {
  lua = await luaWith([]);
});
after(() => lua.close());

const literal = fc.constantFrom('a', 'b', 'items', '%41');
const routeSegment = fc.oneof(literal, fc.constantFrom(':id', ':name'));
const route = fc.record({
  method: fc.constantFrom('GET', 'POST', 'HEAD', '*'),
  segments: fc.array(routeSegment, { maxLength: 3 }),
  splat: fc.constantFrom(null, '*', '*rest'),
  slash: fc.boolean(),
}).map(({ method, segments, splat, slash }) => {
  const parts = splat ? [...segments, splat] : segments;
  return { method, path: '/' + parts.join('/') + (slash && parts.length ? '/' : '') };
});
const requestPath = fc.record({
  parts: fc.array(fc.constantFrom('a', 'b', 'items', 'A', '%41', 'x%2Fy', '%zz', ''), { maxLength: 4 }),
  slash: fc.boolean(),
}).map(({ parts, slash }) => '/' + parts.join('/') + (slash ? '/' : ''));

interface Answer { handler: number | null; params: Record<string, string> | null; allow: string | null }

function hostAnswer(routes: { method: string; path: string }[], method: string, path: string): Answer {
  const r = new Routes<number>();
  routes.forEach((x, i) => r.add(x.method, x.path, i + 1));
  const m = r.match(method, path);
  if (m === null) return { handler: null, params: null, allow: null };
  if (m.allow !== undefined) return { handler: null, params: null, allow: m.allow };
  const params: Record<string, string> = {};
  const list = m.params ?? [];
  for (let i = 0; i < list.length; i += 2) params[list[i] as string] = Buffer.from(list[i + 1]).toString('utf8');
  return { handler: m.handler, params, allow: null };
}

async function luaAnswer(routes: { method: string; path: string }[], method: string, path: string): Promise<Answer> {
  const adds = routes.map((x, i) => `R:route(${JSON.stringify(x.method)}, ${JSON.stringify(x.path)}, function() return ${i + 1} end)`).join('\n');
  const out = await lua.run(`
    local R = redox.router()
    ${adds}
    local fn, params, allowed = R:match(${JSON.stringify(method)}, ${JSON.stringify(path)})
    if fn then return { handler = fn(), params = params } end
    if allowed then
      local list = {}
      for m in pairs(allowed) do list[#list + 1] = m end
      if not allowed.OPTIONS then list[#list + 1] = "OPTIONS" end
      table.sort(list)
      return { allow = table.concat(list, ", ") }
    end
    return {}
  `) as { handler?: number; params?: Record<string, string> | unknown[]; allow?: string };
  const params = out.params === undefined ? null : Array.isArray(out.params) ? {} : out.params;
  return { handler: out.handler ?? null, params: out.handler ? params : null, allow: out.allow ?? null };
}

test('host routing matches the Lua router: handler, params, 405 Allow and 404', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(route, { minLength: 1, maxLength: 6 }),
    fc.constantFrom('GET', 'POST', 'HEAD', 'DELETE', 'OPTIONS'),
    requestPath,
    async (routes, method, path) => {
      assert.deepEqual(hostAnswer(routes, method, path), await luaAnswer(routes, method, path));
    },
  ), { numRuns: 400 });
});

test('host routing: static beats dynamic, first dynamic route wins, HEAD falls back to GET', () => {
  const r = new Routes<string>();
  r.add('GET', '/users/:id', 'first');
  r.add('GET', '/users/:name', 'second');
  r.add('GET', '/users/me', 'static');
  r.add('POST', '/files/*path', 'upload');
  assert.equal(r.match('GET', '/users/me')?.handler, 'static');
  assert.deepEqual(r.match('GET', '/users/7'), { handler: 'first', params: ['id', '7'] });
  assert.equal(r.match('HEAD', '/users/7')?.handler, 'first');
  assert.deepEqual(r.match('POST', '/files/a/b'), { handler: 'upload', params: ['path', 'a/b'] });
  assert.deepEqual(r.match('GET', '/files/a'), { allow: 'OPTIONS, POST' });
  assert.equal(r.match('GET', '/nothing'), null);
});
