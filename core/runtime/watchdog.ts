// The watchdog: a thread outside the Lua call that stops a dispatch running past its deadline,
// even inside one long C call (pattern backtracking, a table.sort comparator, a __gc finalizer)
// where the in-VM budget hook cannot act.
//
// Cost while nothing overruns: three stores to shared memory per Lua run and a thread that wakes every
// POLL_MS. The inspector session is connected only once a deadline is missed.
//   1. graceful: `Runtime.evaluate` runs on the main thread even while wasm runs; it calls the
//      running owner's interrupt() (count hook of 1: the coroutine stops at its next instruction).
//   2. forced: if the same run is still going graceMs later, `Runtime.terminateExecution`
//      unwinds the whole JS stack (no catch or finally runs), and the owner is told through a
//      message once the event loop is free again; it must discard its VM.
import { Worker } from 'node:worker_threads';

/** What the watchdog stops: the VM that armed it. */
export interface WatchdogOwner {
  /** Called on the main thread while the overrunning Lua run is on the stack. */
  interrupt(): void;
  /** Called after a forced stop, from the event loop: the VM's state is undefined now. */
  forcedStop(): void;
}

const GEN = 0; // sequence number of the current Lua run
const DEADLINE = 1; // ms since `base` after which the run is overdue; 0 when nothing runs
const STOPPED = 2; // generation of the last run the thread stopped by force
const POLL_MS = 25;
const INTERRUPT = Symbol.for('redox.watchdog.interrupt');

// Runs in the watchdog thread. Plain JS: it is passed to the Worker as source, so it works the
// same from build/ and inside a bundled single executable.
const THREAD_SOURCE = String.raw`
const { workerData, parentPort } = require('node:worker_threads');
const inspector = require('node:inspector');
const shared = new Int32Array(workerData.buffer);
const { base, pollMs, graceMs, interruptKey } = workerData;
let session = null;
let gen = 0;
let stage = 0; // 0 watching, 1 interrupt sent, 2 terminated
let interruptedAt = 0;
const post = (method, params) => {
  if (!session) {
    session = new inspector.Session();
    session.connectToMainThread();
  }
  session.post(method, params, () => undefined);
};
setInterval(() => {
  const deadline = Atomics.load(shared, ${DEADLINE});
  const current = Atomics.load(shared, ${GEN});
  if (deadline === 0 || current !== gen) {
    gen = current;
    stage = 0;
    // The incident is over: an idle session would slow the main thread down.
    if (deadline === 0 && session) { session.disconnect(); session = null; }
    return;
  }
  const now = Date.now() - base;
  if (now < deadline) return;
  if (stage === 0) {
    stage = 1;
    interruptedAt = now;
    post('Runtime.evaluate', { expression: 'globalThis[Symbol.for(' + JSON.stringify(interruptKey) + ')](' + gen + ')' });
  } else if (stage === 1 && now - interruptedAt >= graceMs) {
    // Checked again right before: stopping the next, innocent run would be worse than waiting.
    if (Atomics.load(shared, ${GEN}) !== gen || Atomics.load(shared, ${DEADLINE}) === 0) return;
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
}

/** One per process: JS runs one Lua VM at a time, so one shared deadline covers them all. */
export class Watchdog {
  private readonly shared = new Int32Array(new SharedArrayBuffer(12));
  private handledStop = 0;
  private readonly base = Date.now();
  private readonly thread: Worker;
  private gen = 0;
  /** The owner of the run in progress; a forced stop skips disarm(), so it stays set. */
  private owner: WatchdogOwner | null = null;
  /** Converts the main thread's performance.now() to the thread's clock (Date.now() - base). */
  private readonly offset: number;
  forcedStops = 0;

  constructor(options: WatchdogOptions) {
    this.offset = performance.timeOrigin - this.base;
    (globalThis as Record<symbol, unknown>)[INTERRUPT] = (gen: number) => {
      // Only the run that missed its deadline, and only while it is still on the stack.
      if (gen === this.gen && this.owner && this.shared[DEADLINE] !== 0) this.owner.interrupt();
    };
    this.thread = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { buffer: this.shared.buffer, base: this.base, pollMs: POLL_MS, graceMs: options.graceMs, interruptKey: 'redox.watchdog.interrupt' },
      // The thread must not inherit flags such as --inspect; it needs none.
      execArgv: [],
      stdout: false,
      stderr: false,
    });
    this.thread.on('message', () => this.checkStopped());
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

  /** Marks the start of a Lua run that must end by `deadline` (the main thread's
   *  performance.now() clock). */
  arm(owner: WatchdogOwner, deadline: number): void {
    this.checkStopped();
    this.owner = owner;
    this.shared[GEN] = ++this.gen;
    this.shared[DEADLINE] = Math.max(1, Math.ceil(deadline + this.offset));
  }

  /** Marks the end of the current Lua run. */
  disarm(): void {
    this.shared[DEADLINE] = 0;
    this.owner = null;
  }

  async close(): Promise<void> {
    await this.thread.terminate();
  }
}

let shared: Watchdog | null = null;

/** The process's watchdog, created on first use (the first caller's graceMs applies). */
export function processWatchdog(graceMs: number): Watchdog {
  shared ??= new Watchdog({ graceMs });
  return shared;
}
