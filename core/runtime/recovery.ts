// The engine the server talks to, rebooted after a forced stop. When the watchdog had to
// terminate a Lua run (one long C call, a looping __gc), the VM may be stopped in the middle of
// any C function: it is discarded, every request it still holds gets 503, and a fresh VM is
// booted from the same app and features while the server keeps accepting requests.
import type { Engine, HostRequest, HostResponse, RequestEngine } from './engine';
import type { DriveOptions } from '../lua/vm';
import { Logger } from './log';
import { Watchdog } from './watchdog';

/** Whoever answers a request (the server's per-request object). */
type Pending = { fail(err: Error): void };

/** The request's VM was discarded after a forced stop: answered 503. */
export class LuaDiscardedError extends Error {
  constructor() {
    super('the Lua VM was discarded after a forced stop');
    this.name = 'LuaDiscardedError';
  }
}

export interface RecoverableOptions extends DriveOptions {
  onDiscard?: Pending;
}

export class RecoveringEngine implements RequestEngine {
  private current: Engine;
  private booting: Promise<Engine> | null = null;
  /** Failure handlers of the requests waiting on the host in the current engine. */
  private pending = new Set<Pending>();
  /** The failure handler of the request whose serve() call is on the stack: a forced stop
   *  unwinds it before it can return, so it stays set. */
  private running: Pending | null = null;
  /** Forced stops so far, and how long the last reboot took (ms). */
  reboots = 0;
  lastRebootMs = 0;

  constructor(engine: Engine, private readonly boot: () => Promise<Engine>, private readonly watchdog: Watchdog, private readonly log: Logger) {
    this.current = engine;
    this.attach(engine);
  }

  /** The engine serving now (a new one after each reboot). */
  get engine(): Engine {
    return this.current;
  }

  private attach(engine: Engine): void {
    const vm = engine.vm;
    const owner = {
      engage: () => vm.engage(),
      interrupt: () => vm.interrupt(),
      forcedStop: () => this.forcedStop(engine),
    };
    vm.guard = {
      arm: (ms, engageAt) => {
        this.watchdog.arm(owner, ms, engageAt);
        // arm() handles a pending forced stop first: this VM may be the one just discarded.
        if (engine !== this.current || this.booting) throw new LuaDiscardedError();
      },
      disarm: () => this.watchdog.disarm(),
    };
  }

  /** Like Engine.serve; `onDiscard` answers the request if a forced stop discards its VM
   *  (a run that was stopped never returns: its stack was unwound). */
  serve(req: HostRequest, options: RecoverableOptions = {}): HostResponse | Promise<HostResponse> {
    // A run stopped by force since the last request must be handled before Lua runs again.
    this.watchdog.checkStopped();
    if (this.booting) return this.booting.then(() => this.serve(req, options));
    const entry = options.onDiscard;
    if (!entry) return this.current.serve(req, options);
    this.running = entry;
    let out: HostResponse | Promise<HostResponse>;
    try {
      out = this.current.serve(req, options);
    } finally {
      this.running = null;
    }
    // Only requests that wait on the host are tracked: the others are done already.
    if (out instanceof Promise) {
      const pending = this.pending;
      pending.add(entry);
      out.then(() => pending.delete(entry), () => pending.delete(entry));
    }
    return out;
  }

  collect(): Promise<void> {
    return this.booting ? Promise.resolve() : this.current.collect();
  }

  private forcedStop(dead: Engine): void {
    if (dead !== this.current || this.booting) return;
    const started = performance.now();
    const failed = this.pending;
    if (this.running) failed.add(this.running);
    this.running = null;
    this.pending = new Set();
    dead.vm.discard();
    this.log.error('watchdog stopped a Lua run that did not yield to its budget; rebooting the Lua VM', { requests_failed: failed.size });
    for (const request of failed) request.fail(new LuaDiscardedError());
    // Features release what the old VM held (an open SQLite transaction is rolled back).
    dead.close().catch((err) => this.log.warn('cleanup after a forced stop failed', { error: (err as Error).message }));
    this.booting = this.boot().then((engine) => {
      this.attach(engine);
      this.current = engine;
      this.booting = null;
      this.reboots++;
      this.lastRebootMs = Math.round((performance.now() - started) * 10) / 10;
      this.log.info('Lua VM rebooted', { reboot_ms: this.lastRebootMs });
      return engine;
    }, (err) => {
      // The app booted before with the same inputs; until a restart every request gets 503.
      this.booting = null;
      this.log.error('Lua VM reboot failed; requests get 503 until the process is restarted', { error: (err as Error).message });
      return dead;
    });
  }

  async close(): Promise<void> {
    if (this.booting) await this.booting.catch(() => undefined);
    await this.current.close();
  }
}
