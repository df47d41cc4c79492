// The parts of prom-client this feature uses, required from their own files. prom-client's
// index also loads its Pushgateway, whose `https` import brings TLS into every start of a binary
// with this feature (~20 ms of a 350 ms cold start) although nothing here pushes. The cluster
// aggregator (which loads node:cluster) is required only by the code that aggregates.
import type * as Prom from 'prom-client';

/* eslint-disable @typescript-eslint/no-require-imports */
export const Registry = require('prom-client/lib/registry') as typeof Prom.Registry;
export const Counter = require('prom-client/lib/counter') as typeof Prom.Counter;
export const Gauge = require('prom-client/lib/gauge') as typeof Prom.Gauge;
export const Histogram = require('prom-client/lib/histogram') as typeof Prom.Histogram;
/** One of prom-client's default metric modules: registers its series in `registry`. */
type DefaultMetric = (registry: Prom.Registry, config: { eventLoopMonitoringPrecision: number }) => void;
/** prom-client's default metrics, each from its own file, except process_cpu_*: prom-client's
 *  module for those loads OpenTelemetry (51 modules, ~35 ms of every start) for exemplars this
 *  feature never enables; process-cpu.ts keeps the same three series. */
export const defaultMetrics = (): DefaultMetric[] => [
  require('prom-client/lib/metrics/processStartTime'),
  require('prom-client/lib/metrics/osMemoryHeap'),
  require('prom-client/lib/metrics/processOpenFileDescriptors'),
  require('prom-client/lib/metrics/processMaxFileDescriptors'),
  require('prom-client/lib/metrics/eventLoopLag'),
  require('prom-client/lib/metrics/processResources'),
  require('prom-client/lib/metrics/processHandles'),
  require('prom-client/lib/metrics/processRequests'),
  require('prom-client/lib/metrics/heapSizeAndUsed'),
  require('prom-client/lib/metrics/heapSpacesSizeAndUsed'),
  require('prom-client/lib/metrics/version'),
  require('prom-client/lib/metrics/gc'),
];
export const aggregatorRegistry = () => require('prom-client/lib/cluster') as typeof Prom.AggregatorRegistry;
/* eslint-enable @typescript-eslint/no-require-imports */

export type Registry = Prom.Registry;
export type Counter<T extends string = string> = Prom.Counter<T>;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export type Histogram<T extends string = string> = Prom.Histogram<T>;
