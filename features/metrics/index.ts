// metrics: Prometheus metrics on prom-client. Built-in request, limit and heap series are fed
// by core's request observer hook; apps add their own with metrics.counter/gauge/histogram.
// The admin listener serves them at /metrics; with `serve --workers` the primary sums the
// workers' registries on each scrape.
import { defineFeature, sync } from '../../core/feature';
import { declare, update } from './app-metrics';
import { METRICS_LUA } from './metrics.lua';
import { builtinSeries, clusterExposition, exposition } from './registry';

export default defineFeature({
  install: () => ({
    lua: METRICS_LUA,
    functions: {
      declare: sync((kind: 'counter' | 'gauge' | 'histogram', opts) => declare(kind, opts), { name: 'metrics' }),
      update: sync((id, op: string, value, labels) => update(id, op, value, labels), { name: 'metrics' }),
    },
  }),
  operations: (ctx) => ({
    observer: builtinSeries(ctx).observer,
    admin: { '/metrics': exposition },
  }),
  primary: () => ({
    admin: { '/metrics': clusterExposition },
  }),
});
