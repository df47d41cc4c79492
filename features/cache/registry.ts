// Process-wide state: named caches (shared by every `cache.new{name=}` in this process) and the
// one periodic sweep that drops expired entries nobody reads again. The sweep timer is unref'd
// so it never keeps the process alive, and it stops when the last VM using caches cleans up.
import { CacheStore, Limits } from './store';

const SWEEP_EVERY_MS = 1000;
/** Entries one sweep looks at per cache (about 1 ms of work). */
const SWEEP_BUDGET = 20_000;

const live = new Set<CacheStore>();
const named = new Map<string, CacheStore>();
let users = 0;
let timer: NodeJS.Timeout | undefined;

/** A VM starts using caches. */
export function attach(): void {
  users++;
}

/** A VM is done: its private caches go; the last VM out also drops named caches and the timer. */
export function detach(privateStores: Iterable<CacheStore>): void {
  for (const s of privateStores) live.delete(s);
  users = Math.max(0, users - 1);
  if (users > 0) return;
  if (timer) clearInterval(timer);
  timer = undefined;
  named.clear();
  live.clear();
}

export function createPrivate(limits: Limits): CacheStore {
  return track(new CacheStore(limits));
}

/** The named cache, created with `limits` on first use. Later calls must give the same limits
 *  or none (`explicit` false); a mismatch is reported as a message. */
export function namedStore(name: string, limits: Limits, explicit: boolean): CacheStore | string {
  const found = named.get(name);
  if (found === undefined) {
    const store = track(new CacheStore(limits, name));
    named.set(name, store);
    return store;
  }
  const have = found.limits;
  if (explicit && (have.maxBytes !== limits.maxBytes || have.maxEntries !== limits.maxEntries)) {
    return `cache "${name}" already exists with max_bytes=${have.maxBytes}, max_entries=${have.maxEntries}; ` +
      'give the same limits or none when you open it again';
  }
  return found;
}

export function release(store: CacheStore): void {
  live.delete(store);
}

function track(store: CacheStore): CacheStore {
  live.add(store);
  if (timer === undefined) {
    timer = setInterval(sweepAll, SWEEP_EVERY_MS);
    timer.unref();
  }
  return store;
}

function sweepAll(): void {
  for (const store of live) store.sweep(SWEEP_BUDGET);
}

/** Caches alive in this process (for tests of release). */
export function liveCount(): number {
  return live.size;
}

/** Whether the sweep timer is running (for tests of cleanup). */
export function sweeping(): boolean {
  return timer !== undefined;
}
