// process_cpu_user_seconds_total, process_cpu_system_seconds_total and process_cpu_seconds_total,
// as prom-client's default metrics name and compute them (its own module also loads OpenTelemetry
// for exemplars: see prom.ts).
import { Counter, Registry } from './prom';

export function processCpuSeries(registry: Registry): void {
  let last = process.cpuUsage();
  // One collect() feeds all three from one reading, as in prom-client: the user series is
  // registered first, so a scrape collects it before it reads the other two.
  new Counter({
    name: 'process_cpu_user_seconds_total', help: 'Total user CPU time spent in seconds.', registers: [registry],
    collect() {
      const now = process.cpuUsage();
      const user = (now.user - last.user) / 1e6;
      const sys = (now.system - last.system) / 1e6;
      last = now;
      this.inc(user);
      system.inc(sys);
      total.inc(user + sys);
    },
  });
  const system = new Counter({ name: 'process_cpu_system_seconds_total', help: 'Total system CPU time spent in seconds.', registers: [registry] });
  const total = new Counter({ name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.', registers: [registry] });
}
