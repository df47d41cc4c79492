// metrics: the Lua API on a real VM with only this feature, and the built-in series over real
// HTTP through the admin listener, checked by Prometheus's own promtool.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { httpGet, LuaHarness, luaWith, ROOT, serveOperatedLua, tempDir } from '../../test/support/harness';

/** The value of one series in an exposition, or undefined. */
export function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool is not installed (apt-get install prometheus; .ci/run does it): ${r.error.message}`);
  return { status: r.status, output: r.stdout + r.stderr };
}

describe('metrics Lua API', () => {
  let lua: LuaHarness;
  before(async () => {
    lua = await luaWith(['metrics']);
  });
  after(() => lua.close());

  it('counts, gauges and observes, and the exposition shows it', async () => {
    await lua.run(`
      local jobs = metrics.counter{name = "api_jobs_total", help = "Jobs done", labels = {"queue"}}
      jobs:inc(1, {queue = "mail"})
      jobs:inc(2, {queue = "mail"})
      jobs:inc({queue = "sms"})
      local temp = metrics.gauge{name = "api_temperature", help = "Temperature"}
      temp:set(20)
      temp:inc(5)
      temp:dec(2)
      local size = metrics.histogram{name = "api_size_bytes", help = "Sizes", buckets = {10, 100}}
      size:observe(5)
      size:observe(50)
      size:observe(500)
    `);
    const { default: feature } = await import('./index');
    const text = (await feature.operations!({ workerId: 0, luaHeapBytes: () => undefined, adminListener: true }).admin!['/metrics']()).body;
    assert.equal(sample(text, 'api_jobs_total{queue="mail"}'), 3);
    assert.equal(sample(text, 'api_jobs_total{queue="sms"}'), 1);
    assert.equal(sample(text, 'api_temperature'), 23);
    assert.equal(sample(text, 'api_size_bytes_bucket{le="10"}'), 1);
    assert.equal(sample(text, 'api_size_bytes_bucket{le="100"}'), 2);
    assert.equal(sample(text, 'api_size_bytes_bucket{le="+Inf"}'), 3);
    assert.equal(sample(text, 'api_size_bytes_sum'), 555);
    assert.match(text, /# HELP api_jobs_total Jobs done/);
  });

  it('returns the same metric when a name is declared twice', async () => {
    assert.equal(await lua.run(`
      local a = metrics.counter{name = "api_twice_total", labels = {"x"}}
      local b = metrics.counter{name = "api_twice_total", labels = {"x"}}
      a:inc(1, {x = "1"}); b:inc(1, {x = "1"})
      return a == b`), true);
    const { default: feature } = await import('./index');
    const text = (await feature.operations!({ workerId: 0, luaHeapBytes: () => undefined, adminListener: true }).admin!['/metrics']()).body;
    assert.equal(sample(text, 'api_twice_total{x="1"}'), 2);
  });

  it('raises invalid names at the caller\'s line', async () => {
    await assert.rejects(lua.run('local x = 1\nmetrics.counter{name = "2bad"}'), /snippet\d+\.lua:2: metrics\.counter: name must be a Prometheus metric name.*"2bad"/);
    await assert.rejects(lua.run('metrics.gauge{name = "has-dash"}'), /snippet\d+\.lua:1: metrics\.gauge: name must be a Prometheus metric name/);
    await assert.rejects(lua.run('metrics.gauge{}'), /snippet\d+\.lua:1: metrics\.gauge: name must be .*got nil/);
    await assert.rejects(lua.run('metrics.counter("jobs")'), /snippet\d+\.lua:1: metrics\.counter expects a table/);
    await assert.rejects(lua.run('metrics.counter{name = "redox_mine"}'), /reserved/);
    await assert.rejects(lua.run('metrics.counter{name = "api_l_total", labels = {"bad-label"}}'), /snippet\d+\.lua:1: metrics\.counter: label names must be/);
    await assert.rejects(lua.run('metrics.histogram{name = "api_b", buckets = {5, 1}}'), /buckets must increase/);
    await assert.rejects(lua.run('metrics.counter{name = "api_opt_total", nmae = "x"}'), /unknown option "nmae"/);
  });

  it('raises label sets that differ from the declaration at the caller\'s line', async () => {
    await assert.rejects(lua.run('local c = metrics.counter{name = "api_lbl_total", labels = {"queue"}}\nc:inc(1, {queue = "a", extra = "b"})'),
      /snippet\d+\.lua:2: counter "api_lbl_total":inc: labels \{extra, queue\} differ from the declared \{queue\}/);
    await assert.rejects(lua.run('local c = metrics.counter{name = "api_lbl_total", labels = {"queue"}}\n\nc:inc()'),
      /snippet\d+\.lua:3: counter "api_lbl_total":inc needs labels \{queue\}/);
    await assert.rejects(lua.run('metrics.counter{name = "api_lbl_total", labels = {"other"}}'),
      /snippet\d+\.lua:1: metrics\.counter: "api_lbl_total" was declared with labels \{queue\}, not \{other\}/);
    await assert.rejects(lua.run('metrics.gauge{name = "api_lbl_total", labels = {"queue"}}'), /"api_lbl_total" is already a counter/);
  });

  it('raises negative counter increments and non-numbers at the caller\'s line', async () => {
    await assert.rejects(lua.run('local c = metrics.counter{name = "api_neg_total"}\nc:inc(-1)'),
      /snippet\d+\.lua:2: counter "api_neg_total":inc: a counter only goes up, got -1/);
    await assert.rejects(lua.run('local g = metrics.gauge{name = "api_num"}\ng:set("high")'), /snippet\d+\.lua:2: gauge "api_num":set expects a finite number, got string/);
    await assert.rejects(lua.run('local c = metrics.counter{name = "api_neg_total"}\nc:set(1)'), /snippet\d+\.lua:2: .*set/);
  });
});

describe('metrics over HTTP', () => {
  let svc: Awaited<ReturnType<typeof serveOperatedLua>>;
  let dir: string;
  before(async () => {
    dir = tempDir();
    const code = fs.readFileSync(path.join(ROOT, 'features', 'metrics', 'fixtures', 'app.lua'));
    svc = await serveOperatedLua(code, ['metrics'], dir, { cpuBudgetMs: '50ms' });
  });
  after(async () => {
    await svc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const scrape = async () => {
    const r = await httpGet(svc.admin!.url + '/metrics');
    assert.equal(r.status, 200);
    return r.body;
  };

  it('counts requests by route pattern, never the raw path, with status classes', async () => {
    for (const id of ['1', '2', '3']) assert.equal((await httpGet(`${svc.url}/items/${id}`)).status, 200);
    assert.equal((await httpGet(`${svc.url}/no/such/${Date.now()}`)).status, 404);
    const text = await scrape();
    assert.equal(sample(text, 'redox_http_requests_total{method="GET",route="/items/:id",status_class="2xx"}'), 3);
    assert.equal(sample(text, 'redox_http_requests_total{method="GET",route="unmatched",status_class="4xx"}'), 1);
    assert.equal(sample(text, 'redox_http_request_duration_seconds_count{method="GET",route="/items/:id"}'), 3);
    assert.doesNotMatch(text, /\/items\/1|\/no\/such/);
    assert.equal(sample(text, 'shop_orders_total{kind="item"}'), 3);
  });

  it('counts handler errors and CPU-budget kills; shows the Lua heap and in-flight requests', async () => {
    assert.equal((await httpGet(`${svc.url}/fail`)).status, 500);
    assert.equal((await httpGet(`${svc.url}/spin`)).status, 503);
    const slow = httpGet(`${svc.url}/slow`);
    let text = '';
    // Poll until the slow request is seen in flight (hang guard: the test's own timeout).
    for (;;) {
      text = await scrape();
      if (sample(text, 'redox_http_requests_in_flight') === 1) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await slow).status, 200);
    text = await scrape();
    assert.equal(sample(text, 'redox_http_requests_in_flight'), 0);
    assert.equal(sample(text, 'redox_handler_errors_total{route="/fail"}'), 1);
    assert.equal(sample(text, 'redox_handler_kills_total{limit="cpu_budget"}'), 1);
    assert.equal(sample(text, 'redox_handler_kills_total{limit="memory_limit"}'), 0);
    assert.ok(sample(text, 'redox_lua_heap_bytes{worker="0"}')! > 10_000);
    assert.ok(sample(text, 'process_cpu_user_seconds_total')! > 0, 'prom-client default process metrics are there');
    // The three CPU series come from one reading (process-cpu.ts), scraped in this order.
    const user = sample(text, 'process_cpu_user_seconds_total')!;
    const system = sample(text, 'process_cpu_system_seconds_total')!;
    assert.ok(system > 0);
    assert.ok(Math.abs(sample(text, 'process_cpu_seconds_total')! - (user + system)) < 1e-6, 'total = user + system');
    assert.ok(sample(text, 'process_resident_memory_bytes')! > 0);
    assert.ok(sample(text, 'nodejs_eventloop_lag_seconds')! >= 0);
    // prom-client's own CPU module would load OpenTelemetry for exemplars nobody enabled.
    assert.deepEqual(Object.keys(require.cache).filter((k) => k.includes('@opentelemetry')), []);
  });

  it('is accepted by promtool check metrics', async () => {
    const r = promtool(await scrape());
    assert.equal(r.status, 0, r.output);
  });
});
