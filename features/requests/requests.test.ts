// requests against real local upstreams (node:http on 127.0.0.1, port 0), from a real Lua VM
// with only this feature installed.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { once } from 'node:events';
import zlib from 'node:zlib';
import { LuaHarness, luaWith, serveLua } from '../../test/support/harness';
import { guardedLookup, hostRefusal, LookupFunction, policyFromEnv } from './policy';

interface Upstream {
  url: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections still open. */
  readonly open: number;
  close(): Promise<void>;
}

async function upstream(handler: http.RequestListener): Promise<Upstream> {
  const server = http.createServer(handler);
  let accepted = 0;
  let open = 0;
  server.on('connection', (socket) => {
    accepted++;
    open++;
    socket.on('close', () => open--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get accepted() { return accepted; },
    get open() { return open; },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function readAll(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Lua VM whose requests feature was installed with these environment variables. */
async function luaWithEnv(vars: Record<string, string>, features = ['requests']): Promise<LuaHarness> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await luaWith(features);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

let lastBytes: Buffer = Buffer.alloc(0);

// One upstream with a route per behaviour under test.
async function mainUpstream(): Promise<Upstream> {
  return upstream(async (req, res) => {
    const url = new URL(req.url!, 'http://x');
    const body = await readAll(req);
    const p = url.pathname;
    if (p === '/echo') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString('utf8') }));
    } else if (p === '/hello') {
      res.writeHead(201, { 'X-Custom': 'Yes', 'X-Name': 'caf\u00c3\u00a9', 'Set-Cookie': ['a=1', 'b=2'], 'content-type': 'text/plain' });
      res.end('hello world');
    } else if (p === '/bytes') {
      lastBytes = body;
      res.setHeader('content-type', 'application/octet-stream');
      res.end(body);
    } else if (p.startsWith('/status/')) {
      res.statusCode = Number(p.slice(8));
      res.end(`status ${res.statusCode}`);
    } else if (p === '/slow') {
      await sleep(Number(url.searchParams.get('ms')));
      if (!res.destroyed) res.end('slow done');
    } else if (p === '/stall') {
      // Headers and part of the body, then nothing: the total timeout covers reading too.
      res.writeHead(200, { 'content-length': 100 });
      res.write('partial');
    } else if (p === '/big') {
      // Chunked, no content-length: the cap must stop reading mid-stream.
      const total = Number(url.searchParams.get('n'));
      const chunk = Buffer.alloc(64 * 1024, 120);
      const closed = new Promise((r) => res.once('close', r));
      for (let sent = 0; sent < total && !res.destroyed; sent += chunk.length) {
        if (!res.write(chunk)) await Promise.race([once(res, 'drain'), closed]);
      }
      res.end();
    } else if (p === '/big-declared') {
      const n = Number(url.searchParams.get('n'));
      res.setHeader('content-length', n);
      res.end(Buffer.alloc(n, 121));
    } else if (p.startsWith('/redirect/')) {
      const n = Number(p.slice(10));
      if (n === 0) res.end('landed');
      else res.writeHead(n % 2 ? 302 : 301, { location: `/redirect/${n - 1}` }).end();
    } else if (p === '/see-other') {
      res.writeHead(Number(url.searchParams.get('status') ?? 303), { location: '/echo' }).end();
    } else if (p === '/to') {
      res.writeHead(302, { location: url.searchParams.get('target')! }).end();
    } else if (p === '/gzip') {
      const data = Buffer.from(JSON.stringify({ zipped: true, list: [1, 2, 3] }));
      if (/gzip/.test(String(req.headers['accept-encoding']))) res.writeHead(200, { 'content-encoding': 'gzip' }).end(zlib.gzipSync(data));
      else res.end(data);
    } else if (p === '/odd-encoding') {
      res.writeHead(200, { 'content-encoding': url.searchParams.get('e')! }).end('plain bytes');
    } else if (p === '/gzip-bomb') {
      res.writeHead(200, { 'content-encoding': 'gzip' }).end(zlib.gzipSync(Buffer.alloc(20 * 1024 * 1024)));
    } else if (p === '/item') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name: 'widget', price: 3, tags: [] }));
    } else if (p === '/not-json') {
      res.end('{"a": 1,, }');
    } else {
      res.statusCode = 404;
      res.end('no route');
    }
  });
}

