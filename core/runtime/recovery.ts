// The engine the server talks to, rebooted after a forced stop. When the watchdog had to
// terminate a Lua run (one long C call, a looping __gc), the VM may be stopped in the middle of
// any C function: it is discarded, every request it still holds gets 503, and a fresh VM is
// booted from the same app and features while the server keeps accepting requests.
import type { Engine, LuaRequest, LuaResponse } from './engine';
import { DriveOptions, LuaDiscardedError } from '../lua/vm';
import { Logger } from './log';
import { Watchdog } from './watchdog';

type Pending = (err: Error) => void;

export interface RecoverableOptions extends DriveOptions {
  onDiscard?: Pending;
}

export class RecoveringEngine {
  private current: Engine;
  private booting: Promise<Engine> | null = null;
  /** Rejecters of the dispatches in flight on the current engine. */
  private pending = new Set<Pending>();
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
      interrupt: () => vm.interrupt(),
      forcedStop: () => this.forcedStop(engine),
    };
    vm.guard = { arm: (ms) => this.watchdog.arm(owner, ms), disarm: () => this.watchdog.disarm() };
  }

  /** Like Engine.dispatch; `onDiscard` answers the request if a forced stop discards its VM
   *  (the promise of the run that was stopped never settles: its stack was unwound). */
  dispatch(req: LuaRequest, options: RecoverableOptions): Promise<LuaResponse> {
    if (this.booting) return this.booting.then(() => this.dispatch(req, options));
    const pending = this.pending;
    const entry = options.onDiscard;
    if (!entry) return this.current.dispatch(req, options);
    pending.add(entry);
    const out = this.current.dispatch(req, options);
    out.then(() => pending.delete(entry), () => pending.delete(entry));
    return out;
  }

  collect(): Promise<void> {
    return this.booting ? Promise.resolve() : this.current.collect();
  }

  private forcedStop(dead: Engine): void {
    if (dead !== this.current || this.booting) return;
    const started = performance.now();
    const failed = this.pending;
    this.pending = new Set();
    dead.vm.discard();
    this.log.error('watchdog stopped a Lua run that did not yield to its budget; rebooting the Lua VM', { requests_failed: failed.size });
    for (const reject of failed) reject(new LuaDiscardedError());
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
