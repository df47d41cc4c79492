// sqlite: SQLite databases on real files through better-sqlite3. Every call is synchronous
// (SQLite is a library, not a server), files use WAL and a busy timeout, and values reach SQL
// only as bound parameters. The Lua side (sqlite.lua.ts) wraps the integer handles in objects.
import type { Statement } from 'better-sqlite3';
import { defineFeature, LuaArgumentError, LuaFailure, LuaValue, sync } from '../../core/feature';
import { failure } from './errors';
import { Handles } from './handles';
import { confinement } from './confine';
import { openDatabase, readOptions, sqliteDriver } from './open';
import { call, readParams } from './params';
import { SQLITE_LUA } from './sqlite.lua';
import { transactions } from './transaction';

function text(v: LuaValue, op: string, what = 'sql'): string {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
  if (typeof v === 'string') return v;
  throw new LuaArgumentError(`${op}: ${what} must be a string, got ${v === undefined ? 'nil' : Array.isArray(v) ? 'a table' : typeof v}`);
}

function all(stmt: Statement, args: LuaValue[], op: string): LuaValue {
  const params = readParams(args, op);
  if (!stmt.reader) {
    // INSERT/UPDATE/DDL through query(): run it and return no rows, like a SELECT with none.
    call(stmt, 'run', params);
    return [];
  }
  return call(stmt, 'all', params) as LuaValue;
}

function first(stmt: Statement, args: LuaValue[], op: string): LuaValue {
  const params = readParams(args, op);
  if (!stmt.reader) {
    call(stmt, 'run', params);
    return undefined;
  }
  return call(stmt, 'get', params) as LuaValue;
}

function run(stmt: Statement, args: LuaValue[], op: string): LuaValue {
  const r = call(stmt, 'run', readParams(args, op));
  return { changes: r.changes, last_insert_rowid: r.lastInsertRowid };
}

type Exec = (stmt: Statement, args: LuaValue[], op: string) => LuaValue;

export default defineFeature({
  settings: {
    any_path: {
      flag: '--sqlite-any-path', env: 'REDOX_SQLITE_ANY_PATH', boolean: true,
      description: 'let sqlite.open, ATTACH and VACUUM INTO use files outside the data folder',
    },
  },
  install(ctx) {
    // Loaded once per VM so a missing or wrong-ABI addon (or a badly bundled driver) fails at
    // startup, not on first use.
    const addon = ctx.loadNativeAddon('better_sqlite3.node') as object;
    sqliteDriver();
    const anyPath = ['1', 'true', 'yes'].includes((ctx.setting('any_path') ?? '').toLowerCase());
    const confined = confinement(ctx.dataDir, anyPath);
    const handles = new Handles((sql, op) => confined.checkSql(sql, op));

    /** db:query/get/run: a cached statement for the SQL, then the given execution. */
    const onDb = (op: string, exec: Exec) => sync((id: unknown, sql: LuaValue, ...args: LuaValue[]) => {
      const h = handles.db(id, op);
      const source = text(sql, op);
      try {
        return exec(handles.cached(h, source, op), args, op);
      } catch (err) {
        return failure(err, op, source);
      }
    }, { bytes: true, textArgs: 2, name: op });

    /** stmt:query/get/run on a prepared statement. */
    const onStmt = (op: string, exec: Exec) => sync((id: unknown, ...args: LuaValue[]) => {
      const { stmt } = handles.statement(id, op);
      try {
        return exec(stmt, args, op);
      } catch (err) {
        return failure(err, op, stmt.source);
      }
    }, { bytes: true, textArgs: 1, name: op });

    return {
      lua: SQLITE_LUA,
      functions: {
        open: sync((file: unknown, rawOpts: LuaValue) => {
          if (typeof file !== 'string') throw new LuaArgumentError(`sqlite.open: path must be a string (a file path or ":memory:"), got ${typeof file}`);
          const opts = readOptions(rawOpts, file);
          const db = openDatabase(confined.openPath(file, 'sqlite.open'), opts, addon, ctx.log, file);
          if (db instanceof LuaFailure) return db;
          return handles.add(db, file);
        }),
        close: sync((id: unknown) => handles.close(id)),
        // From __gc, which runs at any Lua allocation, possibly inside another host call on
        // the same database: close once Lua is idle instead.
        release: sync((id: unknown) => {
          if (handles.isOpen(id)) setImmediate(() => handles.close(id));
        }),
        is_open: sync((id: unknown) => handles.isOpen(id)),
        exec: sync((id: unknown, sql: LuaValue) => {
          const h = handles.db(id, 'db:exec');
          const source = text(sql, 'db:exec');
          try {
            h.db.exec(confined.checkSql(source, 'db:exec'));
            return true;
          } catch (err) {
            return failure(err, 'db:exec', source);
          }
        }, { bytes: true, textArgs: 2, name: 'db:exec' }),
        query: onDb('db:query', all),
        get: onDb('db:get', first),
        run: onDb('db:run', run),
        prepare: sync((id: unknown, sql: LuaValue) => {
          const h = handles.db(id, 'db:prepare');
          const source = text(sql, 'db:prepare');
          try {
            return handles.addStatement(id as number, h.db.prepare(confined.checkSql(source, 'db:prepare')));
          } catch (err) {
            return failure(err, 'db:prepare', source);
          }
        }, { bytes: true, textArgs: 2, name: 'db:prepare' }),
        stmt_query: onStmt('stmt:query', all),
        stmt_get: onStmt('stmt:get', first),
        stmt_run: onStmt('stmt:run', run),
        stmt_columns: sync((id: unknown) => {
          const { stmt } = handles.statement(id, 'stmt:columns');
          return stmt.reader ? stmt.columns().map((c) => c.name) : [];
        }),
        stmt_release: sync((id: unknown) => handles.releaseStatement(id)),
        ...transactions(handles),
      },
      cleanup: () => handles.closeAll(),
    };
  },
});
