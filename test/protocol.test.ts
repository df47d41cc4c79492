// HTTP edge cases found by attacking a running server, over raw TCP: slow clients lose their
// socket, one address cannot take every connection, what a handler returns is always a valid
// final response, heads are measured whole, OPTIONS *, and a drain that answers every
// connection it accepted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { serveLua } from './support/harness';

const APP = String.raw`
local app = redox.router()
app:get("/", function() return "ok" end)
app:get("/interim", function() return { status = 150, body = "early" } end)
app:get("/vtab", function() return { headers = { ["x-bad"] = "a\vb" }, body = "x" } end)
app:get("/wide", function() return { headers = { ["x-bad"] = "\u{263A}" }, body = "x" } end)
app:get("/bytes", function() return { headers = { ["x-bad"] = "\xff\xfe" }, body = "x" } end)
app:get("/slow", function() redox.sleep(200) return "slow done" end)
return app
`;

let s: Awaited<ReturnType<typeof serveLua>>;
let port: number;
before(async () => {
  s = await serveLua(APP, [], { limits: { headersTimeoutMs: '1s', requestTimeoutMs: '2s' } });
  port = Number(new URL(s.url).port);
});
after(() => s.close());

interface Conn {
  sock: net.Socket;
  text(): string;
  /** Resolves when the socket is fully closed, with whether the server ended it first. */
  closed: Promise<void>;
  /** Resolves once `predicate(text)` holds. */
  until(predicate: (t: string) => boolean): Promise<string>;
}

function connect(to = port, allowHalfOpen = false): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port: to, host: '127.0.0.1', allowHalfOpen });
    let text = '';
    const waiters: (() => void)[] = [];
    sock.on('data', (d) => {
      text += d.toString('latin1');
      for (const w of waiters.splice(0)) w();
    });
    sock.on('error', () => undefined);
    const closed = new Promise<void>((r) => sock.on('close', () => { for (const w of waiters.splice(0)) w(); r(); }));
    const until = (predicate: (t: string) => boolean) => new Promise<string>((res, rej) => {
      const check = () => {
        if (predicate(text)) res(text);
        else if (sock.destroyed) rej(new Error(`closed without a match; got ${JSON.stringify(text.slice(0, 200))}`));
        else waiters.push(check);
      };
      check();
    });
    sock.once('connect', () => resolve({ sock, text: () => text, closed, until }));
    sock.once('error', reject);
  });
}

async function exchange(request: string, to = port): Promise<string> {
  const c = await connect(to);
  c.sock.write(request);
  await c.until((t) => /\r\n\r\n/.test(t));
  c.sock.destroy();
  return c.text();
}

const statusLine = (text: string) => text.split('\r\n')[0];

test('a client that trickles headers gets 408 and then loses its socket (not a half-close)', async () => {
  // Half-open allowed: after a server's mere half-close this socket would stay open and writable.
  const c = await connect(port, true);
  c.sock.write('GET / HTTP/1.1\r\n');
  // Keep sending after the 408: with only a half-close these writes would keep succeeding and
  // the server would keep the descriptor.
  const trickle = setInterval(() => { if (!c.sock.destroyed) c.sock.write('X-Slow: y\r\n'); }, 100);
  try {
    await c.until((t) => t.startsWith('HTTP/1.1 408'));
    await c.closed;
  } finally {
    clearInterval(trickle);
  }
  assert.match(c.text(), /^HTTP\/1\.1 408 Request Timeout\r\n/);
});

