// Which PostgreSQL failures Lua gets as `nil, err` and which ones raise.
//
// The rule (the same as sqlite's): a failure correct code can meet at run time, because of the
// data, the load or the server, is expected and returned. A failure that means the code is
// wrong (a syntax error, an unknown table or column, the wrong number of parameters) raises at
// the caller's line, so it shows up as a 500 with a traceback instead of being ignored.
import { LuaArgumentError, LuaFailure, LuaValue } from '../../core/feature';

/** Connection-level codes (PostgreSQL's own errors keep their SQLSTATE as err.code). */
export const CONNECTION_CODES = ['connection_refused', 'connection_lost', 'timeout', 'auth_failed', 'network'] as const;

/** SQLSTATE classes and codes that mean the statement itself is wrong. */
const RAISED_CLASSES = new Set(['42', '0A', '26', '34', '3F']);
const RAISED_CODES = new Set(['08P01']); // protocol violation: e.g. a wrong number of parameters

const MAX_SQL_SHOWN = 200;

interface PgError extends Error {
  code?: string;
  detail?: string;
  hint?: string;
  constraint?: string;
  table?: string;
  column?: string;
  schema?: string;
  severity?: string;
  position?: string;
}

function shownSql(sql: string | undefined): string {
  if (sql === undefined) return '';
  const flat = sql.replace(/\s+/g, ' ').trim();
  return ` in: ${flat.length > MAX_SQL_SHOWN ? flat.slice(0, MAX_SQL_SHOWN) + '...' : flat}`;
}

const isSqlState = (code: unknown): code is string => typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);

export interface Where {
  /** "db:query", "postgres.connect" ... */
  op: string;
  sql?: string;
  /** host:port/database, for connection messages. */
  target: string;
  /** Pool facts, to tell "pool exhausted" from "server slow to accept". */
  pool?: { max: number; total: number; waitSeconds: number };
}

function fields(e: PgError): Record<string, LuaValue> {
  const out: Record<string, LuaValue> = {};
  for (const k of ['detail', 'hint', 'constraint', 'table', 'column', 'schema', 'severity'] as const) {
    if (typeof e[k] === 'string') out[k] = e[k];
  }
  return out;
}

/** Turns what node-postgres threw into `nil, err`, or throws an Error naming the operation,
 *  the server's message, the SQLSTATE and the SQL. */
export function failure(err: unknown, where: Where): LuaFailure {
  if (err instanceof LuaArgumentError) throw err;
  const e = err as PgError;
  const message = e instanceof Error ? e.message : String(err);
  if (isSqlState(e.code)) {
    const cls = e.code.slice(0, 2);
    if (RAISED_CLASSES.has(cls) || RAISED_CODES.has(e.code)) {
      throw new Error(`${where.op}: ${message} (SQLSTATE ${e.code})${e.hint ? `; hint: ${e.hint}` : ''}${shownSql(where.sql)}`);
    }
    if (cls === '28') {
      return new LuaFailure('auth_failed', `postgres ${where.target}: ${message} (SQLSTATE ${e.code}); check the user and password`, { sqlstate: e.code });
    }
    return new LuaFailure(e.code, message, fields(e));
  }
  if (e.code === 'ECONNREFUSED') {
    return new LuaFailure('connection_refused', `postgres ${where.target}: connection refused; is the server running and listening there?`, { cause: e.code });
  }
  if (/timeout exceeded when trying to connect|connection timeout/i.test(message)) {
    const p = where.pool;
    if (p && p.total >= p.max) {
      return new LuaFailure('timeout', `postgres ${where.target}: no pooled connection became free within ${p.waitSeconds} s ` +
        `(all ${p.max} of max= are busy); raise max= (the server's max_connections allows it?) or connect_timeout=, or make transactions shorter`, { pool_max: p.max });
    }
    return new LuaFailure('timeout', `postgres ${where.target}: no connection within ${p?.waitSeconds ?? '?'} s (connect_timeout); is the server reachable and not overloaded?`);
  }
  if (/Connection terminated|Client has encountered a connection error|ECONNRESET|EPIPE/i.test(message) || e.code === 'ECONNRESET' || e.code === 'EPIPE') {
    return new LuaFailure('connection_lost', `postgres ${where.target}: the connection was lost (${message}); the pool reconnects on the next call`, { cause: e.code ?? message });
  }
  if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) {
    return new LuaFailure('network', `postgres ${where.target}: ${message}`, { cause: e.code });
  }
  if (/password authentication|SASL|password must be a string/i.test(message)) {
    return new LuaFailure('auth_failed', `postgres ${where.target}: ${message}; check the user and password`);
  }
  // node-postgres's own checks on the call (e.g. values it cannot serialize) are mistakes in code.
  throw new Error(`${where.op}: ${message}${shownSql(where.sql)}`);
}
