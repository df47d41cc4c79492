// The host half of db:transaction: BEGIN/COMMIT/ROLLBACK at depth 1, savepoints below it. The
// Lua half (sqlite.lua.ts) runs fn where it cannot yield, so a transaction is always opened and
// closed within one uninterrupted stretch of Lua and no other request sees it half done.
import { HostFunction, LuaArgumentError, sync } from '../../core/feature';
import { failure } from './errors';
import { DbHandle, Handles } from './handles';

const MODES = ['deferred', 'immediate', 'exclusive'];
const SAVEPOINT = '"redox_tx"';

// Control statements are prepared on first use and cached like any other SQL.
function exec(handles: Handles, h: DbHandle, sql: string): void {
  handles.cached(h, sql).run();
}

export function transactions(handles: Handles): Record<string, HostFunction> {
  return {
    /** Opens a transaction (depth 1) or a savepoint; returns the new depth or nil, err. */
    tx_begin: sync((id: unknown, mode: unknown) => {
      const h = handles.db(id, 'db:transaction');
      if (typeof mode !== 'string' || !MODES.includes(mode)) {
        throw new LuaArgumentError(`db:transaction: mode must be one of ${MODES.join(', ')}, got ${String(mode)}`);
      }
      if (h.depth === 0 && h.db.inTransaction) {
        throw new Error('db:transaction: a transaction started with BEGIN (through db:exec) is still open on this connection; ' +
          'use db:transaction(fn) instead of BEGIN/COMMIT statements, so no other request can run inside it');
      }
      const sql = h.depth === 0 ? `BEGIN ${mode.toUpperCase()}` : `SAVEPOINT ${SAVEPOINT}`;
      try {
        exec(handles, h, sql);
      } catch (err) {
        return failure(err, 'db:transaction', sql);
      }
      return ++h.depth;
    }, { name: 'db:transaction' }),

    /** Commits (or rolls back) the transaction or savepoint at `depth`. Commit returns true or
     *  nil, err (after rolling back); rollback returns nothing. */
    tx_end: sync((id: unknown, depth: unknown, commit: unknown) => {
      if (!handles.isOpen(id)) {
        if (commit) throw new Error('db:transaction: the database was closed inside fn; the transaction was rolled back');
        return undefined;
      }
      const h = handles.db(id, 'db:transaction');
      if (depth !== h.depth) throw new Error(`db:transaction: transactions ended out of order (depth ${h.depth}, expected ${String(depth)})`);
      h.depth--;
      const outer = h.depth === 0;
      if (!h.db.inTransaction) {
        // SQLite already rolled back (after an I/O or disk-full error), or fn ran COMMIT/ROLLBACK.
        h.depth = 0;
        if (commit) throw new Error('db:transaction: the transaction was no longer open when fn returned (fn ran COMMIT or ROLLBACK, ' +
          'or SQLite rolled it back after an error that fn ignored); nothing was committed');
        return undefined;
      }
      if (commit) {
        const sql = outer ? 'COMMIT' : `RELEASE ${SAVEPOINT}`;
        try {
          exec(handles, h, sql);
          return true;
        } catch (err) {
          rollback(handles, h, outer);
          return failure(err, 'db:transaction', sql);
        }
      }
      rollback(handles, h, outer);
      return undefined;
    }, { name: 'db:transaction' }),
  };
}

function rollback(handles: Handles, h: DbHandle, outer: boolean): void {
  if (!h.db.inTransaction) return;
  if (outer) {
    exec(handles, h, 'ROLLBACK');
  } else {
    // ROLLBACK TO keeps the savepoint open; RELEASE removes it.
    exec(handles, h, `ROLLBACK TO ${SAVEPOINT}`);
    exec(handles, h, `RELEASE ${SAVEPOINT}`);
  }
}
