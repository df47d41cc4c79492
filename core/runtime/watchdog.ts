// The watchdog: a thread outside the Lua call that stops a dispatch running past its deadline,
// even inside one long C call (pattern backtracking, a table.sort comparator, a __gc finalizer)
// where the in-VM budget hook cannot act.
//
// Cost while nothing overruns: four stores to shared memory per Lua run and a thread that wakes
// every POLL_MS. The inspector session is connected only for a run that goes on past its engage
// time or its deadline.
//   0. engage: under lazy budgets (core/lua/budget.ts) a run that goes on past its engage time
//      gets the budget's count hook through `Runtime.evaluate` (the owner's engage()).
//   1. graceful: `Runtime.evaluate` runs on the main thread even while wasm runs; it calls the
//      running owner's interrupt() (count hook of 1: the coroutine stops at its next instruction).
//   2. forced: if the same run is still going graceMs later, `Runtime.terminateExecution`
//      unwinds the whole JS stack (no catch or finally runs), and the owner is told through a
//      message once the event loop is free again; it must discard its VM.
import { Worker } from 'node:worker_threads';

/** What the watchdog stops: the VM that armed it. */
export interface WatchdogOwner {
  /** Called on the main thread while a run that passed its engage time is on the stack. */
  engage(): void;
  /** Called on the main thread while the overrunning Lua run is on the stack. */
  interrupt(): void;
  /** Called after a forced stop, from the event loop: the VM's state is undefined now. */
  forcedStop(): void;
}

// Int32 slots:
const GEN = 0; // sequence number of the current Lua run
const STOPPED = 1; // generation of the last run the thread stopped by force
// Float64 slots (ms since `base`: an Int32 would overflow after 24.8 days of uptime):
const DEADLINE = 1; // after which the run is overdue; 0 when nothing runs
const ENGAGE = 2; // after which the run gets the budget hook; 0 for never
const BYTES = 24;
const POLL_MS = 25;
const INTERRUPT = Symbol.for('redox.watchdog.interrupt');
const ENGAGE_KEY = Symbol.for('redox.watchdog.engage');

// Runs in the watchdog thread. Plain JS: it is passed to the Worker as source, so it works the
// same from build/ and inside a bundled single executable.
const THREAD_SOURCE = String.raw`
const { workerData, parentPort } = require('node:worker_threads');
const inspector = require('node:inspector');
const shared = new Int32Array(workerData.buffer);
const times = new Float64Array(workerData.buffer);
const { base, pollMs, graceMs, interruptKey, engageKey } = workerData;
let session = null;
let gen = 0;
let engaged = false;
let stage = 0; // 0 watching, 1 interrupt sent, 2 terminated
let interruptedAt = 0;
const post = (method, params) => {
  if (!session) {
    session = new inspector.Session();
    session.connectToMainThread();
  }
  session.post(method, params, () => undefined);
};
// The main thread writes the times with plain stores; aligned 64-bit stores do not tear on the
// platforms Node runs on, and GEN (read atomically) tells whether they belong to the same run.
setInterval(() => {
  const deadline = times[${DEADLINE}];
  const current = Atomics.load(shared, ${GEN});
  if (deadline === 0 || current !== gen) {
    gen = current;
    stage = 0;
    engaged = false;
    // The incident is over: an idle session would slow the main thread down.
    if (deadline === 0 && session) { session.disconnect(); session = null; }
    return;
  }
  const now = Date.now() - base;
  const engageAt = times[${ENGAGE}];
  if (!engaged && engageAt !== 0 && now >= engageAt && now < deadline) {
    engaged = true;
    post('Runtime.evaluate', { expression: 'globalThis[Symbol.for(' + JSON.stringify(engageKey) + ')](' + gen + ')' });
  }
  if (now < deadline) return;
  if (stage === 0) {
    stage = 1;
    interruptedAt = now;
    post('Runtime.evaluate', { expression: 'globalThis[Symbol.for(' + JSON.stringify(interruptKey) + ')](' + gen + ')' });
  } else if (stage === 1 && now - interruptedAt >= graceMs) {
    // Checked again right before: stopping the next, innocent run would be worse than waiting.
    if (Atomics.load(shared, ${GEN}) !== gen || times[${DEADLINE}] === 0) return;
    stage = 2;
    // Written first: the main thread may run other JS before this thread's message arrives.
    Atomics.store(shared, ${STOPPED}, gen);
    post('Runtime.terminateExecution');
    parentPort.postMessage({ terminated: gen, overdueMs: now - deadline });
  }
}, pollMs);
`;

