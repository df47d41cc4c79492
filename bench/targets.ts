// The targets, each checked against the figures of this run.
import { WorkloadResult } from './workloads';
import { Row } from './measure';
import { geometricMean, TFB_TYPES } from './tfb';

export interface Target {
  workload: string;
  goal: string;
  reached: string;
  status: 'PASS' | 'MISS' | 'NOT RUN';
  caveat?: string;
}

export function checkTargets(results: WorkloadResult[], cores: number): Target[] {
  const w = (id: string) => results.find((r) => r.id === id);
  const row = (id: string, name: string): Row | undefined => w(id)?.rows?.find((r) => r.name === name && !r.skipped);
  const out: Target[] = [];
  const add = (workload: string, goal: string, ok: boolean | undefined, reached: string, caveat?: string) =>
    out.push({ workload, goal, reached: ok === undefined ? '-' : reached, status: ok === undefined ? 'NOT RUN' : ok ? 'PASS' : 'MISS', caveat });

  const redox = row('w1', 'Redox');
  const node = row('w1', 'node:http');
  const express = row('w1', 'Express');
  add('w1', 'Redox >= 0.9x node:http (1 worker)', redox && node ? redox.rps >= 0.9 * node.rps : undefined,
    redox && node ? `${x(redox.rps / node.rps)} (${k(redox.rps)} vs ${k(node.rps)} req/s; per CPU-s ${x(redox.reqPerCpuS / node.reqPerCpuS)})` : '');
  add('w1', 'Redox >= 3.5x Express (1 worker)', redox && express ? redox.rps >= 3.5 * express.rps : undefined,
    redox && express ? `${x(redox.rps / express.rps)} (${k(redox.rps)} vs ${k(express.rps)} req/s; per CPU-s ${x(redox.reqPerCpuS / express.reqPerCpuS)})` : '');

  const up = row('w2', 'Redox');
  add('w2', '>= 4,500 req/s with 500 connections', up ? up.rps >= 4500 : undefined, up ? `${k(up.rps)} req/s, p99 ${up.p99.toFixed(1)} ms` : '');

  const small = row('w3', 'Redox, 1,000 entries');
  const big = row('w3', 'Redox, 1,000,000 entries');
  add('w3', 'p99 at 1M entries <= 1.25x p99 at 1k', small && big ? big.p99 <= 1.25 * small.p99 : undefined,
    small && big ? `${x(big.p99 / small.p99)} (${big.p99.toFixed(2)} vs ${small.p99.toFixed(2)} ms)` : '');
  add('w3', 'throughput at 1M within 10% of 1k', small && big ? Math.abs(big.rps / small.rps - 1) <= 0.1 : undefined,
    small && big ? `${x(big.rps / small.rps)} (${k(big.rps)} vs ${k(small.rps)} req/s; per CPU-s ${x(big.reqPerCpuS / small.reqPerCpuS)})` : '');

  const cold = w('w4')?.cold?.find((c) => !c.skipped && (c.name === 'Redox binary' || c.name === 'Redox CLI'));
  add('w4', 'median cold start <= 150 ms', cold ? cold.medianMs <= 150 : undefined, cold ? `${cold.medianMs.toFixed(0)} ms (${cold.name})` : '');

  const one = row('w5', 'Redox, 1 worker');
  const two = row('w5', 'Redox, 2 workers');
  add('w5', '2 workers > 1 worker (load generator off their cores)', one && two ? two.rps > one.rps : undefined,
    one && two ? `${x(two.rps / one.rps)} (${k(two.rps)} vs ${k(one.rps)} req/s)` : '',
    cores < 3 ? `only ${cores} cores: wrk shared a core with worker 2, so this is not the target's condition` : undefined);

  // Issue 10.
  const seedNode = row('seed', 'node:http');
  const seedInfo = row('seed', 'Redox (defaults: info logs)');
  const seedWarn = row('seed', 'Redox (warn)');
  const vsNode = (r: Row | undefined) => (r && seedNode ? `${x(r.rps / seedNode.rps)} (${k(r.rps)} vs ${k(seedNode.rps)} req/s; per CPU-s ${x(r.reqPerCpuS / seedNode.reqPerCpuS)})` : '');
  add('seed', 'defaults >= 0.65x node:http', seedInfo && seedNode ? seedInfo.rps >= 0.65 * seedNode.rps : undefined, vsNode(seedInfo));
  add('seed', 'warn logging >= 0.8x node:http', seedWarn && seedNode ? seedWarn.rps >= 0.8 * seedNode.rps : undefined, vsNode(seedWarn));
  const tfbRows = w('tfb')?.rows ?? [];
  const pairs = TFB_TYPES.map((t) => [tfbRows.find((r) => r.name === `${t.id}: Redox` && !r.skipped), tfbRows.find((r) => r.name === `${t.id}: node:http` && !r.skipped)]);
  const complete = pairs.every(([a, b]) => a && b && b.rps > 0);
  const mean = complete ? geometricMean(pairs.map(([a, b]) => a!.rps / b!.rps)) : 0;
  const meanCpu = complete ? geometricMean(pairs.map(([a, b]) => a!.reqPerCpuS / b!.reqPerCpuS)) : 0;
  add('tfb', 'geometric mean >= 0.7x node:http + better-sqlite3', complete ? mean >= 0.7 : undefined, `${x(mean)} (per CPU-s ${x(meanCpu)})`);
  return out;
}

const x = (r: number) => `${r.toFixed(2)}x`;
const k = (n: number) => Math.round(n).toLocaleString('en-US');
