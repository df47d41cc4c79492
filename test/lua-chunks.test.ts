// Precompiled core and feature chunks (core/lua/chunks.ts): real VMs booted from text and from
// the bytecode they recorded, the store's file format, and the development CLI's cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ChunkStore } from '../core/lua/chunks';
import { LuaVM } from '../core/lua/vm';
import { Engine } from '../core/runtime/engine';
import { featureContext } from '../core/runtime/launch';
import { EmbeddedModules } from '../core/runtime/modules';
import { HostRequest } from '../core/runtime/requests';
import { luaWasmPath } from '../core/tooling/catalogue/packages';
import { memoryLogger, profileFor, spawnRedox, tempDir } from './support/harness';

const WASM = 'wasm-under-test';
const FEATURES = ['sqlite', 'uuid', 'cache'];

// A handler that fails inside core code (json.decode) and one inside a feature's Lua (cache).
const APP = String.raw`
get("/bad-json", function() return json.decode("{") end)
get("/bad-cache", function() return lru_cache.create(-1) end)
get("/ok", function() return { json = { n = 1, id = uuid.v4() ~= nil } } end)
`;

async function engineWith(chunks: ChunkStore | undefined): Promise<{ engine: Engine; log: ReturnType<typeof memoryLogger> }> {
  const profile = profileFor(FEATURES);
  const log = memoryLogger();
  const engine = await Engine.create({
    wasmPath: luaWasmPath(), chunks, features: profile.features, catalogue: profile.catalogue,
    modules: new EmbeddedModules({}), context: featureContext(profile, tempDir()), log, version: 'test', dev: true,
    budgets: { cpuMs: 1000, memoryBytes: 64 * 1024 * 1024 },
  });
  await engine.loadApp({ source: Buffer.from(APP), chunkName: 'app.lua' });
  return { engine, log };
}

const request = (p: string): HostRequest => ({ method: 'GET', path: p, query: '', rawHeaders: [], body: undefined, ip: '127.0.0.1', id: 'r1' });

/** What each route answers, error text included. */
async function answers(engine: Engine): Promise<string[]> {
  const out: string[] = [];
  for (const p of ['/bad-json', '/bad-cache', '/ok']) {
    const res = await engine.serve(request(p));
    out.push(`${res.status} ${Buffer.from(res.body ?? '').toString().replace(/"id":true|[0-9a-f-]{36}/g, '')} ${res.error ?? ''}`);
  }
  return out;
}

test('a VM booted from recorded bytecode parses nothing and answers exactly as one booted from text', async () => {
  const recorder = new ChunkStore(WASM, { record: true });
  const first = await engineWith(recorder);
  const compiled = recorder.stats.hits + recorder.stats.misses;
  assert.ok(recorder.stats.misses >= 12, `core and feature chunks parsed: ${recorder.stats.misses}`);
  assert.equal(recorder.size, recorder.stats.misses);
  const names = Object.values(JSON.parse(recorder.encode().toString()).chunks as Record<string, { name: string }>).map((c) => c.name);
  for (const name of ['=[redox prelude]', '=[router]', '=[http]', '=[json]', '=[sqlite]', '=[cache]', '=[cache:lru_cache]', '=[alloc check]', '=[calibrate]']) {
    assert.ok(names.includes(name), `${name} recorded (have ${names.join(', ')})`);
  }

  const loaded = ChunkStore.decode(recorder.encode(), WASM);
  const second = await engineWith(loaded);
  assert.deepEqual(loaded.stats, { hits: compiled, misses: 0 });

  const fromText = await engineWith(undefined);
  const expected = await answers(fromText.engine);
  assert.match(expected[0], /^500 /);
  assert.match(expected[0], /json/);
  assert.deepEqual(await answers(second.engine), expected, 'same statuses, bodies, messages and tracebacks');
  assert.deepEqual(await answers(first.engine), expected);
  await Promise.all([first.engine.close(), second.engine.close(), fromText.engine.close()]);
});

