// Command-line options of `npm run bench`: rounds, their length, and which workloads run.

export const WORKLOADS = ['w1', 'w2', 'w3', 'w4', 'w5', 'seed', 'tfb', 'calls'] as const;
export type WorkloadId = (typeof WORKLOADS)[number];

export interface BenchOptions {
  rounds: number;
  /** Seconds per measured round. */
  duration: number;
  /** Seconds of unrecorded load before the rounds (JIT, pools, caches). 8 by default: V8 was
   *  still compiling the request path with TurboFan (about 12% of the CPU) 2 to 8 s into a run. */
  warmup: number;
  /** Runs of the cold-start workload. */
  coldRuns: number;
  only: Set<WorkloadId>;
  quick: boolean;
  /** Skip installing the peers; contenders that are not installed are skipped. */
  noInstall: boolean;
  /** A Redox web binary (an earlier build) to measure beside this one (seed and w4). */
  baseline?: string;
}

const USAGE = `usage: npm run bench -- [--quick] [--only w1,w3] [--rounds N] [--duration S] [--warmup S] [--no-install] [--baseline BINARY]
  w1 JSON + uuid v4 vs peers   w2 waiting on a 100 ms upstream (500 connections)
  w3 cache 1k vs 1M entries    w4 cold start (--baseline too)   w5 workers 2 vs 1
  seed  the seed's json.encode handler vs node:http, info and warn logging (--baseline: an older binary beside it)
  tfb   TechEmpower-style types vs node:http + better-sqlite3, with the geometric mean
  calls cost of one host call from Lua (uuid, json.encode, db:get, db:query)`;

export function parseOptions(argv: string[]): BenchOptions {
  const opts: BenchOptions = { rounds: 5, duration: 3, warmup: 8, coldRuns: 10, only: new Set(WORKLOADS), quick: false, noInstall: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === '--quick') Object.assign(opts, { quick: true, rounds: 1, duration: 3, warmup: 1, coldRuns: 5 });
    else if (arg === '--only') opts.only = parseOnly(value());
    else if (arg === '--rounds') opts.rounds = positive(arg, value());
    else if (arg === '--duration') opts.duration = positive(arg, value());
    else if (arg === '--warmup') opts.warmup = positive(arg, value());
    else if (arg === '--no-install') opts.noInstall = true;
    else if (arg === '--baseline') opts.baseline = value();
    else if (arg === '-h' || arg === '--help') throw new Error(USAGE);
    else throw new Error(`unknown option ${arg}\n${USAGE}`);
  }
  return opts;
}

function parseOnly(list: string): Set<WorkloadId> {
  const ids = list.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const bad = ids.filter((id) => !(WORKLOADS as readonly string[]).includes(id));
  if (bad.length || ids.length === 0) throw new Error(`--only takes workloads among ${WORKLOADS.join(',')}; got "${list}"`);
  return new Set(ids as WorkloadId[]);
}

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} takes a positive integer; got "${text}"`);
  return n;
}
