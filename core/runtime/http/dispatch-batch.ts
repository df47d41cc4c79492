// Requests read in one poll phase of the event loop run their handlers back to back right after
// it, and their answers are written after the runs (an answer waits at most HOLD_MS).
//
// Why: a Lua run right after a system call (the socket read before it) took 1.5-1.8x as long as
// one right after another run. The call evicts the interpreter's working set (wasm code, the Lua
// heap, the bridge) from the TLB and caches; where the kernel isolates page tables without PCID,
// every call flushes the whole TLB. Node answers each request between its read and its write, so
// every run started cold. In a batch only the first one does: the seed workload served about
// 1.3x the requests per second (README.md, "Sizes and speed"; `calls` in bench/README.md).
//
// A forced stop (watchdog.ts) unwinds the stack in the middle of a batch. The batch's state lives
// here, not on the stack, and resume() (the server calls it after every forced stop) carries on
// where it stopped. The batch runs in a promise reaction queued by an immediate, not in the
// immediate itself: Node's immediate loop keeps its async-context stack in JS, and a stop inside
// an immediate callback left that stack unbalanced (Node aborts: "async hook stack has become
// corrupted"). Between two immediates, or after the last, the stack is balanced, and Node runs
// the immediates after a stopped one in its next turn.

/** One request's work: `run` calls its handler and returns the answer to send, or undefined if
 *  it was answered already (an error) or will be later (a handler waiting on the host). */
export interface BatchItem<A> {
  run(): A | undefined;
  reply(answer: A): void;
}

const RESOLVED = Promise.resolve();

/** How long answers may wait for the rest of their batch: a batch of slow handlers does not hold
 *  back the answers of the first ones. */
const HOLD_MS = 1;

export class DispatchBatch<A> {
  private queue: BatchItem<A>[] = [];
  private current: BatchItem<A>[] = [];
  private answers: (A | undefined)[] = [];
  /** Items of `current` whose handler ran (or was started), and whose answer was sent. */
  private ran = 0;
  private sent = 0;
  private scheduled = false;

  constructor(private readonly holdMs = HOLD_MS) {}

  add(item: BatchItem<A>): void {
    this.queue.push(item);
    this.schedule();
  }

  /** After a forced stop unwound a batch: runs and answers the rest of it. */
  resume(): void {
    if (this.sent < this.current.length) this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.kick);
  }

  // A plain promise reaction: queueMicrotask would wrap it in an async resource (that stack again).
  private readonly kick = (): void => {
    void RESOLVED.then(this.flush);
  };

  private readonly flush = (): void => {
    this.scheduled = false;
    for (;;) {
      if (this.sent >= this.current.length) {
        if (this.queue.length === 0) {
          this.current = [];
          this.answers = [];
          return;
        }
        this.current = this.queue;
        this.answers = new Array<A | undefined>(this.current.length);
        this.queue = [];
        this.ran = 0;
        this.sent = 0;
      }
      let since = performance.now();
      while (this.ran < this.current.length) {
        // Counted before it runs: a run stopped by force is not run again.
        const i = this.ran++;
        this.answers[i] = this.current[i].run();
        if (performance.now() - since > this.holdMs) {
          this.sendRan();
          since = performance.now();
        }
      }
      this.sendRan();
    }
  };

  private sendRan(): void {
    while (this.sent < this.ran) {
      const i = this.sent++;
      const answer = this.answers[i];
      if (answer === undefined) continue;
      this.answers[i] = undefined;
      this.current[i].reply(answer);
    }
  }
}
