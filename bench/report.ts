// Plain-text tables for the terminal (and for pasting into notes).
import { Target } from './targets';
import { WorkloadResult } from './workloads';

function table(head: string[], rows: string[][], alignLeft = 1): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < alignLeft ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** wrk above this share of its core is the bottleneck. */
const LOAD_BOUND = 90;

const num = (n: number, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

export function renderWorkload(w: WorkloadResult): string {
  const out = [w.title];
  if (w.rows) {
    const ref = w.rows.find((r) => r.name === w.reference && !r.skipped);
    const rows = w.rows.map((r) => r.skipped
      ? [r.name, 'skipped', '', '', '', '', '', '', '', '', r.skipped]
      : [r.name, num(r.rps), ref ? `${(r.rps / ref.rps).toFixed(2)}x` : '', num(r.p50, 2), num(r.p99, 2), num(r.rssMiB, 0),
        num(r.cpuPct, 0), num(r.reqPerCpuS), num(r.loadCpuPct, 0),
        r.errors ? `${num(r.errors)} (${(100 * r.errors / Math.max(1, r.requests)).toFixed(1)}%)` : '0', '']);
    out.push(table(['contender', 'req/s', `vs ${w.reference ?? '-'}`, 'p50 ms', 'p99 ms', 'RSS MiB', 'CPU %', 'req/CPU-s', 'wrk %', 'errors', ''], rows));
    const bound = w.rows.filter((r) => !r.skipped && r.loadCpuPct >= LOAD_BOUND);
    if (bound.length) out.push(`  ! wrk used >= ${LOAD_BOUND}% of its core for ${bound.map((r) => r.name).join(', ')}: the load generator, not the server, set that req/s (a lower bound)`);
  }
  if (w.cold) {
    const ref = w.cold.find((c) => !c.skipped && c.name.startsWith('Redox'));
    const rows = w.cold.map((c) => c.skipped
      ? [c.name, 'skipped', '', '', '', c.skipped]
      : [c.name, num(c.medianMs, 0), num(c.minMs, 0), num(c.maxMs, 0), ref ? `${(c.medianMs / ref.medianMs).toFixed(2)}x` : '', '']);
    out.push(table(['contender', 'median ms', 'min ms', 'max ms', `vs ${ref?.name ?? 'Redox'}`, ''], rows));
  }
  out.push(...w.notes.map((n) => `  - ${n}`));
  return out.join('\n') + '\n';
}

export function renderTargets(targets: Target[]): string {
  const rows = targets.map((t) => [t.workload, t.goal, t.reached, t.status]);
  const caveats = targets.filter((t) => t.caveat).map((t) => `  - ${t.workload}: ${t.caveat}`);
  return ['Targets', table(['', 'target', 'reached', ''], rows, 3), ...caveats].join('\n') + '\n';
}