describe('requests', () => {
  let up: Upstream;
  let lua: LuaHarness;
  before(async () => {
    up = await mainUpstream();
    lua = await luaWith(['requests']);
  });
  after(async () => {
    await lua.close();
    await up.close();
  });
  const run = (code: string) => lua.run(`local UP = "${up.url}"\n${code}`);

  it('returns status, lower-case headers, body, ok and url; tostring(res) is the body', async () => {
    const r = await run(`
      local res = requests.get(UP .. "/hello")
      return { status = res.status, ok = res.ok, body = res.body, text = tostring(res), url = res.url,
        custom = res.headers["x-custom"], name = res.headers["x-name"], cookies = res.headers["set-cookie"],
        ctype = res.headers["content-type"] }`) as Record<string, unknown>;
    assert.deepEqual(r, {
      status: 201, ok: true, body: 'hello world', text: 'hello world', url: `${up.url}/hello`,
      custom: 'Yes', name: 'café', cookies: ['a=1', 'b=2'], ctype: 'text/plain',
    });
  });

  it('sends headers, a default user-agent, and every verb', async () => {
    const r = await run(`
      local out = {}
      for _, verb in ipairs({ "get", "post", "put", "patch", "delete", "options" }) do
        local res = requests[verb](UP .. "/echo", { headers = { ["X-Token"] = "abc", ["X-Many"] = { "1", "2" }, ["X-Num"] = 7 } })
        out[#out + 1] = res:json()
      end
      local head = requests.head(UP .. "/hello")
      local custom = requests.request{ method = "put", url = UP .. "/echo", body = "raw" }:json()
      return { echoes = out, head_status = head.status, head_body = head.body, custom = custom }`) as any;
    assert.deepEqual(r.echoes.map((e: any) => e.method), ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
    for (const e of r.echoes) {
      assert.equal(e.headers['x-token'], 'abc');
      assert.equal(e.headers['x-many'], '1, 2');
      assert.equal(e.headers['x-num'], '7');
      assert.equal(e.headers['user-agent'], 'redox');
    }
    assert.equal(r.head_status, 201);
    assert.equal(r.head_body, '');
    assert.equal(r.custom.method, 'PUT');
    assert.equal(r.custom.body, 'raw');
  });

  it('json= sends core json.encode output with content-type application/json; res:json() decodes', async () => {
    const r = await run(`
      local res = requests.post(UP .. "/echo", { json = { name = "ada", tags = { "a", "b" }, none = json.array(), nothing = json.null } })
      local echo = res:json()
      local sent = json.decode(echo.body)
      return { ctype = echo.headers["content-type"], raw = echo.body, empty_is_array = json.is_array(sent.none), name = sent.name }`) as any;
    assert.equal(r.ctype, 'application/json');
    assert.equal(r.raw, '{"name":"ada","none":[],"nothing":null,"tags":["a","b"]}');
    assert.equal(r.empty_is_array, true);
    assert.equal(r.name, 'ada');
    const typed = await run(`return requests.post(UP .. "/echo", { json = {1}, headers = { ["Content-Type"] = "application/vnd.api+json" } }):json().headers["content-type"]`);
    assert.equal(typed, 'application/vnd.api+json');
  });

  it('appends query= to the URL, percent-encoded and sorted, keeping an existing query', async () => {
    const r = await run(`
      return requests.get(UP .. "/echo?x=1", { query = { q = "two words & more", ids = { 1, 2 }, flag = true, u = "é" } }):json().url`);
    assert.equal(r, '/echo?x=1&flag=true&ids=1&ids=2&q=two%20words%20%26%20more&u=%C3%A9');
  });

  it('HTTP error statuses are responses with ok=false, not failures', async () => {
    const r = await run(`
      local a, err_a = requests.get(UP .. "/status/404")
      local b, err_b = requests.get(UP .. "/status/500")
      return { a.status, a.ok, a.body, err_a == nil, b.status, b.ok, err_b == nil }`);
    assert.deepEqual(r, [404, false, 'status 404', true, 500, false, true]);
  });

  it('round-trips binary bodies as Lua byte strings', async () => {
    const r = await run(`
      local t = {}
      for i = 0, 255 do t[#t + 1] = string.char(i) end
      local bin = table.concat(t):rep(3)
      local res = requests.post(UP .. "/bytes", { body = bin })
      return { same = res.body == bin, len = #res.body }`);
    assert.deepEqual(r, { same: true, len: 768 });
    const expected = Buffer.alloc(768);
    for (let i = 0; i < 768; i++) expected[i] = i % 256;
    assert.ok(lastBytes.equals(expected), 'the upstream received the exact bytes');
  });

  it('times out: nil, err with code "timeout"', async () => {
    // The upstream would answer after 3 s: "timeout" (not a response) shows the call gave up.
    const r = await run(`
      local res, err = requests.get(UP .. "/slow?ms=3000", { timeout = 0.2 })
      return { res == nil, err.code, err.message, err.url, err.method }`) as unknown[];
    assert.equal(r[0], true);
    assert.equal(r[1], 'timeout');
    assert.match(String(r[2]), /did not finish within 0\.2 s/);
    assert.equal(r[3], `${up.url}/slow?ms=3000`);
    assert.equal(r[4], 'GET');
    const stalled = await run(`local res, err = requests.get(UP .. "/stall", { timeout = 0.2 }) return { res == nil, err.code }`);
    assert.deepEqual(stalled, [true, 'timeout']);
  });

  it('a closed port gives "connection_refused"', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise((r) => probe.close(r));
    const r = await lua.run(`local res, err = requests.get("http://127.0.0.1:${port}/") return { res == nil, err.code, tostring(err) }`) as unknown[];
    assert.equal(r[0], true);
    assert.equal(r[1], 'connection_refused');
    assert.match(String(r[2]), /^connection_refused: GET http:\/\/127\.0\.0\.1:\d+\/: connection refused/);
  });

  it('a TLS handshake that never completes gives "connect_timeout"', async () => {
    // Accepts TCP but never answers the TLS hello, so the connection is never ready.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as AddressInfo;
    try {
      const r = await lua.run(`local res, err = requests.get("https://127.0.0.1:${port}/", { connect_timeout = 0.3 }) return { res == nil, err.code }`);
      assert.deepEqual(r, [true, 'connect_timeout']);
    } finally {
      silent.close();
    }
  });

  it('https to a plain-HTTP port gives "tls"; a bad URL "invalid_url"; an unknown host "dns"', async () => {
    const r = await run(`
      local _, tls = requests.get((UP:gsub("^http:", "https:")) .. "/hello")
      local _, scheme = requests.get("ftp://example.com/file")
      local _, garbage = requests.get("not a url")
      local _, dns = requests.get("http://no-such-host.invalid/", { timeout = 5 })
      return { tls.code, scheme.code, garbage.code, dns.code }`);
    assert.deepEqual(r, ['tls', 'invalid_url', 'invalid_url', 'dns']);
  });

  it('stops reading beyond max_size (default 10 MiB): "response_too_large"', async () => {
    const r = await run(`
      local _, a = requests.get(UP .. "/big?n=" .. (11 * 1024 * 1024))
      local _, b = requests.get(UP .. "/big?n=" .. (2 * 1024 * 1024), { max_size = 1024 * 1024 })
      local _, c = requests.get(UP .. "/big-declared?n=2048", { max_size = 1024 })
      local ok = requests.get(UP .. "/big-declared?n=1024", { max_size = 1024 })
      return { a.code, b.code, c.code, #ok.body }`);
    assert.deepEqual(r, ['response_too_large', 'response_too_large', 'response_too_large', 1024]);
  });

  it('decompresses gzip (capped by max_size); decompress=false gives the raw bytes', async () => {
    const r = await run(`
      local res = requests.get(UP .. "/gzip")
      local raw = requests.get(UP .. "/gzip", { decompress = false, headers = { ["Accept-Encoding"] = "gzip" } })
      local _, bomb = requests.get(UP .. "/gzip-bomb")
      return { res:json().zipped, res.headers["content-encoding"], raw.body:byte(1), raw.body:byte(2), bomb.code }`);
    assert.deepEqual(r, [true, 'gzip', 0x1f, 0x8b, 'response_too_large']);
  });

  it('an unknown content-encoding leaves the body as sent, even one named like an object property', async () => {
    const r = await run(`
      local out = {}
      for _, e in ipairs({ "toString", "__proto__", "constructor", "zstd" }) do
        local res, err = requests.get(UP .. "/odd-encoding?e=" .. e)
        out[#out + 1] = res and res.body or tostring(err)
      end
      return out`);
    assert.deepEqual(r, ['plain bytes', 'plain bytes', 'plain bytes', 'plain bytes']);
  });

  it('follows redirects for GET (up to 5); follow_redirects=false returns the 3xx', async () => {
    const r = await run(`
      local res = requests.get(UP .. "/redirect/5")
      local stop = requests.get(UP .. "/redirect/2", { follow_redirects = false })
      local _, many = requests.get(UP .. "/redirect/6")
      local more = requests.get(UP .. "/redirect/6", { max_redirects = 6 })
      return { res.status, res.body, res.url, stop.status, stop.headers.location, many.code, more.body }`);
    assert.deepEqual(r, [200, 'landed', `${up.url}/redirect/0`, 301, '/redirect/1', 'too_many_redirects', 'landed']);
  });

  it('does not follow a POST redirect unless asked; 303 turns it into a GET, 307 keeps it', async () => {
    const r = await run(`
      local kept = requests.post(UP .. "/see-other", { body = "x" })
      local see = requests.post(UP .. "/see-other", { body = "x", follow_redirects = true }):json()
      local same = requests.post(UP .. "/see-other?status=307", { body = "x", follow_redirects = true }):json()
      return { kept.status, see.method, see.body, same.method, same.body }`);
    assert.deepEqual(r, [303, 'GET', '', 'POST', 'x']);
  });

  it('drops credentials when a redirect leaves the origin', async () => {
    const other = await upstream((req, res) => res.end(JSON.stringify(req.headers)));
    try {
      const r = await run(`
        local h = { Authorization = "Bearer secret", Cookie = "s=1", ["X-Keep"] = "yes" }
        local res = requests.get(UP .. "/to?target=" .. "${encodeURIComponent(other.url + '/')}", { headers = h })
        local same = requests.get(UP .. "/to?target=/echo", { headers = h }):json()
        return { res:json(), same.headers.authorization }`) as any[];
      assert.equal(r[0]['x-keep'], 'yes');
      assert.equal(r[0].authorization, undefined);
      assert.equal(r[0].cookie, undefined);
      assert.equal(r[1], 'Bearer secret');
    } finally {
      await other.close();
    }
  });

  it('res:json() raises with the position on invalid JSON', async () => {
    const r = await run(`
      local res = requests.get(UP .. "/not-json")
      local ok, err = pcall(res.json, res)
      return { ok, err }`) as unknown[];
    assert.equal(r[0], false);
    assert.match(String(r[1]), /res:json: the response body is not valid JSON: .* at position 9 \(line 1, column 9\)/);
    await assert.rejects(run(`local res = requests.get(UP .. "/not-json")\nlocal data = res:json()\nreturn data`), /snippet\d+\.lua:3: res:json: the response body is not valid JSON/);
  });

  it('raises on programming errors, at the caller\'s line', async () => {
    const cases: [string, RegExp][] = [
      ['requests.get(42)', /snippet\d+\.lua:1: requests\.get: url must be a string, got number/],
      ['requests.get("http://x/", { timout = 1 })', /requests\.get: unknown option 'timout' \(options: headers, body, json/],
      ['requests.post("http://x/", { body = { 1 } })', /body must be a string, got table \(use json= to send a table as JSON\)/],
      ['requests.post("http://x/", { body = "a", json = {} })', /pass body= or json=, not both/],
      ['requests.get("http://x/", { timeout = -1 })', /timeout must be a number of seconds > 0/],
      ['requests.get("http://x/", { max_size = 1.5 })', /max_size must be an integer >= 0/],
      ['requests.get("http://x/", { headers = { ["Bad Name"] = "v" } })', /invalid header name 'Bad Name'/],
      ['requests.get("http://x/", { headers = { X = "a\\r\\nb" } })', /header 'X' contains CR, LF or NUL/],
      ['requests.get("http://x/", { query = { "x" } })', /query keys must be strings/],
      ['requests.get("http://x/", { max_size = 2.0, max_redirects = 3.0, decompress = 1 })', /snippet\d+\.lua:1: requests\.get: decompress must be a boolean, got number/],
      ['requests.post("http://x/", { json = { f = print } })', /snippet\d+\.lua:1: requests\.post: json= cannot be encoded: cannot encode a value of type function/],
      ['requests.request("http://x/")', /requests\.request expects a table/],
      ['requests.request{ method = "GE T", url = "http://x/" }', /method must be an HTTP method name/],
      ['requests.request{ url = "http://x/", verb = "GET" }', /unknown option 'verb' \(options: method, url, headers/],
    ];
    for (const [code, re] of cases) await assert.rejects(lua.run(code), re, code);
  });

  it('reuses pooled keep-alive connections', async () => {
    const own = await upstream((_req, res) => res.end('ok'));
    try {
      const r = await lua.run(`
        local n = 0
        for i = 1, 10 do if requests.get("${own.url}/").body == "ok" then n = n + 1 end end
        return n`);
      assert.equal(r, 10);
      assert.equal(own.accepted, 1, 'ten sequential requests share one connection');
    } finally {
      await own.close();
    }
  });

  it('runs the seed example as written', async () => {
    const seed = await luaWith(['requests', 'uuid']);
    try {
      const out = await seed.run(`
        local url = "${up.url}/item"
        local result = requests.get(url)
        local data = json.decode(result)
        data.id = uuid.v4()
        return json.encode(data)`);
      const data = JSON.parse(String(out));
      assert.equal(data.name, 'widget');
      assert.deepEqual(data.tags, []);
      assert.match(data.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    } finally {
      await seed.close();
    }
  });
});

describe('requests: outbound policy', () => {
  let up: Upstream;
  before(async () => {
    up = await upstream((req, res) => {
      if (req.url!.startsWith('/to-')) res.writeHead(302, { location: decodeURIComponent(req.url!.slice(4)) }).end();
      else res.end('reached');
    });
  });
  after(() => up.close());

  it('blocks link-local and cloud metadata addresses by default, after resolution, loopback allowed', async () => {
    const lua = await luaWith(['requests']);
    try {
      const r = await lua.run(`
        local out = {}
        for _, u in ipairs({ "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://[::ffff:169.254.169.254]/",
                             "http://[fd00:ec2::254]/", "${up.url}/to-${encodeURIComponent('http://169.254.169.254/')}" }) do
          local res, err = requests.get(u, { timeout = 2 })
          out[#out + 1] = err and err.code or res.status
        end
        local _, err = requests.get("http://169.254.169.254/")
        out[#out + 1] = err.message
        out[#out + 1] = requests.get("${up.url}/").body
        return out`) as string[];
      assert.deepEqual(r.slice(0, 5), ['blocked', 'blocked', 'blocked', 'blocked', 'blocked']);
      assert.match(r[5], /169\.254\.169\.254 is link-local or a cloud metadata address and is blocked; set REDOX_ALLOW_LINK_LOCAL=1/);
      assert.equal(r[6], 'reached');
    } finally {
      await lua.close();
    }
  });

  it('checks the addresses a name resolves to, not only literals', async () => {
    const policy = policyFromEnv(() => undefined);
    const fakeDns = (answer: string): LookupFunction => (_host, options, cb) =>
      (options.all ? cb(null, [{ address: '127.0.0.1', family: 4 }, { address: answer, family: net.isIP(answer) }]) : cb(null, answer, net.isIP(answer)));
    const lookup = (answer: string, all: boolean) => new Promise<Error | null>((resolve) =>
      guardedLookup(policy, fakeDns(answer))('metadata.example', { all }, (err) => resolve(err)));
    assert.match(String(await lookup('169.254.169.254', true)), /169\.254\.169\.254 \(resolved from "metadata\.example"\) is link-local/);
    assert.match(String(await lookup('fe80::abcd', false)), /fe80::abcd/);
    assert.equal(await lookup('10.0.0.1', true), null);
    const open = policyFromEnv((name) => (name === 'REDOX_ALLOW_LINK_LOCAL' ? '1' : undefined));
    const allowed = await new Promise((resolve) => guardedLookup(open, fakeDns('169.254.169.254'))('m', { all: true }, (err) => resolve(err)));
    assert.equal(allowed, null);
  });

  it('REDOX_ALLOW_LINK_LOCAL=1 lifts the block', async () => {
    const lua = await luaWithEnv({ REDOX_ALLOW_LINK_LOCAL: '1' });
    try {
      // Whatever happens next (timeout, refusal, or some answer), it is not a block.
      const r = await lua.run(`local res, err = requests.get("http://169.254.169.254/", { timeout = 0.5, connect_timeout = 0.3 }) return err == nil or err.code ~= "blocked"`);
      assert.equal(r, true);
    } finally {
      await lua.close();
    }
  });

  it('REDOX_ALLOW_HOSTS allows only the listed hosts (with *.wildcards), on every redirect hop', async () => {
    const lua = await luaWithEnv({ REDOX_ALLOW_HOSTS: '*.example.com, 127.0.0.1' });
    try {
      const r = await lua.run(`
        local ok = requests.get("${up.url}/")
        local _, other = requests.get("http://localhost:1/")
        local _, hop = requests.get("${up.url}/to-${encodeURIComponent('http://localhost:1/')}")
        return { ok.body, other.code, other.message, hop.code }`) as string[];
      assert.equal(r[0], 'reached');
      assert.equal(r[1], 'blocked');
      assert.match(r[2], /host "localhost" is not in REDOX_ALLOW_HOSTS \(\*\.example\.com, 127\.0\.0\.1\)/);
      assert.equal(r[3], 'blocked');
    } finally {
      await lua.close();
    }
    const policy = policyFromEnv((name) => (name === 'REDOX_ALLOW_HOSTS' ? '*.example.com,API.other.org' : undefined));
    assert.equal(hostRefusal(policy, 'a.example.com'), null);
    assert.equal(hostRefusal(policy, 'a.b.example.com'), null);
    assert.equal(hostRefusal(policy, 'api.other.org.'), null);
    assert.notEqual(hostRefusal(policy, 'example.com'), null);
    assert.notEqual(hostRefusal(policy, 'evilexample.com'), null);
    assert.equal(hostRefusal(policyFromEnv(() => undefined), 'anything.test'), null);
  });
});

describe('requests: configuration and lifecycle', () => {
  it('takes default timeouts from REDOX_REQUESTS_TIMEOUT and refuses invalid values at start', async () => {
    const up = await upstream(async (_req, res) => {
      await sleep(2000);
      if (!res.destroyed) res.end('late');
    });
    const lua = await luaWithEnv({ REDOX_REQUESTS_TIMEOUT: '300ms' });
    try {
      // The upstream answers after 2 s; "timeout" shows the 300 ms default applied.
      const r = await lua.run(`local _, err = requests.get("${up.url}/") return err.code`);
      assert.equal(r, 'timeout');
    } finally {
      await lua.close();
      await up.close();
    }
    await assert.rejects(luaWithEnv({ REDOX_REQUESTS_TIMEOUT: 'soon' }), /requests.*REDOX_REQUESTS_TIMEOUT must be/);
  });

  it('closes pooled connections when the VM closes', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const lua = await luaWith(['requests']);
    try {
      await lua.run(`for i = 1, 3 do requests.get("${up.url}/") end`);
      assert.equal(up.open, 1);
      await lua.close();
      for (let i = 0; i < 50 && up.open > 0; i++) await sleep(20);
      assert.equal(up.open, 0);
    } finally {
      await up.close();
    }
  });

  it('200 requests from 200 coroutines wait on the upstream at once', async () => {
    // The upstream answers nobody until all 200 requests are waiting on it at the same time:
    // if Redox ran the upstream calls one after another, the barrier would never open. (A
    // fallback opens it after 20 s, so a failure is an assertion and not a hang.)
    const N = 200;
    const held: http.ServerResponse[] = [];
    let peak = 0;
    const release = (body: string) => { for (const r of held.splice(0)) r.end(body); };
    const fallback = setTimeout(() => release('barrier-timeout'), 20_000);
    const up = await upstream((_req, res) => {
      held.push(res);
      peak = Math.max(peak, held.length);
      if (held.length === N) {
        clearTimeout(fallback);
        release('pong');
      }
    });
    const service = await serveLua(`
      local app = redox.router()
      app:get("/proxy", function(req)
        local res, err = requests.get("${up.url}/slow")
        if not res then return { status = 502, body = tostring(err) } end
        return "via upstream: " .. res.body
      end)
      return app`, ['requests']);
    const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
    const fetchOnce = () => new Promise<string>((resolve, reject) => {
      http.get(`${service.url}/proxy`, { agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve(`${res.statusCode} ${text}`));
      }).on('error', reject);
    });
    try {
      const bodies = await Promise.all(Array.from({ length: N }, fetchOnce));
      assert.deepEqual(new Set(bodies), new Set(['200 via upstream: pong']));
      assert.equal(peak, N, 'every upstream call was waiting at once');
      // Each waiting call needs its own connection (HTTP/1.1, nothing is answered before all arrive).
      assert.equal(up.accepted, N);
    } finally {
      clearTimeout(fallback);
      agent.destroy();
      await service.close();
      await up.close();
    }
  });
});
