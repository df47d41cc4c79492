// TypeScriptToLua declarations for the `postgres` feature: the global `postgres` and
// require("postgres"). Module functions are called with "." (this: void); database and
// transaction methods with ":".

interface RedoxError {
  code: string;
  message: string;
}

interface PostgresError extends RedoxError {
  /** The SQLSTATE ("23505" unique violation, "57014" canceled, ...), or connection_refused,
   *  connection_lost, timeout, auth_failed, network. */
  code: string;
  detail?: string;
  hint?: string;
  constraint?: string;
  table?: string;
  column?: string;
  schema?: string;
  severity?: string;
  /** Set on a timeout because every pooled connection was busy. */
  pool_max?: number;
}

/** A bytea parameter made by postgres.bytea(bytes). */
interface PostgresBytea {
  readonly __pg_bytea: string;
}

/** What a $n parameter can be: nil and json.null send NULL, a sequence a PostgreSQL array,
 *  another table JSON. */
type PostgresParam = string | number | boolean | undefined | null | PostgresBytea | object;

/** A row: column name -> value (see the type mapping). NULL columns are absent. */
type PostgresRow = { [column: string]: any };

interface PostgresRunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
  /** The RETURNING rows, when the statement has RETURNING. */
  rows?: PostgresRow[];
}

interface PostgresStats {
  /** Connections open. */
  total: number;
  idle: number;
  /** Calls waiting for a free connection. */
  waiting: number;
  max: number;
}

type PostgresResult<T> = LuaMultiReturn<[T, undefined] | [undefined, PostgresError]>;

interface PostgresOptions {
  /** postgres://user:password@host:5432/database */
  url?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
  /** Connections the pool may open. Default 10. */
  max?: number;
  /** Seconds an idle connection stays open. Default 10. */
  idle_timeout?: number;
  /** Seconds a call waits for a connection (free or new). Default 10; 0 waits forever. */
  connect_timeout?: number;
  /** Seconds after which the server cancels a statement (SQLSTATE 57014). */
  statement_timeout?: number;
  ssl?: boolean | { reject_unauthorized?: boolean };
  /** Shown in pg_stat_activity. Default "redox". */
  application_name?: string;
}

/** The statements of db and tx. */
interface PostgresQueries {
  query(sql: string, ...params: PostgresParam[]): PostgresResult<PostgresRow[]>;
  get(sql: string, ...params: PostgresParam[]): PostgresResult<PostgresRow | undefined>;
  run(sql: string, ...params: PostgresParam[]): PostgresResult<PostgresRunResult>;
}

/** A transaction's connection, valid only inside its function. */
interface PostgresTransaction extends PostgresQueries {
  /** Nested: a savepoint. An error in fn undoes only fn's part. */
  transaction<T>(fn: (this: void, tx: PostgresTransaction) => T): PostgresResult<T>;
}

/** A pool of connections. */
interface PostgresDatabase extends PostgresQueries {
  /** host:port/database, never the password. */
  readonly target: string;
  /** Commits when fn returns (returning its result), rolls back and raises again when fn
   *  raises; nil, err (25P02) when a statement in it failed; nil, err when no connection. */
  transaction<T>(fn: (this: void, tx: PostgresTransaction) => T): PostgresResult<T>;
  stats(): PostgresStats;
  close(): void;
  is_open(): boolean;
}

interface PostgresModule {
  /** A pool; connections open on first use. The same settings return the same pool. */
  connect(this: void, url: string | PostgresOptions, opts?: PostgresOptions): PostgresDatabase;
  /** Marks bytes as a bytea parameter. */
  bytea(this: void, bytes: string): PostgresBytea;
}

declare const postgres: PostgresModule;

declare module 'postgres' {
  const postgres: PostgresModule;
  export = postgres;
}
