// What a `redox` process loads before it does anything: the development CLI registers every
// feature's options, so a feature's heavy npm dependencies must wait until they are used
// (ioredis on connect, pg on connect, prom-client at the app's first metric, yaml for `redox deploy`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, tempDir } from './support/harness';

const HEAVY = ['ioredis', 'pg', 'prom-client', 'yaml'];

/** The npm packages and the Node built-in modules a `redox` process had loaded when it exited. */
function loaded(args: string[]): { packages: string[]; builtins: string[] } {
  const dir = tempDir('redox-startup-');
  const hook = path.join(dir, 'list-modules.cjs');
  fs.writeFileSync(hook, `process.on('exit', () => {
    const names = new Set(Object.keys(require.cache).map((f) => (/node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)/.exec(f) || [])[1]).filter(Boolean));
    const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));
    require('fs').writeFileSync(${JSON.stringify(path.join(dir, 'loaded.json'))}, JSON.stringify({ packages: [...names], builtins }));
  });`);
  const r = spawnSync(process.execPath, ['-r', hook, path.join(ROOT, 'build', 'cli', 'main.js'), ...args], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(fs.readFileSync(path.join(dir, 'loaded.json'), 'utf8'));
}

test('redox --version and a run that uses no datastore load none of the heavy dependencies', () => {
  const version = loaded(['--version']).packages;
  assert.ok(version.includes('commander'), `the hook sees npm packages: ${version.join(', ')}`);
  assert.deepEqual(version.filter((p) => HEAVY.includes(p)), []);
  const dir = tempDir('redox-startup-run-');
  fs.writeFileSync(path.join(dir, 'hello.lua'), 'print("hi")\n');
  // Datastore features selected: nothing heavy until a connect. (Options go before the script:
  // what follows it is the script's own arguments.)
  const run = loaded(['run', '--features', 'uuid,sqlite,redis,postgres,requests', path.join(dir, 'hello.lua')]).packages;
  assert.ok(run.includes('uuid'), `the selected uuid feature loaded its package: ${run.join(', ')}`);
  assert.deepEqual(run.filter((p) => HEAVY.includes(p)), []);
  // Without TLS configured, node:https, node:http2 and node:tls wait too (a tenth of a start-up).
  const plain = loaded(['run', '--features', 'uuid,sqlite', path.join(dir, 'hello.lua')]).builtins;
  assert.ok(plain.includes('http'), `the hook sees built-in modules: ${plain.join(', ')}`);
  assert.deepEqual(plain.filter((m) => ['https', 'http2', 'tls'].includes(m)), []);
});

test('the metrics feature loads prom-client at the first metric (without TLS or zlib), and redox deploy loads yaml', () => {
  const dir = tempDir('redox-startup-metrics-');
  fs.writeFileSync(path.join(dir, 'm.lua'), 'metrics.counter{ name = "jobs_total", help = "jobs" }:inc()\nprint("ok")\n');
  fs.writeFileSync(path.join(dir, 'none.lua'), 'print("no metric")\n');
  const used = loaded(['run', '--features', 'metrics,requests', path.join(dir, 'm.lua')]);
  assert.ok(used.packages.includes('prom-client'));
  // prom-client's index would bring its Pushgateway and with it node:https and node:tls; compression
  // (responses, upstream bodies) waits for the first compressed body.
  assert.deepEqual(used.builtins.filter((m) => ['https', 'tls', 'zlib'].includes(m)), []);
  assert.ok(!loaded(['run', '--features', 'metrics', path.join(dir, 'none.lua')]).packages.includes('prom-client'), 'no metric, no prom-client');
  assert.ok(loaded(['deploy', 'kubernetes', '--name', 'x']).packages.includes('yaml'));
});
