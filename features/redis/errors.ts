// Which Redis failures Lua gets as `nil, err` and which ones raise. Error replies that depend
// on the data (WRONGTYPE, a value that is not an integer, OOM) and connection trouble are
// expected; an unknown command, wrong arity or a syntax error means the code is wrong.
import { LuaFailure } from '../../core/feature';

export const CONNECTION_CODES = ['connection_refused', 'connection_lost', 'timeout', 'auth_failed'] as const;

const RAISED = /^ERR (unknown command|wrong number of arguments|syntax error|unknown subcommand)/i;

export interface Where {
  op: string;
  target: string;
  timeoutSeconds: number;
  /** The last connection error the client reported (ECONNREFUSED ...), if any. */
  lastError?: { code?: string; message: string };
}

export function failure(err: unknown, where: Where): LuaFailure {
  const e = err as Error & { code?: string; name?: string };
  const message = e instanceof Error ? e.message : String(err);
  if (e.name === 'ReplyError' || e.constructor?.name === 'SimpleError') {
    if (RAISED.test(message)) throw new Error(`${where.op}: ${message}`);
    if (/^(NOAUTH|WRONGPASS)/.test(message)) return new LuaFailure('auth_failed', `redis ${where.target}: ${message}; check the username and password`);
    const code = /^[A-Z]+/.exec(message)?.[0] ?? 'ERR';
    return new LuaFailure(code, message);
  }
  if (/Command timed out/i.test(message)) {
    return new LuaFailure('timeout', `redis ${where.target}: no reply within ${where.timeoutSeconds} s (timeout); is the server overloaded, or the command slow?`);
  }
  const last = where.lastError;
  if (/max retries per request|Stream isn't writeable|Connection is closed|ECONNRESET|EPIPE/i.test(message) || e.code === 'ECONNREFUSED') {
    if (last?.code === 'ECONNREFUSED' || e.code === 'ECONNREFUSED') {
      return new LuaFailure('connection_refused', `redis ${where.target}: connection refused; is the server running? (it reconnects with backoff meanwhile)`);
    }
    if (last && /NOAUTH|WRONGPASS|invalid password/i.test(last.message)) return new LuaFailure('auth_failed', `redis ${where.target}: ${last.message}`);
    return new LuaFailure('connection_lost', `redis ${where.target}: not connected${last ? ` (${last.message})` : ''}; it reconnects with backoff meanwhile`);
  }
  throw new Error(`${where.op}: ${message}`);
}
