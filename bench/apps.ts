// The servers under test, one source per contender, written to a scratch folder at the start of a
// run. Every one reads PORT and answers on 127.0.0.1, and does the same work as the others.
import fs from 'node:fs';
import path from 'node:path';

/** Workload 1: the seed's endpoint. */
const HELLO_LUA = String.raw`
get("/", function() return { json = { id = 1, name = "Alice", uuid = uuid.v4() } } end)
`;

const NODE_HTTP = String.raw`
const http = require('node:http');
const { randomUUID } = require('node:crypto');
http.createServer((req, res) => {
  const body = JSON.stringify({ id: 1, name: 'Alice', uuid: randomUUID() });
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

const EXPRESS = String.raw`
const express = require('express');
const { randomUUID } = require('node:crypto');
const app = express();
app.get('/', (req, res) => { res.json({ id: 1, name: 'Alice', uuid: randomUUID() }); });
app.listen(Number(process.env.PORT), '127.0.0.1');
`;

const FASTIFY = String.raw`
const fastify = require('fastify')({ logger: false });
const { randomUUID } = require('node:crypto');
fastify.get('/', async () => ({ id: 1, name: 'Alice', uuid: randomUUID() }));
fastify.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
`;

const BUN = String.raw`
Bun.serve({
  port: Number(process.env.PORT), hostname: '127.0.0.1',
  fetch: () => Response.json({ id: 1, name: 'Alice', uuid: crypto.randomUUID() }),
});
`;

const DENO = String.raw`
Deno.serve({ port: Number(Deno.env.get('PORT')), hostname: '127.0.0.1', onListen() {} },
  () => Response.json({ id: 1, name: 'Alice', uuid: crypto.randomUUID() }));
`;

/** Workload 2: the upstream answers after 100 ms. */
const UPSTREAM = String.raw`
const http = require('node:http');
const body = '{"ok":true}';
const server = http.createServer((req, res) => {
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  }, 100);
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.env.PORT), '127.0.0.1');
`;

const upstreamLua = (url: string) => String.raw`
local upstream = "${url}"
get("/", function()
  local res, err = requests.get(upstream)
  if not res then redox.abort(502, tostring(err)) end
  return res.body
end)
`;

/** Raw Node doing the same wait with its built-in fetch (undici), for reference. */
const NODE_UPSTREAM = String.raw`
const http = require('node:http');
const upstream = process.env.UPSTREAM;
http.createServer(async (req, res) => {
  try {
    const r = await fetch(upstream);
    const body = await r.text();
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  } catch (err) {
    res.writeHead(502); res.end(String(err));
  }
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

/** Workload 3: a named cache filled at load with n distinct ~200-byte values, read at random. */
const cacheLua = (n: number) => String.raw`
local N = ${n}
local c = cache.new{ name = "bench", max_entries = N, max_bytes = 1024 * 1024 * 1024 }
local pad = string.rep("v", 190)
for i = 1, N do c:set("key:" .. i, string.format("%010d", i) .. pad) end
get("/", function()
  local v = c:get("key:" .. math.random(N))
  if not v then redox.abort(500, "cache miss") end
  return v
end)
`;

export interface AppFiles {
  dir: string;
  hello: string;
  nodeHttp: string;
  express: string;
  fastify: string;
  bun: string;
  deno: string;
  upstream: string;
  nodeUpstream: string;
  upstreamLua(url: string): string;
  cacheLua(n: number): string;
}

export function writeApps(dir: string): AppFiles {
  fs.mkdirSync(dir, { recursive: true });
  const put = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text.trimStart());
    return file;
  };
  return {
    dir,
    hello: put('hello.lua', HELLO_LUA),
    nodeHttp: put('node-http.cjs', NODE_HTTP),
    express: put('express.cjs', EXPRESS),
    fastify: put('fastify.cjs', FASTIFY),
    bun: put('bun-server.js', BUN),
    deno: put('deno-server.js', DENO),
    upstream: put('upstream.cjs', UPSTREAM),
    nodeUpstream: put('node-upstream.cjs', NODE_UPSTREAM),
    upstreamLua: (url) => put('upstream-app.lua', upstreamLua(url)),
    cacheLua: (n) => put(`cache-${n}.lua`, cacheLua(n)),
  };
}
