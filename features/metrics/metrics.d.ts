// TypeScriptToLua declarations for the `metrics` feature: the global `metrics` and
// require("metrics"). Constructors are free functions (this: void); metric methods use ":".

/** Label values by label name; the names must be exactly those declared. */
type MetricLabels = Record<string, string | number | boolean>;

interface MetricOptions {
  /** Prometheus metric name: letters, digits, _ and :, not starting with a digit or "redox_". */
  name: string;
  help?: string;
  /** Label names, e.g. ["queue"]. Every update must give exactly these. */
  labels?: string[];
}

interface HistogramOptions extends MetricOptions {
  /** Upper bounds, increasing. Default: prom-client's (0.005 to 10). */
  buckets?: number[];
}

interface MetricCounter {
  /** Adds n (default 1, never negative). m.inc(labels) adds 1. */
  inc(n?: number | MetricLabels, labels?: MetricLabels): void;
}

interface MetricGauge {
  set(value: number, labels?: MetricLabels): void;
  inc(n?: number | MetricLabels, labels?: MetricLabels): void;
  dec(n?: number | MetricLabels, labels?: MetricLabels): void;
}

interface MetricHistogram {
  observe(value: number, labels?: MetricLabels): void;
}

interface MetricsModule {
  /** Declares (or returns the already declared) counter with this name. */
  counter(this: void, options: MetricOptions): MetricCounter;
  gauge(this: void, options: MetricOptions): MetricGauge;
  histogram(this: void, options: HistogramOptions): MetricHistogram;
}

declare const metrics: MetricsModule;

declare module 'metrics' {
  const metrics: MetricsModule;
  export = metrics;
}
