// Workload 4: time from exec to the first 200 response. The runs of all contenders are
// interleaved; one unrecorded run each first puts their files in the page cache (and lets a
// Redox binary unpack its assets once, as it does on its first start on a machine).
import { freePort, startServer } from './server';
import { Contender, median, round } from './measure';

export interface ColdRow {
  name: string;
  medianMs: number;
  minMs: number;
  maxMs: number;
  runs: number[];
  skipped?: string;
}

export async function measureColdStarts(contenders: Contender[], runs: number, say: (t: string) => void): Promise<ColdRow[]> {
  const times = new Map<string, number[]>();
  const failed = new Map<string, string>();
  for (const c of contenders) {
    if ('skip' in c.spec) failed.set(c.name, c.spec.skip);
    else times.set(c.name, []);
  }
  for (let run = 0; run <= runs; run++) {
    for (const c of contenders) {
      if (failed.has(c.name) || 'skip' in c.spec) continue;
      try {
        // Poll every 2 ms: the poll interval bounds the error of the measure.
        const srv = await startServer(c.spec, await freePort(), c.cores, 2);
        await srv.stop();
        if (run > 0) times.get(c.name)!.push(srv.readyMs);
      } catch (err) {
        failed.set(c.name, `did not start: ${(err as Error).message.split('\n').slice(0, 3).join(' / ')}`);
      }
    }
    if (run > 0) say(`    run ${run}/${runs}: ${contenders.filter((c) => times.get(c.name)?.length === run).map((c) => `${c.name} ${times.get(c.name)![run - 1].toFixed(0)} ms`).join(', ')}\n`);
  }
  return contenders.map((c) => {
    const why = failed.get(c.name);
    if (why) return { name: c.name, medianMs: 0, minMs: 0, maxMs: 0, runs: [], skipped: why };
    const t = times.get(c.name)!;
    return { name: c.name, medianMs: median(t), minMs: Math.min(...t), maxMs: Math.max(...t), runs: t.map((x) => round(x, 1)) };
  });
}
