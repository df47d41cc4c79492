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
export const collectDefaultMetrics = require('prom-client/lib/defaultMetrics') as typeof Prom.collectDefaultMetrics;
export const aggregatorRegistry = () => require('prom-client/lib/cluster') as typeof Prom.AggregatorRegistry;
/* eslint-enable @typescript-eslint/no-require-imports */

export type Registry = Prom.Registry;
export type Counter<T extends string = string> = Prom.Counter<T>;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export type Histogram<T extends string = string> = Prom.Histogram<T>;
