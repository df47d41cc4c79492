// Multi-core serving: a primary process that forks N workers (each with its own Lua VM) sharing
// one listening socket, restarts crashed workers with backoff, and drains them all on shutdown.
//
// Workers get their whole configuration through REDOX_WORKER_SPEC rather than argv: single
// executables mangle a forked worker's argv on some platforms.
import cluster, { Worker } from 'node:cluster';
import net from 'node:net';
import os from 'node:os';
import { Logger } from './log';
import { RedoxError } from '../errors';
import { WORKER_SPEC_ENV as SPEC_ENV } from './worker-env';

/** Everything a worker needs to serve: the same flags the user gave, minus --workers. */
export interface WorkerSpec {
  target?: string;
  features?: string[];
  distro?: string;
  host: string;
  port: number;
  dev: boolean;
  limitFlags: Record<string, string>;
  /** --static, --compress, --tls-* and --http2 as given (see http/settings). */
  httpFlags?: import('./http/settings').HttpFlags;
  /** --data-dir and the features' own flags. */
  featureSettings?: { dataDir?: string; flags?: Record<string, string> };
  /** Set by the primary: whether it serves admin routes (the workers' hooks feed them). */
  primaryAdmin?: boolean;
}

export function parseWorkers(text: string | undefined, source: string): number {
  if (text === undefined || text === '') return 1;
  if (text === 'auto') return Math.max(1, os.availableParallelism());
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 256) {
    throw new RedoxError('REDOX_USAGE', `${source} must be a number of workers from 1 to 256 or "auto", got "${text}"`);
  }
  return n;
}

/** The spec when this process is a worker forked by a primary, else undefined. */
export function workerSpec(): WorkerSpec | undefined {
  const text = process.env[SPEC_ENV];
  if (!cluster.isWorker || !text) return undefined;
  return JSON.parse(text) as WorkerSpec;
}

/** Tells the primary this worker is serving. */
export function reportListening(url: string): void {
  process.send?.({ redox: 'listening', url });
}

/** Heartbeats from the worker's event loop: they stop when the loop is blocked (a Lua run the
 *  watchdog could not stop, a runaway host call), and the primary replaces the worker. */
export function startHeartbeat(timeoutMs: number): void {
  if (timeoutMs <= 0 || !process.send) return;
  setInterval(() => process.send?.({ redox: 'heartbeat' }), heartbeatInterval(timeoutMs)).unref();
}

function heartbeatInterval(timeoutMs: number): number {
  return Math.max(50, Math.min(1000, Math.floor(timeoutMs / 4)));
}

export interface Supervisor {
  url: string;
  /** Workers currently serving (readiness). */
  readonly serving: number;
  /** Drains every worker (each finishes its in-flight requests), then resolves. */
  close(): Promise<void>;
}

interface Slot {
  worker: Worker;
  startedAt: number;
  failures: number;
  /** When the worker last showed its event loop turning (listening message or heartbeat). */
  lastBeat: number;
  listening: boolean;
}

/** Starts `count` workers and resolves once all of them listen. A worker that exits, or whose
 *  heartbeat stops for heartbeatTimeoutMs (0: not watched), is replaced. */
export async function startWorkers(spec: WorkerSpec, count: number, log: Logger, shutdownMs: number, heartbeatTimeoutMs = 0): Promise<Supervisor> {
  // Workers share the socket of their listen key while one of them holds it. When the last one
  // dies, cluster closes it, and replacements listening on port 0 again would get another port
  // (also when workers die one after another, each before the previous replacement listens).
  // So port 0 is resolved once, here, and every worker listens on that port.
  if (spec.port === 0) spec = { ...spec, port: await freePort(spec.host) };
  return supervise(spec, count, log, shutdownMs, heartbeatTimeoutMs);
}

