// The pools and open transactions of one Lua VM. Lua holds integer ids; a pool id is shared by
// every connect() with the same settings, a transaction id names one checked-out client.
import type { Pool, PoolClient } from 'pg';
import { Logger, LuaArgumentError } from '../../core/feature';
import type { Settings } from './options';
import { pg } from './pg';
import { typeParsers } from './types';

export interface PoolHandle {
  readonly id: number;
  readonly pool: Pool;
  readonly settings: Settings;
}

export interface TxHandle {
  readonly pool: PoolHandle;
  readonly client: PoolClient;
  /** Nesting depth: 1 for the outer BEGIN, +1 per SAVEPOINT. */
  depth: number;
  /** Set when a statement failed: PostgreSQL ignores the rest until ROLLBACK. */
  failed: boolean;
  /** The message of the first failed statement, for the error that COMMIT turns into. */
  firstError?: string;
  /** Set when the connection failed while checked out (the server ended it between
   *  statements): the client is destroyed instead of returned to the pool. */
  broken?: Error;
  readonly onError: (err: Error) => void;
}

export class Pools {
  private readonly pools = new Map<number, PoolHandle>();
  private readonly byKey = new Map<string, PoolHandle>();
  private readonly txs = new Map<number, TxHandle>();
  private nextId = 1;

  constructor(private readonly log: Logger) {}

  open(settings: Settings): number {
    const known = this.byKey.get(settings.key);
    if (known) return known.id;
    const pool = new (pg().Pool)({ ...settings.config, types: typeParsers });
    // An idle client whose server went away emits here; without a listener Node would crash.
    // The pool drops that client and opens a new one on the next call.
    pool.on('error', (err) => this.log.warn('postgres: idle connection failed', { target: settings.target, err: err.message }));
    const h: PoolHandle = { id: this.nextId++, pool, settings };
    this.pools.set(h.id, h);
    this.byKey.set(settings.key, h);
    return h.id;
  }

  isOpen(id: unknown): boolean {
    return typeof id === 'number' && this.pools.has(id);
  }

  /** The open pool with this id, or a raised error that says why not. */
  pool(id: unknown, op: string): PoolHandle {
    const h = typeof id === 'number' ? this.pools.get(id) : undefined;
    if (h) return h;
    if (typeof id !== 'number') throw new LuaArgumentError(`${op}: call it on a database with a colon, e.g. db:${op.split(':')[1] ?? 'query'}(...)`);
    throw new LuaArgumentError(`${op}: the database was closed (db:close()); connect again with postgres.connect`);
  }

  beginTx(pool: PoolHandle, client: PoolClient): number {
    const id = this.nextId++;
    // A checked-out client has no 'error' listener of the pool's: without one, a connection
    // the server ends between two statements of the transaction would crash the process.
    const h: TxHandle = {
      pool, client, depth: 1, failed: false,
      onError: (err) => {
        h.broken = err;
        this.log.warn('postgres: a transaction\'s connection failed', { target: pool.settings.target, err: err.message });
      },
    };
    client.on('error', h.onError);
    this.txs.set(id, h);
    return id;
  }

  tx(id: unknown, op: string): TxHandle {
    const h = typeof id === 'number' ? this.txs.get(id) : undefined;
    if (h) return h;
    throw new LuaArgumentError(`${op}: the transaction is over; use the tx object only inside its db:transaction function`);
  }

  /** Returns the client to its pool (destroying it after a connection error). */
  endTx(id: number, broken?: Error): void {
    const h = this.txs.get(id);
    if (!h) return;
    this.txs.delete(id);
    h.client.removeListener('error', h.onError);
    h.client.release(broken ?? h.broken);
  }

  /** A transaction whose Lua side was dropped (the request was stopped): roll back and
   *  return the client, so the pool does not leak it. */
  abandonTx(id: unknown): void {
    const h = typeof id === 'number' ? this.txs.get(id) : undefined;
    if (!h) return;
    this.txs.delete(id as number);
    const done = (err?: Error) => {
      h.client.removeListener('error', h.onError);
      h.client.release(err ?? h.broken);
    };
    h.client.query('ROLLBACK').then(() => done(), done);
  }

  async close(id: unknown): Promise<void> {
    const h = typeof id === 'number' ? this.pools.get(id) : undefined;
    if (!h) return;
    this.pools.delete(h.id);
    this.byKey.delete(h.settings.key);
    for (const [txId, tx] of this.txs) if (tx.pool === h) this.endTx(txId, new Error('pool closed'));
    await h.pool.end();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.pools.keys()].map((id) => this.close(id)));
  }
}
