// TechEmpower-style test types (json, plaintext, db, queries, fortunes, updates), written as a
// user would: a Redox app in Lua on the sqlite feature, and the same app on node:http with
// better-sqlite3. Each gets its own copy of the same database (10,000 World rows, 12 fortunes).
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export const TFB_TYPES: { id: string; path: string }[] = [
  { id: 'json', path: '/json' },
  { id: 'plaintext', path: '/plaintext' },
  { id: 'db', path: '/db' },
  { id: 'queries(20)', path: '/queries?queries=20' },
  { id: 'fortunes', path: '/fortunes' },
  { id: 'updates(20)', path: '/updates?queries=20' },
];

const FORTUNES = [
  'fortune: No such file or directory', "A computer scientist is someone who fixes things that aren't broken.",
  'After enough decimal places, nobody gives a damn.', 'A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1',
  'A computer program does what you tell it to do, not what you want it to do.',
  'Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen', 'Any program that runs right is obsolete.',
  'A list is only as strong as its weakest link. — Donald Knuth', 'Feature: A bug with seniority.', 'Computers make very fast, very accurate mistakes.',
  '<script>alert("This should not be displayed in a browser alert box.");</script>', 'フレームワークのベンチマーク',
];

/** Creates the database file the apps read and update. */
export function createTfbDatabase(file: string): void {
  fs.rmSync(file, { force: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE World (id INTEGER PRIMARY KEY, randomNumber INTEGER NOT NULL); CREATE TABLE Fortune (id INTEGER PRIMARY KEY, message TEXT NOT NULL)');
  const world = db.prepare('INSERT INTO World (id, randomNumber) VALUES (?, ?)');
  const fortune = db.prepare('INSERT INTO Fortune (id, message) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= 10000; i++) world.run(i, 1 + Math.floor(Math.random() * 10000));
    FORTUNES.forEach((m, i) => fortune.run(i + 1, m));
  })();
  db.close();
}

export const TFB_LUA = String.raw`
local db = assert(sqlite.open(redox.env("TFB_DB")))
local app = redox.router()

local function random_id() return math.random(1, 10000) end
local function count(req)
  local n = math.tointeger(tonumber(req.query.queries)) or 1
  if n < 1 then return 1 elseif n > 500 then return 500 end
  return n
end
local ESCAPES = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }
local function escape(s) return (s:gsub("[&<>\"']", ESCAPES)) end

app:get("/", function() return "ok" end)
app:get("/json", function() return { json = { message = "Hello, World!" } } end)
app:get("/plaintext", function() return "Hello, World!" end)
app:get("/db", function()
  return { json = db:get("SELECT id, randomNumber FROM World WHERE id = ?", random_id()) }
end)
app:get("/queries", function(req)
  local rows = {}
  for i = 1, count(req) do rows[i] = db:get("SELECT id, randomNumber FROM World WHERE id = ?", random_id()) end
  return { json = rows }
end)
app:get("/fortunes", function()
  local rows = db:query("SELECT id, message FROM Fortune")
  rows[#rows + 1] = { id = 0, message = "Additional fortune added at request time." }
  table.sort(rows, function(a, b) return a.message < b.message end)
  local out = { "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>" }
  for _, f in ipairs(rows) do out[#out + 1] = "<tr><td>" .. f.id .. "</td><td>" .. escape(f.message) .. "</td></tr>" end
  out[#out + 1] = "</table></body></html>"
  return { headers = { ["content-type"] = "text/html; charset=utf-8" }, body = table.concat(out) }
end)
app:get("/updates", function(req)
  local rows = {}
  for i = 1, count(req) do
    local w = db:get("SELECT id, randomNumber FROM World WHERE id = ?", random_id())
    w.randomNumber = random_id()
    rows[i] = w
  end
  db:transaction(function()
    for _, w in ipairs(rows) do db:run("UPDATE World SET randomNumber = ? WHERE id = ?", w.randomNumber, w.id) end
  end)
  return { json = rows }
end)
return app
`;

export const TFB_NODE = String.raw`
const http = require('node:http');
const Database = require('better-sqlite3');
const db = new Database(process.env.TFB_DB, process.env.TFB_SQLITE_ADDON ? { nativeBinding: process.env.TFB_SQLITE_ADDON } : {});
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const byId = db.prepare('SELECT id, randomNumber FROM World WHERE id = ?');
const fortunes = db.prepare('SELECT id, message FROM Fortune');
const update = db.prepare('UPDATE World SET randomNumber = ? WHERE id = ?');
const updateAll = db.transaction((rows) => { for (const w of rows) update.run(w.randomNumber, w.id); });
const randomId = () => 1 + Math.floor(Math.random() * 10000);
const count = (url) => {
  const n = parseInt(new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('queries'), 10);
  return Number.isNaN(n) || n < 1 ? 1 : Math.min(n, 500);
};
const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (s) => s.replace(/[&<>"']/g, (c) => ESC[c]);
const send = (res, type, body) => {
  res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
};
const JSON_TYPE = 'application/json; charset=utf-8';
http.createServer((req, res) => {
  const url = req.url;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  switch (path) {
    case '/': return send(res, 'text/plain; charset=utf-8', 'ok');
    case '/json': return send(res, JSON_TYPE, JSON.stringify({ message: 'Hello, World!' }));
    case '/plaintext': return send(res, 'text/plain; charset=utf-8', 'Hello, World!');
    case '/db': return send(res, JSON_TYPE, JSON.stringify(byId.get(randomId())));
    case '/queries': {
      const rows = [];
      for (let i = count(url); i > 0; i--) rows.push(byId.get(randomId()));
      return send(res, JSON_TYPE, JSON.stringify(rows));
    }
    case '/fortunes': {
      const rows = fortunes.all();
      rows.push({ id: 0, message: 'Additional fortune added at request time.' });
      rows.sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
      let html = '<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>';
      for (const f of rows) html += '<tr><td>' + f.id + '</td><td>' + escape(f.message) + '</td></tr>';
      return send(res, 'text/html; charset=utf-8', html + '</table></body></html>');
    }
    case '/updates': {
      const rows = [];
      for (let i = count(url); i > 0; i--) {
        const w = byId.get(randomId());
        w.randomNumber = randomId();
        rows.push(w);
      }
      updateAll(rows);
      return send(res, JSON_TYPE, JSON.stringify(rows));
    }
    default:
      res.writeHead(404, { 'content-length': 0 });
      res.end();
  }
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

/** Writes the two apps and their databases into dir. */
export function writeTfbApps(dir: string): { lua: string; node: string; luaDb: string; nodeDb: string } {
  const lua = path.join(dir, 'tfb.lua');
  const node = path.join(dir, 'tfb-node.cjs');
  fs.writeFileSync(lua, TFB_LUA.trimStart());
  fs.writeFileSync(node, TFB_NODE.trimStart());
  const luaDb = path.join(dir, 'tfb-redox.db');
  const nodeDb = path.join(dir, 'tfb-node.db');
  createTfbDatabase(luaDb);
  createTfbDatabase(nodeDb);
  return { lua, node, luaDb, nodeDb };
}

export function geometricMean(xs: number[]): number {
  return xs.length === 0 ? NaN : Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
}