/** A port free on `host` now; 0 when none can be probed (the workers then report why). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(0));
    probe.listen({ port: 0, host }, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function supervise(spec: WorkerSpec, count: number, log: Logger, shutdownMs: number, heartbeatTimeoutMs: number): Promise<Supervisor> {
  let closing = false;
  let url = '';
  const slots = new Set<Slot>();
  const restarts = new Set<NodeJS.Timeout>();
  const watch = heartbeatTimeoutMs > 0 ? setInterval(() => {
    const now = Date.now();
    for (const slot of slots) {
      if (!slot.listening || now - slot.lastBeat <= heartbeatTimeoutMs) continue;
      // Killed, it exits and the exit handler below forks its replacement.
      slot.listening = false;
      log.error('worker stopped sending heartbeats; replacing it', { pid: slot.worker.process.pid, silent_ms: now - slot.lastBeat });
      slot.worker.process.kill('SIGKILL');
    }
  }, heartbeatInterval(heartbeatTimeoutMs)) : null;
  watch?.unref();

  // Workers accept from the shared socket themselves: the primary holds no accepted connection
  // of its own, so a drain cannot drop one. (Round-robin keeps a queue in the primary that is
  // closed, unanswered, when the last worker stops listening.) Windows already works this way.
  // NODE_CLUSTER_SCHED_POLICY=rr restores round-robin, which spreads connections more evenly.
  if (!process.env.NODE_CLUSTER_SCHED_POLICY) cluster.schedulingPolicy = cluster.SCHED_NONE;
  return new Promise<Supervisor>((resolve, reject) => {
    let listening = 0;
    const fork = (failures: number) => {
      const worker = cluster.fork({ [SPEC_ENV]: JSON.stringify(spec) });
      const slot: Slot = { worker, startedAt: Date.now(), failures, lastBeat: Date.now(), listening: false };
      slots.add(slot);
      // Operators (and the tests, on every platform) learn the workers' pids from the log.
      log.info('worker started', { pid: worker.process.pid });
      worker.on('message', (msg: { redox?: string; url?: string }) => {
        slot.lastBeat = Date.now();
        if (msg?.redox !== 'listening') return;
        slot.listening = true;
        if (!url) url = msg.url!;
        slot.failures = 0;
        if (++listening === count) resolve(supervisor);
      });
      worker.on('exit', (code, signal) => {
        slots.delete(slot);
        if (closing) return;
        if (!url) {
          // A worker that cannot start (bad app, port in use) would fail the same way again.
          closing = true;
          for (const s of slots) s.worker.kill('SIGTERM');
          reject(new RedoxError('REDOX_LISTEN', `worker ${worker.process.pid} exited before serving (code ${code ?? signal})`));
          return;
        }
        // Crash loops back off: 100 ms doubling to 10 s while workers die within 5 s of start.
        const quick = Date.now() - slot.startedAt < 5000;
        const nextFailures = quick ? slot.failures + 1 : 0;
        const delay = quick ? Math.min(10_000, 100 * 2 ** (nextFailures - 1)) : 0;
        log.error('worker exited; restarting', { pid: worker.process.pid, code, signal, restart_in_ms: delay });
        // The same listen key (port 0 included) makes cluster hand over the shared socket again.
        // The timer keeps the primary alive: with every worker gone, cluster has closed the
        // shared socket, and nothing else may be left in the event loop (no admin listener).
        const restart = setTimeout(() => {
          restarts.delete(restart);
          if (!closing) fork(nextFailures);
        }, delay);
        restarts.add(restart);
      });
    };
    for (let i = 0; i < count; i++) fork(0);

    const supervisor: Supervisor = {
      get url() { return url; },
      get serving() { let n = 0; for (const s of slots) if (s.listening) n++; return n; },
      close: () => new Promise<void>((done) => {
        closing = true;
        if (watch) clearInterval(watch);
        for (const t of restarts) clearTimeout(t);
        restarts.clear();
        if (slots.size === 0) return done();
        const timer = setTimeout(() => {
          for (const s of slots) s.worker.process.kill('SIGKILL');
        }, shutdownMs + 2000);
        let left = slots.size;
        for (const s of slots) {
          s.worker.once('exit', () => {
            if (--left === 0) {
              clearTimeout(timer);
              done();
            }
          });
          s.worker.process.kill('SIGTERM');
        }
      }),
    };
  });
}
