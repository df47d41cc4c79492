// sqlite.open: options, the native addon, and the pragmas every file database gets.
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { Logger, LuaArgumentError, LuaFailure, LuaValue } from '../../core/feature';
import { failure } from './errors';

export interface OpenOptions {
  readonly: boolean;
  create: boolean;
  busyTimeoutMs: number;
  wal: boolean;
  foreignKeys: boolean;
}

const SYNCHRONOUS = ['off', 'normal', 'full', 'extra'] as const;

const ALLOWED = ['readonly', 'create', 'busy_timeout', 'wal', 'foreign_keys', 'synchronous'];

function bool(opts: Record<string, LuaValue>, key: string, fallback: boolean): boolean {
  const v = opts[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new LuaArgumentError(`sqlite.open: option ${key} must be true or false, got ${typeof v}`);
  return v;
}

export function isMemory(file: string): boolean {
  return file === ':memory:' || file === '';
}

export function readOptions(raw: LuaValue, file: string): OpenOptions & { synchronous: string } {
  if (raw === undefined) raw = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Uint8Array) {
    throw new LuaArgumentError(`sqlite.open: options must be a table like {readonly = true}, got ${Array.isArray(raw) ? 'a list' : typeof raw}`);
  }
  const opts = raw as Record<string, LuaValue>;
  for (const key of Object.keys(opts)) {
    if (!ALLOWED.includes(key)) throw new LuaArgumentError(`sqlite.open: unknown option "${key}" (allowed: ${ALLOWED.join(', ')})`);
  }
  const timeout = opts.busy_timeout ?? 5000;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0 || timeout > 0x7fffffff) {
    throw new LuaArgumentError(`sqlite.open: busy_timeout must be whole milliseconds >= 0, got ${String(timeout)}`);
  }
  const wal = bool(opts, 'wal', !isMemory(file));
  const sync = opts.synchronous ?? (wal ? 'normal' : 'full');
  if (typeof sync !== 'string' || !(SYNCHRONOUS as readonly string[]).includes(sync.toLowerCase())) {
    throw new LuaArgumentError(`sqlite.open: synchronous must be one of ${SYNCHRONOUS.join(', ')}, got ${String(sync)}`);
  }
  const readonly = bool(opts, 'readonly', false);
  if (readonly && isMemory(file)) throw new LuaArgumentError('sqlite.open: an in-memory database cannot be readonly');
  return {
    readonly,
    create: bool(opts, 'create', true),
    busyTimeoutMs: timeout,
    wal,
    foreignKeys: bool(opts, 'foreign_keys', true),
    synchronous: sync.toLowerCase(),
  };
}

// Required when the feature is installed, not when this file loads: every CLI process loads the
// feature's folder for its settings.
let driver: typeof Database | undefined;
export const sqliteDriver = () => (driver ??= require('better-sqlite3') as typeof Database);

/** Opens a database, or returns the failure (SQLITE_CANTOPEN, SQLITE_NOTADB, ...). */
export function openDatabase(file: string, opts: ReturnType<typeof readOptions>, addon: object, log: Logger, shown = file): Database.Database | LuaFailure {
  if (!isMemory(file)) {
    const dir = path.dirname(path.resolve(file));
    // better-sqlite3 throws a TypeError here; it is an expected failure like any other CANTOPEN.
    if (!fs.existsSync(dir)) return new LuaFailure('SQLITE_CANTOPEN', `cannot open ${shown}: the folder ${dir} does not exist`, { primary: 'SQLITE_CANTOPEN' });
  }
  let db: Database.Database | undefined;
  try {
    const Driver = sqliteDriver();
    db = new Driver(file, {
      readonly: opts.readonly,
      fileMustExist: !opts.create,
      timeout: opts.busyTimeoutMs,
      // Given explicitly: inside a single executable `bindings` cannot find the addon.
      nativeBinding: addon as unknown as string,
    });
    // Integers keep all 64 bits on the way back to Lua.
    db.defaultSafeIntegers(true);
    if (opts.wal && !opts.readonly) {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      // Some file systems (network mounts) cannot hold the WAL index; SQLite keeps the old mode.
      if (mode !== 'wal') log.warn('sqlite: WAL mode is not available for this file', { path: shown, journal_mode: String(mode) });
    }
    db.pragma(`synchronous = ${opts.synchronous}`);
    db.pragma(`foreign_keys = ${opts.foreignKeys ? 'ON' : 'OFF'}`);
    // Touch the file now, so "not a database" is reported by open and not by the first query.
    db.pragma('schema_version');
    return db;
  } catch (err) {
    if (db?.open) db.close();
    const f = failure(err, 'sqlite.open');
    const why = f.code.startsWith('SQLITE_CANTOPEN') && !isMemory(file) ? accessProblem(file, opts.readonly) : '';
    return new LuaFailure(f.code, `cannot open ${shown}: ${f.message}${why}`, f.details);
  }
}

/** Why SQLite could not open a file, when file permissions explain it: its own message
 *  ("unable to open database file") names neither the file's nor the folder's access. */
function accessProblem(file: string, readonly: boolean): string {
  const can = (p: string, mode: number) => {
    try {
      fs.accessSync(p, mode);
      return true;
    } catch {
      return false;
    }
  };
  const who = typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : '';
  const dir = path.dirname(path.resolve(file));
  const exists = fs.existsSync(file);
  if (exists && !can(file, fs.constants.R_OK)) return `; the file is not readable by this process${who}`;
  if (readonly) return '';
  if (exists && !can(file, fs.constants.W_OK)) return `; the file is not writable by this process${who}: open it with readonly = true, or give it write access`;
  if (!can(dir, fs.constants.W_OK)) {
    return exists
      ? `; its folder ${dir} is not writable by this process${who}, and SQLite writes its journal beside the file: open it with readonly = true, or give the folder write access`
      : `; its folder ${dir} is not writable by this process${who}, so the database cannot be created there`;
  }
  return '';
}
