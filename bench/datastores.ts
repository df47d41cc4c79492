// Datastore bench: req/s of a handler doing one indexed SELECT by primary key, and
// one Redis GET, through Redox and through plain node:http with the same client library (pg,
// ioredis), side by side in one run. PostgreSQL and Redis are throwaway servers started here.
//
//   npm run bench:datastores [-- --rounds 3 --duration 5 --connections 64]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import Redis from 'ioredis';
import { startPostgres, startRedis, PostgresServer, RedisServer } from '../test/support/servers';
import { describeMachine, place } from './machine';
import { freePort, RunningServer, startServer, ServerSpec } from './server';
import { runWrk, wrkAvailable, INSTALL_HINT, WrkResult } from './wrk';

const ROOT = path.resolve(__dirname, '..', '..');
const ROWS = 10_000;
const POOL_MAX = 10;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

// The same handler four ways: a random id in 1..ROWS, one lookup, the row as JSON.
const REDOX_PG = `
local db = postgres.connect(redox.env("BENCH_PG_URL"), { max = ${POOL_MAX} })
local app = redox.router()
app:get("/", function()
  local row = assert(db:get("SELECT id, name, price FROM items WHERE id = $1", math.random(1, ${ROWS})))
  return { json = row }
end)
return app`;

const REDOX_REDIS = `
local r = redis.connect(redox.env("BENCH_REDIS_URL"))
local app = redox.router()
app:get("/", function()
  local id = math.random(1, ${ROWS})
  local name = assert(r:get("item:" .. id))
  return { json = { id = id, name = name } }
end)
return app`;

const NODE_PG = (pg: string) => `
const http = require('node:http');
const { Pool } = require(${JSON.stringify(pg)});
const pool = new Pool({ connectionString: process.env.BENCH_PG_URL, max: ${POOL_MAX} });
http.createServer(async (req, res) => {
  try {
    const id = 1 + Math.floor(Math.random() * ${ROWS});
    const r = await pool.query('SELECT id, name, price FROM items WHERE id = $1', [id]);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(r.rows[0]));
  } catch (err) {
    res.writeHead(500);
    res.end(String(err));
  }
}).listen(Number(process.env.PORT), '127.0.0.1');`;

const NODE_REDIS = (ioredis: string) => `
const http = require('node:http');
const Redis = require(${JSON.stringify(ioredis)});
const r = new Redis(process.env.BENCH_REDIS_URL, { maxRetriesPerRequest: 0, commandTimeout: 5000 });
http.createServer(async (req, res) => {
  try {
    const id = 1 + Math.floor(Math.random() * ${ROWS});
    const name = await r.get('item:' + id);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id, name }));
  } catch (err) {
    res.writeHead(500);
    res.end(String(err));
  }
}).listen(Number(process.env.PORT), '127.0.0.1');`;

async function seed(pg: PostgresServer, rs: RedisServer): Promise<void> {
  const c = new Client({ connectionString: pg.url });
  await c.connect();
  await c.query('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10, 2) NOT NULL)');
  await c.query(`INSERT INTO items SELECT g, 'item ' || g, (g % 1000) / 10.0 FROM generate_series(1, ${ROWS}) g`);
  await c.query('ANALYZE items');
  await c.end();
  const r = new Redis(rs.url);
  const p = r.pipeline();
  for (let i = 1; i <= ROWS; i++) p.set(`item:${i}`, `item ${i}`);
  await p.exec();
  r.disconnect();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Row { name: string; rps: number[]; p99: number[]; errors: number }

async function main(): Promise<void> {
  if (!wrkAvailable()) throw new Error(INSTALL_HINT);
  const rounds = arg('rounds', 3);
  const seconds = arg('duration', 5);
  const connections = arg('connections', 64);
  const machine = describeMachine();
  const where = place(machine, 1);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'redox-bench-ds-'));
  process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));
  console.log(`datastores bench: ${rounds} rounds x ${seconds} s, ${connections} connections, server on core ${where.server ?? '(any)'}, wrk on ${where.load ?? '(any)'}`);
  console.log('PostgreSQL and Redis run unpinned on the same machine (they take CPU from both sides alike).');

  const [pg, rs] = await Promise.all([startPostgres({ maxConnections: 200 }), startRedis()]);
  const servers: RunningServer[] = [];
  try {
    await seed(pg, rs);
    fs.writeFileSync(path.join(work, 'pg.lua'), REDOX_PG);
    fs.writeFileSync(path.join(work, 'redis.lua'), REDOX_REDIS);
    fs.writeFileSync(path.join(work, 'node-pg.js'), NODE_PG(require.resolve('pg')));
    fs.writeFileSync(path.join(work, 'node-redis.js'), NODE_REDIS(require.resolve('ioredis')));
    const env = { BENCH_PG_URL: pg.url, BENCH_REDIS_URL: rs.url, REDOX_LOG_LEVEL: 'warn' };
    const cli = path.join(ROOT, 'build', 'cli', 'main.js');
    const redox = (app: string, feature: string): ServerSpec => ({ cmd: process.execPath, args: [cli, 'serve', path.join(work, app), '--features', feature], env, cwd: work });
    const node = (file: string): ServerSpec => ({ cmd: process.execPath, args: [path.join(work, file)], env, cwd: work });
    const groups: [string, [string, ServerSpec][]][] = [
      ['SELECT by primary key (PostgreSQL, pool max 10)', [['Redox + postgres', redox('pg.lua', 'postgres')], ['node:http + pg', node('node-pg.js')]]],
      ['GET (Redis)', [['Redox + redis', redox('redis.lua', 'redis')], ['node:http + ioredis', node('node-redis.js')]]],
    ];
    const results: { workload: string; rows: Row[] }[] = [];
    for (const [workload, contenders] of groups) {
      const running: [string, RunningServer][] = [];
      for (const [name, spec] of contenders) {
        const s = await startServer(spec, await freePort(), where.server);
        servers.push(s);
        running.push([name, s]);
        await runWrk({ url: s.url, connections, seconds: 2, cores: where.load, workdir: work }); // warm-up
      }
      const rows: Row[] = running.map(([name]) => ({ name, rps: [], p99: [], errors: 0 }));
      for (let round = 0; round < rounds; round++) {
        // Rotate A B, A B, ... so drift on the machine lands on both.
        for (let i = 0; i < running.length; i++) {
          const r: WrkResult = await runWrk({ url: running[i][1].url, connections, seconds, cores: where.load, workdir: work });
          rows[i].rps.push(r.rps);
          rows[i].p99.push(r.p99);
          rows[i].errors += r.errors;
        }
      }
      for (const [, s] of running) await s.stop();
      results.push({ workload, rows });
    }
    console.log('\n| workload | contender | req/s (median) | p99 ms | errors | vs node:http |');
    console.log('|---|---|---:|---:|---:|---:|');
    for (const { workload, rows } of results) {
      const base = median(rows[rows.length - 1].rps);
      for (const row of rows) {
        console.log(`| ${workload} | ${row.name} | ${Math.round(median(row.rps)).toLocaleString('en-US')} | ${median(row.p99).toFixed(1)} | ${row.errors} | ${(median(row.rps) / base).toFixed(2)}x |`);
      }
    }
    const out = path.join(ROOT, 'bench', 'datastores-results.json');
    fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine, rounds, seconds, connections, results }, null, 2) + '\n');
    console.log(`\nwrote ${path.relative(ROOT, out)}`);
  } finally {
    for (const s of servers) await s.stop().catch(() => {});
    await Promise.all([pg.close(), rs.close()]);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
