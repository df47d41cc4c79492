// No data lost: a SQLite write acknowledged with a 2xx survives kill -9 and a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { listeningUrl, spawnRedox, tempDir } from './support/harness';

const APP = String.raw`
local db = sqlite.open("data.db")
db:exec("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
local app = redox.router()
app:post("/events", function(req)
  local r = db:run("INSERT INTO events (body) VALUES (?)", req:body())
  return { status = 201, json = { id = r.last_insert_rowid } }
end)
app:get("/events/ids", function()
  local ids = {}
  for i, row in ipairs(db:query("SELECT id FROM events ORDER BY id")) do ids[i] = row.id end
  return { json = json.array(ids) }
end)
return app
`;

function post(url: string, body: string): Promise<number | null> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve(res.statusCode === 201 ? (JSON.parse(text) as { id: number }).id : null));
      res.on('error', () => resolve(null));
    });
    req.on('error', () => resolve(null));
    req.end(body);
  });
}

test('every acknowledged write is on disk after kill -9 and a restart', async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'app.lua'), APP);
  const first = spawnRedox(['serve', 'app.lua', '--port', '0', '--features', 'sqlite'], { cwd: dir, env: { REDOX_LOG_LEVEL: 'warn' } });
  const url = await listeningUrl(first);
  const acknowledged: number[] = [];
  let stop = false;
  const writers = Array.from({ length: 8 }, async (_, w) => {
    for (let i = 0; !stop; i++) {
      const id = await post(url + '/events', `writer ${w} event ${i}`);
      if (id === null) return; // the server died mid-request: not acknowledged
      acknowledged.push(id);
    }
  });
  // Killed once enough writes were acknowledged (an event, not a time window).
  for (let i = 0; i < 1200 && acknowledged.length < 30; i++) await new Promise((r) => setTimeout(r, 25));
  first.child.kill('SIGKILL');
  stop = true;
  await Promise.all(writers);
  await first.exited;
  assert.ok(acknowledged.length > 20, `writes were acknowledged before the kill: ${acknowledged.length}`);

  const second = spawnRedox(['serve', 'app.lua', '--port', '0', '--features', 'sqlite'], { cwd: dir, env: { REDOX_LOG_LEVEL: 'warn' } });
  try {
    const url2 = await listeningUrl(second);
    const stored = new Set((await (await fetch(url2 + '/events/ids')).json()) as number[]);
    const lost = acknowledged.filter((id) => !stored.has(id));
    assert.deepEqual(lost, [], `${lost.length} acknowledged writes lost of ${acknowledged.length}`);
  } finally {
    second.child.kill('SIGTERM');
    await second.exited;
  }
});
