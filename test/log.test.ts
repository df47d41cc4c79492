// The logger batches lines: info and debug are written together within a short delay, a warning
// or error goes out at the end of the event-loop turn with the lines before it, and nothing
// pending is lost when the process exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createLogger } from '../core/runtime/log';

const turn = () => new Promise((r) => setImmediate(r));
const waitFor = async (check: () => boolean) => {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
};

test('info lines are written together in one write, after the turn that logged them', async () => {
  const writes: string[] = [];
  const log = createLogger({ level: 'info', pretty: false, write: (t) => writes.push(t) });
  log.info('request', { n: 1 });
  log.info('request', { n: 2 });
  log.debug('not at info');
  assert.equal(writes.length, 0, 'nothing is written synchronously');
  await waitFor(() => writes.length > 0);
  assert.equal(writes.length, 1);
  const lines = writes[0].trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.n), [1, 2]);
  assert.equal(lines[0].msg, 'request');
});

test('a warning is written at the end of the turn, with the info lines before it, in order', async () => {
  const writes: string[] = [];
  const log = createLogger({ level: 'info', pretty: false, write: (t) => writes.push(t) });
  log.info('first');
  log.warn('second', { why: 'a "quoted" \\ value\n' });
  await turn();
  assert.equal(writes.length, 1);
  const lines = writes[0].trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.msg), ['first', 'second']);
  assert.equal(lines[1].why, 'a "quoted" \\ value\n', 'escaping survives the fast path');
});

test('lines still pending when the process exits are written', () => {
  const logModule = path.join(__dirname, '..', 'core', 'runtime', 'log.js');
  const script = `const { createLogger } = require(${JSON.stringify(logModule)});
    const log = createLogger({ level: 'info', pretty: false });
    log.info('last words', { n: 42 });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const line = JSON.parse(r.stdout.trim());
  assert.equal(line.msg, 'last words');
  assert.equal(line.n, 42);
});

test('request() writes the same line as info("request", fields), escaping included', () => {
  const writes: string[] = [];
  const log = createLogger({ level: 'info', pretty: false, batch: false, write: (t) => writes.push(t) });
  const path = '/caf\u00e9/"q"\\x\n';
  log.request('GET', path, 200, 1.25, 'id-1');
  log.info('request', { method: 'GET', path, status: 200, duration_ms: 1.25, request_id: 'id-1' });
  assert.equal(writes.length, 2, 'batch: false writes each line at once');
  const strip = (line: string) => line.replace(/"time":"[^"]*"/, '"time":""');
  assert.equal(strip(writes[0]), strip(writes[1]));
  assert.deepEqual(JSON.parse(writes[0]), { ...JSON.parse(writes[0]), level: 'info', msg: 'request', method: 'GET', path, status: 200, duration_ms: 1.25, request_id: 'id-1' });
  // Below its level, nothing.
  const quiet = createLogger({ level: 'warn', pretty: false, batch: false, write: (t) => writes.push(t) });
  quiet.request('GET', '/', 200, 1, 'id-2');
  assert.equal(writes.length, 2);
});