test('one address holds at most --max-connections-per-ip connections; more get 503 and are closed', async () => {
  const capped = await serveLua(APP, [], { limits: { maxConnectionsPerIp: '4' } });
  const cport = Number(new URL(capped.url).port);
  const held = await Promise.all([1, 2, 3, 4].map(() => connect(cport)));
  // A request answered on the last one shows the server has accepted all four.
  held[3].sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await held[3].until((t) => t.includes('\r\n\r\nok'));
  const extra = await connect(cport);
  await extra.closed;
  assert.match(extra.text(), /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  assert.match(capped.log.lines.join('\n'), /too many connections from one address/);
  held[0].sock.destroy();
  await held[0].closed;
  // The server saw the close once a new connection from the same address is served again.
  let answered = '';
  for (let i = 0; i < 50 && !answered.includes('200 OK'); i++) {
    answered = await exchange('GET / HTTP/1.1\r\nHost: x\r\n\r\n', cport).catch(() => '');
    if (!answered.includes('200 OK')) await new Promise((r) => setTimeout(r, 20));
  }
  assert.match(answered, /^HTTP\/1\.1 200 OK/);
  for (const c of held) c.sock.destroy();
  await Promise.all(held.map((c) => c.closed));
  await capped.close();
});

test('over --max-connections a connection is closed unanswered, and the log says why', async () => {
  const capped = await serveLua(APP, [], { limits: { maxConnections: '2' } });
  const cport = Number(new URL(capped.url).port);
  const held = await Promise.all([1, 2].map(() => connect(cport)));
  held[1].sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await held[1].until((t) => t.includes('\r\n\r\nok'));
  const extra = await connect(cport);
  await extra.closed;
  assert.equal(extra.text(), '');
  assert.match(capped.log.lines.join('\n'), /connection refused: --max-connections reached.*"limit":2/);
  for (const c of held) c.sock.destroy();
  await Promise.all(held.map((c) => c.closed));
  await capped.close();
});

test('a handler status 100-199 becomes a 500 with a log line', async () => {
  const r = await exchange('GET /interim HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(statusLine(r), 'HTTP/1.1 500 Internal Server Error');
  assert.ok(s.log.lines.some((l) => l.includes('invalid response') && l.includes('status 150')), 'logged');
});

test('a header value node rejects is a proper "500 Internal Server Error"', async () => {
  for (const path of ['/vtab', '/wide', '/bytes']) {
    const r = await exchange(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.equal(statusLine(r), 'HTTP/1.1 500 Internal Server Error', path);
    assert.doesNotMatch(r, /x-bad/i, path);
  }
});

test('a duplicate Host header is 400', async () => {
  assert.equal(statusLine(await exchange('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n')), 'HTTP/1.1 400 Bad Request');
  assert.equal(statusLine(await exchange('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), 'HTTP/1.1 200 OK');
});

test('the 16 KiB head limit counts the whole head, and more than 1,000 headers is 431', async () => {
  // 3,000 headers of 8 bytes each: 24 KB on the wire, though names and values alone are small.
  const many = Array.from({ length: 3000 }, (_, i) => `h${i % 10}: v\r\n`).join('');
  assert.equal(statusLine(await exchange(`GET / HTTP/1.1\r\nHost: x\r\n${many}\r\n`)), 'HTTP/1.1 431 Request Header Fields Too Large');
  // 1,001 headers fit in 16 KiB, but are more than 1,000: refused, not silently cut.
  const count = Array.from({ length: 1000 }, () => 'a: b\r\n').join('');
  assert.equal(statusLine(await exchange(`GET / HTTP/1.1\r\nHost: x\r\n${count}\r\n`)), 'HTTP/1.1 431 Request Header Fields Too Large');
  const fine = Array.from({ length: 900 }, () => 'a: b\r\n').join('');
  assert.equal(statusLine(await exchange(`GET / HTTP/1.1\r\nHost: x\r\n${fine}\r\n`)), 'HTTP/1.1 200 OK');
});

test('OPTIONS * is 204 with Allow; * for another method is 400', async () => {
  const r = await exchange('OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(statusLine(r), 'HTTP/1.1 204 No Content');
  assert.match(r, /\r\nallow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n/i);
  assert.equal(statusLine(await exchange('GET * HTTP/1.1\r\nHost: x\r\n\r\n')), 'HTTP/1.1 400 Bad Request');
});

test('drain: connections accepted before close are answered, even those that had not sent their request yet', async () => {
  const d = await serveLua(APP, []);
  const dport = Number(new URL(d.url).port);
  const open = (): Promise<net.Socket> => new Promise((resolve) => { const c = net.connect(dport, '127.0.0.1', () => resolve(c)); c.on('error', () => undefined); });
  const read = (c: net.Socket) => new Promise<string>((resolve) => { let t = ''; c.on('data', (b) => (t += b)); c.on('close', () => resolve(t)); });
  const fresh = await Promise.all(Array.from({ length: 10 }, open));
  const answers = fresh.map(read);
  // An answered request on a later connection shows the server accepted the earlier ones.
  const probe = await open();
  const probeAnswer = read(probe);
  probe.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(await probeAnswer, /^HTTP\/1\.1 200 OK/);
  // Nothing is in flight when the drain starts; the requests come after it.
  const closing = d.close();
  await new Promise((r) => setImmediate(r));
  for (const c of fresh) c.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
  const texts = await Promise.all(answers);
  await closing;
  for (const t of texts) {
    assert.match(t, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(t, /\r\nconnection: close\r\n/i);
    assert.match(t, /slow done$/);
  }
  await assert.rejects(new Promise((resolve, reject) => { const c = net.connect(dport, '127.0.0.1', () => { c.destroy(); resolve(null); }); c.on('error', reject); }), 'no longer accepting');
});
