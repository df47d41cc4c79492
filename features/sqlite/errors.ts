// Which SQLite failures Lua gets as `nil, err` and which ones raise.
//
// The rule: a failure that correct code can meet at run time, because of the data or the
// environment, is expected and returned. A failure that means the code itself is wrong (bad
// SQL, unknown table, wrong parameter count or type, a closed handle) raises, so it shows up
// as a 500 with a traceback instead of being silently ignored.
import { LuaArgumentError, LuaFailure } from '../../core/feature';

/** Primary result codes that are expected failures. Extended codes keep their full name
 *  (SQLITE_CONSTRAINT_UNIQUE) in err.code; err.primary holds the primary one. */
export const EXPECTED_CODES: ReadonlySet<string> = new Set([
  'SQLITE_CONSTRAINT', // UNIQUE, NOT NULL, CHECK, FOREIGN KEY, PRIMARY KEY, trigger RAISE
  'SQLITE_MISMATCH', // e.g. a text value for an INTEGER PRIMARY KEY: depends on the data
  'SQLITE_TOOBIG', // a value larger than SQLite's limits
  'SQLITE_BUSY', // another connection holds the lock longer than busy_timeout
  'SQLITE_LOCKED', // a conflict inside this connection (shared cache, open readers on DROP)
  'SQLITE_READONLY', // read-only file, folder or connection
  'SQLITE_FULL', // disk full
  'SQLITE_IOERR', // the operating system failed a read or write
  'SQLITE_CANTOPEN', // missing file or folder, permissions
  'SQLITE_NOTADB', // the file is not a SQLite database
  'SQLITE_CORRUPT', // the file is damaged
  'SQLITE_PERM', // access denied
  'SQLITE_PROTOCOL', // WAL locking race between processes
  'SQLITE_NOLFS', // file too large for the OS
]);

const MAX_SQL_SHOWN = 200;

interface SqliteErrorLike {
  name: string;
  message: string;
  code: string;
}

function isSqliteError(err: unknown): err is SqliteErrorLike {
  return err instanceof Error && err.name === 'SqliteError' && typeof (err as { code?: unknown }).code === 'string';
}

/** SQLITE_CONSTRAINT_UNIQUE -> SQLITE_CONSTRAINT. */
export function primaryCode(code: string): string {
  const m = /^SQLITE_[A-Z]+/.exec(code);
  return m ? m[0] : code;
}

function shownSql(sql: string | undefined): string {
  if (sql === undefined) return '';
  const flat = sql.replace(/\s+/g, ' ').trim();
  return ` in: ${flat.length > MAX_SQL_SHOWN ? flat.slice(0, MAX_SQL_SHOWN) + '...' : flat}`;
}

/** Turns what better-sqlite3 threw into `nil, err` for expected failures, or throws an
 *  Error whose message names the operation, the SQLite message, the code and the SQL. */
export function failure(err: unknown, op: string, sql?: string): LuaFailure {
  if (isSqliteError(err)) {
    const primary = primaryCode(err.code);
    if (EXPECTED_CODES.has(primary)) return new LuaFailure(err.code, err.message, { primary });
    throw new Error(`${op}: ${err.message} (${err.code})${shownSql(sql)}`);
  }
  if (err instanceof LuaArgumentError) throw err; // our own message, already complete
  if (err instanceof RangeError || err instanceof TypeError) {
    // better-sqlite3's binding errors: wrong parameter count, unsupported value type.
    throw new Error(`${op}: ${err.message}${shownSql(sql)}`);
  }
  throw err;
}
