// The process's metrics: one prom-client registry per process holding the built-in series and
// the app's own metrics. With `serve --workers`, each worker keeps its own and the primary sums
// them on scrape (prom-client's cluster aggregation).
import type { AggregatorRegistry } from 'prom-client';
import type { CompletedRequest, ProcessContext, RequestObserver } from '../../core/feature';
import { aggregatorRegistry, Counter, defaultMetrics, Gauge, Registry } from './prom';
import { processCpuSeries } from './process-cpu';
import { BufferedCounter, BufferedHistogram } from './request-series';

export const registry = new Registry();

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// Methods outside this set are counted as "OTHER", so a client cannot create label values.
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export interface Builtins {
  observer: RequestObserver;
}

let builtins: Builtins | undefined;
let heapSource: ProcessContext | undefined;

/** Creates the built-in series once per process and returns the request observer feeding them. */
export function builtinSeries(ctx: ProcessContext): Builtins {
  heapSource = ctx;
  if (builtins) return builtins;
  processCpuSeries(registry);
  for (const metric of defaultMetrics()) metric(registry, { eventLoopMonitoringPrecision: 10 });
  // prom-client also exports these totals as gauges named *_total, which promtool rejects
  // (only counters may end in _total); the per-type nodejs_active_* series carry the same data.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
  const requests = new BufferedCounter('redox_http_requests_total', 'HTTP requests answered, by method, route pattern and status class',
    ['method', 'route', 'status_class'], registry);
  const duration = new BufferedHistogram('redox_http_request_duration_seconds', 'Time from receiving a request to answering it', DURATION_BUCKETS, registry);
  let active = 0;
  new Gauge({ name: 'redox_http_requests_in_flight', help: 'Requests being handled now', registers: [registry], collect() { this.set(active); } });
  const kills = new Counter({
    name: 'redox_handler_kills_total', help: 'Handlers stopped by a limit: cpu_budget, memory_limit or timeout',
    labelNames: ['limit'] as const, registers: [registry],
  });
  const errors = new Counter({
    name: 'redox_handler_errors_total', help: 'Handlers that raised an error or returned an invalid response (answered 500)',
    labelNames: ['route'] as const, registers: [registry],
  });
  // One series per VM: heap sizes of different workers do not add up to anything useful.
  new Gauge({
    name: 'redox_lua_heap_bytes', help: 'Bytes of Lua heap in use, per VM (worker 0: a single process)',
    labelNames: ['worker'] as const, registers: [registry],
    collect() {
      const bytes = heapSource?.luaHeapBytes();
      if (bytes !== undefined) this.set({ worker: String(heapSource!.workerId) }, bytes);
    },
  });
  for (const limit of ['cpu_budget', 'memory_limit', 'timeout']) kills.inc({ limit }, 0);
  const KILL = { cpu: 'cpu_budget', memory: 'memory_limit', timeout: 'timeout' } as const;

  if (ctx.workerId !== 0) {
    // A cluster worker: answers the primary's aggregation requests with this registry.
    const Aggregator = aggregatorRegistry();
    Aggregator.setRegistries([registry]);
    new Aggregator();
  }
  // One entry per (route, method), made once: a request finds its series keys and label sets
  // with two Map lookups on strings that are the same objects each time, and allocates nothing.
  interface RouteSeries { key: string; labels: Record<string, string>; byClass: ({ key: string; labels: Record<string, string> } | undefined)[] }
  const byRoute = new Map<string, Map<string, RouteSeries>>();
  const seriesOf = (method: string, route: string): RouteSeries => {
    let byMethod = byRoute.get(route);
    if (byMethod === undefined) byRoute.set(route, byMethod = new Map());
    let s = byMethod.get(method);
    if (s === undefined) byMethod.set(method, s = { key: method + ' ' + route, labels: { method, route }, byClass: [] });
    return s;
  };
  builtins = {
    observer: {
      started: () => { active++; },
      completed: (r: CompletedRequest) => {
        active--;
        const route = r.route ?? 'unmatched';
        const s = seriesOf(METHODS.has(r.method) ? r.method : 'OTHER', route);
        const c = (r.status / 100) | 0;
        let count = s.byClass[c];
        if (count === undefined) {
          const cls = `${c}xx`;
          count = s.byClass[c] = { key: s.key + ' ' + cls, labels: { ...s.labels, status_class: cls } };
        }
        requests.inc(count.key, count.labels);
        duration.observe(s.key, s.labels, r.durationMs / 1000);
        if (r.killed) kills.inc({ limit: KILL[r.killed] });
        if (r.failed) errors.inc({ route });
      },
    },
  };
  return builtins;
}

/** The text a scrape gets from this process. */
export async function exposition(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

let aggregator: AggregatorRegistry<typeof Registry.PROMETHEUS_CONTENT_TYPE> | undefined;

/** In the primary of a worker group: the sum over every worker's registry. */
export async function clusterExposition(): Promise<{ contentType: string; body: string }> {
  aggregator ??= new (aggregatorRegistry())();
  return { contentType: aggregator.contentType, body: await aggregator.clusterMetrics() };
}
