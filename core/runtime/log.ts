// Structured logging: JSON lines when stdout is not a terminal, readable lines when it is.
// Lines are batched and written once per event-loop turn so logging every request stays cheap.

export const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type Level = Exclude<keyof typeof LEVELS, 'silent'>;
export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  enabled(level: Level): boolean;
  flush(): void;
}

export interface LoggerOptions {
  level?: string;
  pretty?: boolean;
  write?: (text: string) => void;
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

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = parseLevel(options.level ?? process.env.REDOX_LOG_LEVEL);
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  let buffer = '';
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    if (buffer === '') return;
    const text = buffer;
    buffer = '';
    write(text);
  };

  const emit = (level: Level, msg: string, fields?: Fields) => {
    if (LEVELS[level] < threshold) return;
    buffer += pretty ? prettyLine(level, msg, fields) : jsonLine(level, msg, fields);
    if (buffer.length > 64 * 1024) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };

  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
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
  let line = '{"time":"' + isoNow() + '","level":"' + level + '","msg":' + JSON.stringify(msg);
  if (fields) {
    for (const k in fields) {
      if (k === 'time' || k === 'level' || k === 'msg' || !Object.prototype.hasOwnProperty.call(fields, k)) continue;
      const v = fields[k];
      let text: string | undefined;
      if (typeof v === 'number') text = Number.isFinite(v) ? String(v) : 'null';
      else if (typeof v === 'string') text = JSON.stringify(v);
      else text = JSON.stringify(v);
      if (text === undefined) continue;
      line += ',' + JSON.stringify(k) + ':' + text;
    }
  }
  return line + '}\n';
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
