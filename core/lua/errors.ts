// The errors a Lua run ends with, as the host sees them.

export class LuaError extends Error {
  constructor(message: string, readonly traceback?: string) {
    super(message);
    this.name = 'LuaError';
  }
}

/** Thrown by the driver when a coroutine used more Lua CPU time or heap than allowed; the
 *  coroutine is abandoned (it cannot catch this with pcall). */
export class LuaBudgetError extends Error {
  constructor(readonly kind: 'cpu' | 'memory', readonly limit: number) {
    super(kind === 'cpu' ? `used more than ${limit} ms of Lua CPU time` : `Lua heap grew past ${Math.round(limit / 1024 / 1024)} MiB`);
    this.name = 'LuaBudgetError';
  }
}

/** Thrown by the driver when a coroutine ran past its deadline; the coroutine is abandoned. */
export class LuaTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`gave up after ${timeoutMs} ms`);
    this.name = 'LuaTimeoutError';
  }
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
