// Structured logging: JSON lines when stdout is not a terminal, readable lines when it is.
// Lines are batched so logging every request stays cheap: debug and info lines are written
// within FLUSH_DELAY_MS (or at 64 KiB), warnings and errors at the end of the event-loop turn,
// and whatever is pending when the process exits is written then.

export const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type Level = Exclude<keyof typeof LEVELS, 'silent'>;
export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** The access line of an answered request (info): the same line as
   *  info('request', { method, path, status, duration_ms, request_id }), built without the
   *  fields object, as it is written once per request. */
  request(method: string, path: string, status: number, durationMs: number, requestId: string): void;
  enabled(level: Level): boolean;
  flush(): void;
}

export interface LoggerOptions {
  level?: string;
  pretty?: boolean;
  write?: (text: string) => void;
  /** false: every line is written at once (tests reading lines as they happen). */
  batch?: boolean;
}

export function parseLevel(text: string | undefined): number {
  if (!text) return LEVELS.info;
  const level = LEVELS[text.toLowerCase() as keyof typeof LEVELS];
  if (level === undefined) {
    throw new Error(`REDOX_LOG_LEVEL must be one of ${Object.keys(LEVELS).join(', ')}, got "${text}"`);
  }
  return level;
}

const COLORS: Record<Level, string> = { debug: '\x1b[90m', info: '\x1b[36m', warn: '\x1b[33m', error: '\x1b[31m' };

/** How long debug and info lines may wait to be written together (a write per request would
 *  cost more than building the line). */
const FLUSH_DELAY_MS = 20;
const FLUSH_BYTES = 64 * 1024;

/** Loggers with lines not yet written: written when the process exits. */
const unwritten = new Set<() => void>();
let exitHooked = false;

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = parseLevel(options.level ?? process.env.REDOX_LOG_LEVEL);
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const batch = options.batch !== false;
  // Lines are kept in a list and joined once per write: appending each to one growing string
  // built a deep chain that V8 then had to flatten.
  let lines: string[] = [];
  let size = 0;
  let pending = false;
  let timer: NodeJS.Timeout | null = null;
  let soon = false;

  const flush = () => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    soon = false;
    if (pending) {
      pending = false;
      unwritten.delete(flush);
    }
    if (lines.length === 0) return;
    const text = lines.length === 1 ? lines[0] : lines.join('');
    lines = [];
    size = 0;
    write(text);
  };

  const push = (level: Level, line: string) => {
    lines.push(line);
    size += line.length;
    if (size > FLUSH_BYTES || !batch) return flush();
    if (!pending) {
      pending = true;
      if (!exitHooked) {
        exitHooked = true;
        process.on('exit', () => { for (const f of [...unwritten]) f(); });
      }
      unwritten.add(flush);
    }
    // A warning or error goes out at the end of this turn, with the lines before it.
    if (LEVELS[level] >= LEVELS.warn) {
      if (!soon) {
        soon = true;
        setImmediate(flush);
      }
    } else if (timer === null && !soon) {
      timer = setTimeout(flush, FLUSH_DELAY_MS);
      timer.unref();
    }
  };

  const emit = (level: Level, msg: string, fields?: Fields) => {
    if (LEVELS[level] < threshold) return;
    push(level, pretty ? prettyLine(level, msg, fields) : jsonLine(level, msg, fields));
  };

  const request = (method: string, path: string, status: number, durationMs: number, requestId: string) => {
    if (LEVELS.info < threshold) return;
    if (pretty) return push('info', prettyLine('info', 'request', { method, path, status, duration_ms: durationMs, request_id: requestId }));
    push('info', '{"time":"' + isoNow() + '","level":"info","msg":"request","method":' + quote(method) + ',"path":' + quote(path)
      + ',"status":' + (Number.isFinite(status) ? status : 'null') + ',"duration_ms":' + (Number.isFinite(durationMs) ? durationMs : 'null')
      + ',"request_id":' + quote(requestId) + '}\n');
  };

  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    request,
    enabled: (level) => LEVELS[level] >= threshold,
    flush,
  };
}

// Many lines share a millisecond under load: format the timestamp once per millisecond.
let lastMs = 0;
let lastIso = '';
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

// A line per request at info level: written by hand, field by field, instead of building a
// record object for JSON.stringify (same output: undefined and function values left out).
function jsonLine(level: Level, msg: string, fields?: Fields): string {
  let line = '{"time":"' + isoNow() + '","level":"' + level + '","msg":' + quote(msg);
  if (fields) {
    for (const k in fields) {
      if (k === 'time' || k === 'level' || k === 'msg' || !Object.prototype.hasOwnProperty.call(fields, k)) continue;
      const v = fields[k];
      let text: string | undefined;
      if (typeof v === 'number') text = Number.isFinite(v) ? String(v) : 'null';
      else if (typeof v === 'string') text = quote(v);
      else text = JSON.stringify(v);
      if (text === undefined) continue;
      line += ',' + quote(k) + ':' + text;
    }
  }
  return line + '}\n';
}

/** JSON.stringify for a string, without its work when nothing needs escaping (the usual case:
 *  methods, paths, ids, field names). */
function quote(s: string): string {
  if (s.length > 256) return JSON.stringify(s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return JSON.stringify(s);
  }
  return '"' + s + '"';
}

function prettyLine(level: Level, msg: string, fields?: Fields): string {
  const time = isoNow().slice(11, 23);
  let line = `${time} ${COLORS[level]}${level.toUpperCase().padEnd(5)}\x1b[0m ${msg}`;
  let trailer = '';
  if (fields) {
    for (const [k, v] of Object.entries(fields)) {
      if (typeof v === 'string' && v.includes('\n')) trailer += '\n' + v;
      else line += ` \x1b[90m${k}=\x1b[0m${typeof v === 'string' ? v : JSON.stringify(v)}`;
    }
  }
  return line + trailer + '\n';
}
