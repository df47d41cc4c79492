// The per-request series, kept in plain maps keyed by one string and handed to prom-client only
// when scraped: prom-client hashes a label object on every inc/observe (~1.5 us each here),
// which would be most of what metrics cost per request.
import { Counter, Registry } from './prom';

interface CountEntry { labels: Record<string, string>; n: number; reported: number }
interface HistEntry { labels: Record<string, string>; buckets: Float64Array; sum: number; count: number }

/** A counter whose hot path is a Map lookup; prom-client receives the increments at scrape. */
export class BufferedCounter {
  private readonly entries = new Map<string, CountEntry>();
  constructor(name: string, help: string, labelNames: string[], registry: Registry) {
    const entries = this.entries;
    new Counter({
      name, help, labelNames, registers: [registry],
      collect() {
        for (const e of entries.values()) {
          if (e.n > e.reported) {
            this.inc(e.labels, e.n - e.reported);
            e.reported = e.n;
          }
        }
      },
    });
  }
  /** `labels` belongs to the caller's series and is kept as is (not copied). */
  inc(key: string, labels: Record<string, string>): void {
    const e = this.entries.get(key);
    if (e) e.n++;
    else this.entries.set(key, { labels, n: 1, reported: 0 });
  }
}

/** A histogram registered in prom-client's JSON shape (the one its cluster aggregation sums),
 *  filled without per-observation label hashing. */
export class BufferedHistogram {
  private readonly entries = new Map<string, HistEntry>();
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  constructor(name: string, help: string, private readonly bounds: number[], registry: Registry) {
    this.name = name;
    this.help = help;
    registry.registerMetric(this as never);
  }
  /** `labels` belongs to the caller's series and is kept as is (not copied). */
  observe(key: string, labels: Record<string, string>, value: number): void {
    let e = this.entries.get(key);
    if (!e) {
      e = { labels, buckets: new Float64Array(this.bounds.length), sum: 0, count: 0 };
      this.entries.set(key, e);
    }
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]) {
        e.buckets[i]++;
        break;
      }
    }
    e.sum += value;
    e.count++;
  }
  get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const e of this.entries.values()) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += e.buckets[i];
        values.push({ labels: { le, ...e.labels }, value: acc, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...e.labels }, value: e.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...e.labels }, value: e.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...e.labels }, value: e.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