test('a changed source, a store for another wasm, damaged entries and foreign bytecode all fall back to parsing', async () => {
  const recorder = new ChunkStore(WASM, { record: true });
  const vm = await LuaVM.create(luaWasmPath(), recorder);
  vm.unref(vm.compileHost('return 1', '=[t]'));
  const encoded = recorder.encode();

  // Changed source: a miss, parsed and recorded beside the old entry.
  const store = ChunkStore.decode(encoded, WASM, { record: true });
  const vm2 = await LuaVM.create(luaWasmPath(), store);
  vm2.unref(vm2.compileHost('return 2', '=[t]'));
  assert.deepEqual(store.stats, { hits: 0, misses: 1 });
  assert.equal(store.size, 2);

  // Another wasm, a torn file, a damaged entry: empty stores, never an error.
  assert.equal(ChunkStore.decode(encoded, 'another-wasm').size, 0);
  assert.equal(ChunkStore.decode(encoded.subarray(0, encoded.length - 9), WASM).size, 0);
  const parsed = JSON.parse(encoded.toString());
  const key = Object.keys(parsed.chunks)[0];
  const bytes = Buffer.from(parsed.chunks[key].bytecode, 'base64');
  bytes[bytes.length - 3] ^= 0xff;
  parsed.chunks[key].bytecode = bytes.toString('base64');
  assert.equal(ChunkStore.decode(Buffer.from(JSON.stringify(parsed)), WASM).size, 0, 'an entry whose bytes changed is dropped');

  // Bytecode Lua refuses (say, from another Lua version): parsed from text instead, and replaced.
  const foreign = new ChunkStore(WASM, { record: true });
  foreign.add('=[t]', 'return 3', Buffer.from('\x1bLua\x53\x00 not this Lua'));
  const vm3 = await LuaVM.create(luaWasmPath(), foreign);
  const ref = vm3.compileHost('return 3', '=[t]');
  const result = await vm3.drive((T) => { vm3.pushRef(T, ref); return 1; }, (T, n) => vm3.result(T, n, 1));
  assert.equal(result, 3);
  assert.equal(foreign.stats.hits, 1);
  assert.notEqual(Buffer.from(foreign.get('=[t]', 'return 3')!).toString('latin1'), '\x1bLua\x53\x00 not this Lua');
});

test('app code is never loaded from the store, even when it holds bytecode under the app\'s name and source', async () => {
  const store = new ChunkStore(WASM, { record: true });
  // Bytecode of another app, filed under the real app's chunk name and exact source.
  const vm = await LuaVM.create(luaWasmPath(), store);
  vm.unref(vm.compileHost('get("/ok", function() return "from the store" end)', '@app.lua'));
  const planted = store.get('@app.lua', 'get("/ok", function() return "from the store" end)')!;
  assert.equal(Buffer.from(planted).toString('latin1', 0, 4), '\x1bLua');
  store.add('@app.lua', APP, planted);
  const { engine } = await engineWith(store);
  const res = await engine.serve(request('/ok'));
  assert.equal(res.status, 200);
  assert.doesNotMatch(String(res.body), /from the store/);
  assert.match(String(res.body), /"n":1/);
  // And compile(), which loads app code, refuses bytecode outright.
  assert.throws(() => vm.compile(planted, '@app.lua'), /attempt to load a binary chunk/);
  await engine.close();
});

test('the development CLI keeps the bytecode in its build cache: the second run parses nothing', async () => {
  const dir = tempDir('redox-chunks-cli-');
  const cache = path.join(dir, 'cache');
  fs.writeFileSync(path.join(dir, 'hello.lua'), 'print(json.encode({ ok = true }))\n');
  const run = async (env: Record<string, string>) => {
    const p = spawnRedox(['run', 'hello.lua'], { cwd: dir, env: { REDOX_BUILD_CACHE: cache, REDOX_LOG_LEVEL: 'debug', NO_COLOR: '1', ...env } });
    assert.equal(await p.exited, 0, p.stderr());
    assert.match(p.stdout(), /\{"ok":true\}/);
    const line = p.stderr().split('\n').find((l) => l.includes('"lua chunks"'));
    if (!line) return undefined;
    const { precompiled, parsed } = JSON.parse(line) as { precompiled: number; parsed: number };
    return { precompiled, parsed };
  };
  const first = await run({});
  assert.equal(first?.precompiled, 0);
  assert.ok(first!.parsed > 10, JSON.stringify(first));
  const files = fs.readdirSync(path.join(cache, 'lua-chunks'));
  assert.equal(files.length, 1);
  const second = await run({});
  assert.deepEqual(second, { precompiled: first!.parsed, parsed: 0 });
  // Off with the compile cache.
  assert.equal(await run({ REDOX_COMPILE_CACHE: '0' }), undefined);
});