export interface WatchdogOptions {
  /** Time between the graceful interrupt and the forced stop. */
  graceMs: number;
  /** The thread's clock starts here (Date.now() ms); tests set it far back to try long uptimes. */
  base?: number;
}

/** One per process: JS runs one Lua VM at a time, so one shared deadline covers them all. */
export class Watchdog {
  private readonly buffer = new SharedArrayBuffer(BYTES);
  private readonly shared = new Int32Array(this.buffer);
  private readonly times = new Float64Array(this.buffer);
  private handledStop = 0;
  private readonly base: number;
  private readonly thread: Worker;
  private gen = 0;
  /** The owner of the run in progress; a forced stop skips disarm(), so it stays set. */
  private owner: WatchdogOwner | null = null;
  /** Converts the main thread's performance.now() to the thread's clock (Date.now() - base). */
  private readonly offset: number;
  forcedStops = 0;

  constructor(options: WatchdogOptions) {
    this.base = options.base ?? Date.now();
    this.offset = performance.timeOrigin - this.base;
    // Only the run that the thread saw, and only while it is still on the stack.
    const current = (gen: number) => (gen === this.gen && this.times[DEADLINE] !== 0 ? this.owner : null);
    (globalThis as Record<symbol, unknown>)[INTERRUPT] = (gen: number) => current(gen)?.interrupt();
    (globalThis as Record<symbol, unknown>)[ENGAGE_KEY] = (gen: number) => current(gen)?.engage();
    this.thread = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: {
        buffer: this.buffer, base: this.base, pollMs: POLL_MS, graceMs: options.graceMs,
        interruptKey: 'redox.watchdog.interrupt', engageKey: 'redox.watchdog.engage',
      },
      // The thread must not inherit flags such as --inspect; it needs none.
      execArgv: [],
      stdout: false,
      stderr: false,
    });
    this.thread.on('message', () => {
      this.checkStopped();
      for (const listener of stopListeners) listener();
    });
    // After the listener: adding one refs the thread again. It must not keep the process alive.
    this.thread.unref();
  }

  /**
   * Handles a forced stop, once: the thread records it in shared memory before terminating, so
   * this sees it even when other JS (another request) runs before the thread's message is
   * delivered. Cheap (one atomic load): called before every request and every Lua run.
   */
  checkStopped(): void {
    // Plain reads and writes on the main thread's side: aligned 32-bit values cannot tear, the
    // thread polls every 25 ms, and Atomics' fences would cost more than the rest of arm().
    const gen = this.shared[STOPPED];
    if (gen === this.handledStop) return;
    this.handledStop = gen;
    // Another run since: the stopped one had returned just before the stop (see SECURITY.md).
    const owner = gen === this.gen ? this.owner : null;
    if (!owner) return;
    this.disarm();
    this.forcedStops++;
    owner.forcedStop();
  }

  /** Marks the start of a Lua run that must end by `deadline` and gets the budget hook at
   *  `engageAt` (the main thread's performance.now() clock; Infinity: never). */
  arm(owner: WatchdogOwner, deadline: number, engageAt = Infinity): void {
    this.checkStopped();
    this.owner = owner;
    // Before GEN: the thread reads the times of a new generation only after it sees it.
    this.times[DEADLINE] = deadline === Infinity ? Number.MAX_VALUE : Math.max(1, Math.ceil(deadline + this.offset));
    this.times[ENGAGE] = engageAt === Infinity ? 0 : Math.max(1, Math.floor(engageAt + this.offset));
    this.shared[GEN] = ++this.gen;
  }

  /** Marks the end of the current Lua run. */
  disarm(): void {
    this.times[DEADLINE] = 0;
    this.owner = null;
  }

  async close(): Promise<void> {
    await this.thread.terminate();
  }
}

let shared: Watchdog | null = null;

/** Told after every forced stop, once the event loop is free again, whether or not the stop
 *  caught a Lua run (it may land on the JavaScript right after one: see SECURITY.md). */
const stopListeners = new Set<() => void>();

/** Calls `listener` after each forced stop; returns the function that stops that. */
export function onForcedStop(listener: () => void): () => void {
  stopListeners.add(listener);
  return () => stopListeners.delete(listener);
}

/** The process's watchdog, created on first use (the first caller's graceMs applies). */
export function processWatchdog(graceMs: number): Watchdog {
  shared ??= new Watchdog({ graceMs });
  return shared;
}
