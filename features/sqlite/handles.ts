// The open databases and prepared statements of one Lua VM. Lua holds integer ids; using an
// id after close raises.
import type { Database, Statement } from 'better-sqlite3';
import { LuaArgumentError } from '../../core/feature';

/** Statements prepared by db:query/get/run, reused by SQL text (most apps use a few dozen). */
const CACHE_SIZE = 128;

export interface DbHandle {
  readonly db: Database;
  readonly path: string;
  readonly cache: Map<string, Statement>;
  /** Nesting depth of db:transaction (0: none open). */
  depth: number;
}

export interface StmtHandle {
  readonly dbId: number;
  readonly stmt: Statement;
}

export class Handles {
  private readonly dbs = new Map<number, DbHandle>();
  private readonly stmts = new Map<number, StmtHandle>();
  private nextId = 1;
  /** Checks (and may rewrite) SQL before it is prepared; throws to refuse it. */
  private readonly guard: (sql: string, op: string) => string;

  constructor(guard: (sql: string, op: string) => string = (sql) => sql) {
    this.guard = guard;
  }

  add(db: Database, path: string): number {
    const id = this.nextId++;
    this.dbs.set(id, { db, path, cache: new Map(), depth: 0 });
    return id;
  }

  isOpen(id: unknown): boolean {
    return typeof id === 'number' && this.dbs.has(id);
  }

  /** The open database with this id, or a raised error that says why not. */
  db(id: unknown, op: string): DbHandle {
    const h = typeof id === 'number' ? this.dbs.get(id) : undefined;
    if (h) return h;
    if (typeof id !== 'number') throw new LuaArgumentError(`${op}: call it on a database with a colon, e.g. db:${op.split(':')[1] ?? 'query'}(...)`);
    throw new LuaArgumentError(`${op}: the database is closed; open it again with sqlite.open`);
  }

  /** A statement for this SQL text, prepared once and reused. */
  cached(h: DbHandle, sql: string, op = 'sqlite'): Statement {
    let stmt = h.cache.get(sql);
    if (stmt) {
      // Move to the end: the Map's order is the LRU order. Only worth it once eviction is near:
      // the delete and set cost more than the lookup (13% of a db:get).
      if (h.cache.size >= CACHE_SIZE / 2) {
        h.cache.delete(sql);
        h.cache.set(sql, stmt);
      }
      return stmt;
    }
    stmt = h.db.prepare(this.guard(sql, op));
    if (h.cache.size >= CACHE_SIZE) h.cache.delete(h.cache.keys().next().value!);
    h.cache.set(sql, stmt);
    return stmt;
  }

  addStatement(dbId: number, stmt: Statement): number {
    const id = this.nextId++;
    this.stmts.set(id, { dbId, stmt });
    return id;
  }

  statement(id: unknown, op: string): StmtHandle {
    const s = typeof id === 'number' ? this.stmts.get(id) : undefined;
    if (!s) {
      if (typeof id !== 'number') throw new LuaArgumentError(`${op}: call it on a statement with a colon, e.g. stmt:${op.split(':')[1] ?? 'query'}(...)`);
      throw new LuaArgumentError(`${op}: the statement is closed`);
    }
    if (!this.dbs.has(s.dbId)) throw new LuaArgumentError(`${op}: the statement's database is closed; open it again and prepare the statement again`);
    return s;
  }

  releaseStatement(id: unknown): void {
    if (typeof id === 'number') this.stmts.delete(id);
  }

  close(id: unknown): void {
    if (typeof id !== 'number') return;
    const h = this.dbs.get(id);
    if (!h) return;
    this.dbs.delete(id);
    for (const [sid, s] of this.stmts) if (s.dbId === id) this.stmts.delete(sid);
    h.cache.clear();
    // close() rolls back an open transaction and finalizes the statements.
    if (h.db.open) h.db.close();
  }

  closeAll(): void {
    for (const id of [...this.dbs.keys()]) this.close(id);
  }
}
