// metrics: Prometheus metrics on prom-client. Built-in request, limit and heap series are fed
// by core's request observer hook; apps add their own with metrics.counter/gauge/histogram.
// The admin listener serves them at /metrics; with `serve --workers` the primary sums the
// workers' registries on each scrape.
import { defineFeature, sync } from '../../core/feature';
import type * as AppMetrics from './app-metrics';
import { METRICS_LUA } from './metrics.lua';
import type * as Registry from './registry';

// prom-client takes about 50 ms to load: the modules that use it are required when first used
// (an app's first metric, the admin listener), not when the feature is listed or installed, so
// `redox run` and a VM that declares no metric never load it.
let loaded: typeof AppMetrics | undefined;
const appMetrics = () => (loaded ??= require('./app-metrics') as typeof AppMetrics);
const registry = () => require('./registry') as typeof Registry;

export default defineFeature({
  install: () => ({
    lua: METRICS_LUA,
    functions: {
      declare: sync((kind: 'counter' | 'gauge' | 'histogram', opts) => appMetrics().declare(kind, opts), { name: 'metrics' }),
      update: sync((id, op: string, value, labels) => appMetrics().update(id, op, value, labels), { name: 'metrics' }),
    },
  }),
  operations: (ctx) => {
    // Nothing could scrape the series (no --admin-port): no registry, no per-request hook.
    if (!ctx.adminListener) return {};
    const { builtinSeries, exposition } = registry();
    return { observer: builtinSeries(ctx).observer, admin: { '/metrics': exposition } };
  },
  primary: () => ({
    admin: { '/metrics': registry().clusterExposition },
  }),
});
