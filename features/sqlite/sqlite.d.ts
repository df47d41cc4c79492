// TypeScriptToLua declarations for the `sqlite` feature: the global `sqlite` and
// require("sqlite"). Module functions are called with "." (this: void); database and
// statement methods with ":".

interface RedoxError {
  code: string;
  message: string;
}

interface SqliteError extends RedoxError {
  /** The full SQLite code, e.g. "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_BUSY", "SQLITE_CANTOPEN". */
  code: string;
  /** The primary code, e.g. "SQLITE_CONSTRAINT" for "SQLITE_CONSTRAINT_UNIQUE". */
  primary: string;
}

/** A BLOB parameter made by sqlite.blob(bytes). */
interface SqliteBlob {
  readonly __sqlite_blob: string;
}

/** What a parameter can be: nil and json.null bind NULL, booleans bind 1/0, strings bind
 *  TEXT (or BLOB when they are not valid UTF-8). */
type SqliteParam = string | number | boolean | undefined | null | SqliteBlob;

/** Parameters: values for ? as separate arguments, or one table for :name, @name, $name. */
type SqliteParams = SqliteParam[] | [{ [name: string]: SqliteParam }];

/** A row. NULL columns are absent (nil); INTEGER columns are Lua integers; BLOBs are strings. */
type SqliteRow = { [column: string]: string | number | undefined };

interface SqliteRunResult {
  changes: number;
  /** The rowid of the last INSERT on this connection. */
  last_insert_rowid: number;
}

type SqliteResult<T> = LuaMultiReturn<[T, undefined] | [undefined, SqliteError]>;

interface SqliteOpenOptions {
  /** Open without write access. Default false. */
  readonly?: boolean;
  /** Create the file when it does not exist. Default true. */
  create?: boolean;
  /** Milliseconds to wait for a lock held by another connection. Default 5000. */
  busy_timeout?: number;
  /** Journal in WAL mode. Default true for files (ignored for ":memory:"). */
  wal?: boolean;
  /** Enforce FOREIGN KEY constraints. Default true. */
  foreign_keys?: boolean;
  /** PRAGMA synchronous. Default "normal" with WAL, "full" without. */
  synchronous?: 'off' | 'normal' | 'full' | 'extra';
}

interface SqliteTransactionOptions {
  /** How BEGIN takes locks. Default "immediate" (takes the write lock at once). */
  mode?: 'deferred' | 'immediate' | 'exclusive';
}

interface SqliteStatement {
  /** The SQL text it was prepared from. */
  readonly sql: string;
  query(...params: SqliteParams): SqliteResult<SqliteRow[]>;
  get(...params: SqliteParams): SqliteResult<SqliteRow | undefined>;
  run(...params: SqliteParams): SqliteResult<SqliteRunResult>;
  /** Column names of the result ({} for statements that return no data). */
  columns(): string[];
  close(): void;
}

interface SqliteDatabase {
  /** The path given to open (or ":memory:"). */
  readonly path: string;
  /** Runs one or more statements without parameters. */
  exec(sql: string): SqliteResult<true>;
  query(sql: string, ...params: SqliteParams): SqliteResult<SqliteRow[]>;
  get(sql: string, ...params: SqliteParams): SqliteResult<SqliteRow | undefined>;
  run(sql: string, ...params: SqliteParams): SqliteResult<SqliteRunResult>;
  prepare(sql: string): SqliteResult<SqliteStatement>;
  /** Commits when fn returns (returning its result), rolls back and raises again when fn
   *  raises. fn must not wait for I/O (raises). nil, err when the transaction cannot start. */
  transaction<T>(fn: (this: void, db: SqliteDatabase) => T, opts?: SqliteTransactionOptions): SqliteResult<T>;
  close(): void;
  is_open(): boolean;
}

interface SqliteModule {
  open(this: void, path: string, opts?: SqliteOpenOptions): SqliteResult<SqliteDatabase>;
  /** "sqlite::memory:", "sqlite:app.db", "sqlite://app.db", "sqlite:///abs/app.db", with an
   *  optional "?mode=ro" (read-only), "?mode=rw" (must exist) or "?mode=rwc". */
  connect(this: void, url: string, opts?: SqliteOpenOptions): SqliteResult<SqliteDatabase>;
  /** Marks bytes as a BLOB parameter. */
  blob(this: void, bytes: string): SqliteBlob;
}

declare const sqlite: SqliteModule;

declare module 'sqlite' {
  const sqlite: SqliteModule;
  export = sqlite;
}
