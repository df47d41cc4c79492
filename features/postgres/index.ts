// postgres: PostgreSQL through node-postgres (pg) and its pool. Calls read as blocking in Lua,
// but each one only suspends its own request's coroutine, so many requests wait on the server
// at once while the pool's `max` caps the connections they share. The Lua side
// (postgres.lua.ts) wraps the integer handles in objects.
import type { Pool, PoolClient, QueryResult } from 'pg';
import { async, defineFeature, LuaMulti, LuaValue, sync } from '../../core/feature';
import { failure, Where } from './errors';
import { readSettings } from './options';
import { toParams, sqlText } from './params';
import { PoolHandle, Pools } from './pools';
import { POSTGRES_LUA } from './postgres.lua';
import { shapeRows } from './types';

type Mode = 'query' | 'get' | 'run';

function where(h: PoolHandle, op: string, sql?: string): Where {
  const p = h.pool;
  return { op, sql, target: h.settings.target, pool: { max: h.settings.max, total: p.totalCount, waitSeconds: h.settings.connectTimeoutSeconds } };
}

/** Rows for Lua, plus the cells its side must json.decode (see types.ts). */
function rowsValue(rows: Record<string, unknown>[]): LuaValue {
  const shaped = shapeRows(rows);
  return shaped.decode.length === 0 ? (shaped.rows as LuaValue) : new LuaMulti([shaped.rows as LuaValue, shaped.decode]);
}

function result(r: QueryResult, mode: Mode): LuaValue {
  // A multi-statement string (simple protocol) gives one result per statement: use the last.
  const last = Array.isArray(r) ? (r[r.length - 1] as QueryResult) : r;
  if (mode === 'query') return rowsValue(last.rows ?? []);
  if (mode === 'get') return rowsValue((last.rows ?? []).slice(0, 1));
  const out: Record<string, unknown> = { changes: last.rowCount ?? 0 };
  if (last.fields && last.fields.length > 0) out.rows = last.rows;
  return shapeRunResult(out);
}

/** run's result with RETURNING rows: {changes=, rows={...}} (rows decoded like query's). */
function shapeRunResult(out: Record<string, unknown>): LuaValue {
  if (!out.rows) return out as LuaValue;
  const shaped = shapeRows(out.rows as Record<string, unknown>[]);
  out.rows = shaped.rows;
  return shaped.decode.length === 0 ? (out as LuaValue) : new LuaMulti([out as LuaValue, shaped.decode]);
}

async function execute(runner: Pool | PoolClient, sql: string, args: LuaValue[], mode: Mode, op: string): Promise<LuaValue> {
  const values = toParams(args, op);
  return result(await runner.query(sql, values), mode);
}

export default defineFeature({
  install(ctx) {
    const pools = new Pools(ctx.log);

    /** db:query/get/run on the pool: any free connection. */
    const onPool = (mode: Mode) => {
      const op = `db:${mode}`;
      return async(async (id: unknown, sql: LuaValue, ...args: LuaValue[]) => {
        const h = pools.pool(id, op);
        const text = sqlText(sql, op);
        try {
          return await execute(h.pool, text, args, mode, op);
        } catch (err) {
          return failure(err, where(h, op, text));
        }
      }, { bytes: true, name: op });
    };

    /** tx:query/get/run on the transaction's own connection. */
    const onTx = (mode: Mode) => {
      const op = `tx:${mode}`;
      return async(async (id: unknown, sql: LuaValue, ...args: LuaValue[]) => {
        const tx = pools.tx(id, op);
        const text = sqlText(sql, op);
        try {
          return await execute(tx.client, text, args, mode, op);
        } catch (err) {
          tx.failed = true;
          tx.firstError ??= err instanceof Error ? err.message : String(err);
          return failure(err, where(tx.pool, op, text));
        }
      }, { bytes: true, name: op });
    };

    return {
      lua: POSTGRES_LUA,
      functions: {
        connect: sync((first: LuaValue, second: LuaValue) => {
          const settings = readSettings(first, second);
          return new LuaMulti([pools.open(settings), settings.target]);
        }, { name: 'postgres.connect' }),
        close: async((id: unknown) => pools.close(id), { name: 'db:close' }),
        is_open: sync((id: unknown) => pools.isOpen(id)),
        stats: sync((id: unknown) => {
          const h = pools.pool(id, 'db:stats');
          return { total: h.pool.totalCount, idle: h.pool.idleCount, waiting: h.pool.waitingCount, max: h.settings.max };
        }),
        query: onPool('query'),
        get: onPool('get'),
        run: onPool('run'),
        tx_query: onTx('query'),
        tx_get: onTx('get'),
        tx_run: onTx('run'),
        tx_begin: async(async (id: unknown) => {
          const h = pools.pool(id, 'db:transaction');
          let client: PoolClient | undefined;
          try {
            client = await h.pool.connect();
            await client.query('BEGIN');
            return pools.beginTx(h, client);
          } catch (err) {
            client?.release(err as Error);
            return failure(err, where(h, 'db:transaction', 'BEGIN'));
          }
        }, { name: 'db:transaction' }),
        // Nested db:transaction inside fn: a savepoint on the same connection.
        tx_savepoint: async(async (id: unknown) => {
          const tx = pools.tx(id, 'tx:transaction');
          const depth = tx.depth + 1;
          try {
            await tx.client.query(`SAVEPOINT redox_${depth}`);
          } catch (err) {
            return failure(err, where(tx.pool, 'tx:transaction', 'SAVEPOINT'));
          }
          tx.depth = depth;
          return depth;
        }, { name: 'tx:transaction' }),
        tx_end: async(async (id: unknown, depth: unknown, commit: unknown) => {
          const tx = pools.tx(id, 'db:transaction');
          const outer = depth === 1;
          const failedBefore = tx.failed;
          const firstError = tx.firstError;
          // A failed statement aborts the (sub)transaction in PostgreSQL: it can only roll back.
          const wanted = commit === true && !tx.failed;
          const sql = outer ? (wanted ? 'COMMIT' : 'ROLLBACK') : wanted ? `RELEASE SAVEPOINT redox_${depth}` : `ROLLBACK TO SAVEPOINT redox_${depth}; RELEASE SAVEPOINT redox_${depth}`;
          try {
            await tx.client.query(sql);
            if (outer) pools.endTx(id as number);
            else {
              tx.depth = (depth as number) - 1;
              tx.failed = false; // rolled back to the savepoint: the outer level is usable again
              tx.firstError = undefined;
            }
          } catch (err) {
            if (outer) pools.endTx(id as number, err as Error);
            return failure(err, where(tx.pool, 'db:transaction', sql));
          }
          if (commit === true && failedBefore) {
            const rolledBack = Object.assign(new Error(`the transaction was rolled back because a statement in it failed: ${firstError}`), { code: '25P02' });
            return failure(rolledBack, where(tx.pool, 'db:transaction'));
          }
          return true;
        }, { name: 'db:transaction' }),
        // From __gc of a transaction object whose function never returned (its request was
        // stopped): roll back and give the connection back to the pool.
        tx_abandon: sync((id: unknown) => pools.abandonTx(id)),
      },
      cleanup: () => pools.closeAll(),
    };
  },
});
