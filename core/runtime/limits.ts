// Server limits: one table of defaults, each overridable by a flag and an environment variable.
// The CLI builds its options from LIMIT_SPECS, so flags, env names and docs cannot drift.
import { RedoxError } from '../errors';

export interface Limits {
  bodyBytes: number;
  headerBytes: number;
  urlBytes: number;
  handlerTimeoutMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  shutdownMs: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  maxRequestsPerSocket: number;
  cpuBudgetMs: number;
  memoryBytes: number;
  watchdogGraceMs: number;
  heartbeatTimeoutMs: number;
}

type Kind = 'bytes' | 'ms' | 'count';

export interface LimitSpec {
  key: keyof Limits;
  flag: string;
  env: string;
  kind: Kind;
  default: number;
  description: string;
  /** The smallest value that works, with why; 0 stays allowed when it means "no limit". */
  min?: { text: string; why: string; zeroIsOff?: boolean };
}

export const LIMIT_SPECS: LimitSpec[] = [
  { key: 'bodyBytes', flag: '--max-body', env: 'REDOX_MAX_BODY', kind: 'bytes', default: 1024 * 1024, description: 'largest request body; larger is 413' },
  { key: 'headerBytes', flag: '--max-headers', env: 'REDOX_MAX_HEADERS', kind: 'bytes', default: 16 * 1024, description: 'largest request head (all headers); larger is 431' },
  { key: 'urlBytes', flag: '--max-url', env: 'REDOX_MAX_URL', kind: 'bytes', default: 8 * 1024, description: 'longest URL; longer is 414' },
  { key: 'handlerTimeoutMs', flag: '--handler-timeout', env: 'REDOX_HANDLER_TIMEOUT', kind: 'ms', default: 30_000, description: 'time a handler may take; then 503',
    min: { text: '1ms', why: 'every handler would time out at once' } },
  { key: 'headersTimeoutMs', flag: '--headers-timeout', env: 'REDOX_HEADERS_TIMEOUT', kind: 'ms', default: 10_000, description: 'time a client has to send all headers (slow clients are cut off)' },
  { key: 'requestTimeoutMs', flag: '--request-timeout', env: 'REDOX_REQUEST_TIMEOUT', kind: 'ms', default: 30_000, description: 'time a client has to send the whole request' },
  { key: 'keepAliveTimeoutMs', flag: '--keep-alive-timeout', env: 'REDOX_KEEP_ALIVE_TIMEOUT', kind: 'ms', default: 5_000, description: 'idle time before a keep-alive connection is closed' },
  { key: 'shutdownMs', flag: '--shutdown-timeout', env: 'REDOX_SHUTDOWN_TIMEOUT', kind: 'ms', default: 10_000, description: 'time in-flight requests get to finish on SIGTERM/SIGINT' },
  { key: 'maxConnections', flag: '--max-connections', env: 'REDOX_MAX_CONNECTIONS', kind: 'count', default: 0, description: 'concurrent connections accepted (0: no limit)' },
  { key: 'maxConnectionsPerIp', flag: '--max-connections-per-ip', env: 'REDOX_MAX_CONNECTIONS_PER_IP', kind: 'count', default: 512, description: 'concurrent connections from one client address, per process; more get 503 and are closed (0: no limit; behind a proxy every client shares its address)' },
  { key: 'cpuBudgetMs', flag: '--cpu-budget', env: 'REDOX_CPU_BUDGET', kind: 'ms', default: 1_000, description: 'Lua execution time one request may use, waits excluded; then 503 (0: no budget)' },
  { key: 'memoryBytes', flag: '--memory-limit', env: 'REDOX_MEMORY_LIMIT', kind: 'bytes', default: 256 * 1024 * 1024, description: 'Lua heap size; a request that grows it past this fails with 500 (0: no limit)',
    min: { text: '1MiB', why: 'the Lua VM and the app need more than that to load', zeroIsOff: true } },
  { key: 'watchdogGraceMs', flag: '--watchdog-grace', env: 'REDOX_WATCHDOG_GRACE', kind: 'ms', default: 300, description: 'time the watchdog gives a Lua run past its CPU budget or handler timeout to stop at its next instruction before it forces the stop and reboots the VM; then 503 (0: no watchdog, and the budget hook slows every Lua instruction)' },
  { key: 'heartbeatTimeoutMs', flag: '--heartbeat-timeout', env: 'REDOX_HEARTBEAT_TIMEOUT', kind: 'ms', default: 10_000, description: 'with --workers: a worker whose event loop sends no heartbeat for this long is killed and replaced (0: only replace workers that exit)' },
  { key: 'maxRequestsPerSocket', flag: '--max-requests-per-connection', env: 'REDOX_MAX_REQUESTS_PER_CONNECTION', kind: 'count', default: 0, description: 'requests served on one keep-alive connection (0: no limit)' },
];

const UNITS: Record<Kind, Record<string, number>> = {
  bytes: { '': 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3 },
  ms: { '': 1, ms: 1, s: 1000, m: 60_000, min: 60_000 },
  count: { '': 1 },
};

const MAX_TIMER_MS = 2 ** 31 - 1;

export function parseLimit(spec: Pick<LimitSpec, 'kind'> & Partial<Pick<LimitSpec, 'min'>>, text: string, source: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[spec.kind][m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    const example = spec.kind === 'bytes' ? '1048576, 512KiB or 2MiB' : spec.kind === 'ms' ? '500ms, 30s or 30000' : 'a whole number';
    throw new RedoxError('REDOX_USAGE', `${source} must be ${example}, got "${text}"`);
  }
  const value = Math.round(Number(m[1]) * unit);
  // Node's timers hold at most 2^31-1 ms and fire after 1 ms beyond that.
  if (spec.kind === 'ms' && value > MAX_TIMER_MS) throw new RedoxError('REDOX_USAGE', `${source} must be at most 24d (2147483647 ms), got "${text}"`);
  const { min } = spec;
  if (min && value < parseLimit({ kind: spec.kind }, min.text, 'min') && !(Number(m[1]) === 0 && min.zeroIsOff)) {
    throw new RedoxError('REDOX_USAGE', `${source} must be at least ${min.text}${min.zeroIsOff ? ' (or 0 for no limit)' : ''}, got "${text}": ${min.why}`);
  }
  return value;
}

/** Defaults, then environment, then flags (flags win). */
export function resolveLimits(flags: Partial<Record<keyof Limits, string>>, env: NodeJS.ProcessEnv = process.env): Limits {
  const limits = {} as Limits;
  for (const spec of LIMIT_SPECS) {
    let value = spec.default;
    const fromEnv = env[spec.env];
    if (fromEnv !== undefined && fromEnv !== '') value = parseLimit(spec, fromEnv, spec.env);
    const fromFlag = flags[spec.key];
    if (fromFlag !== undefined) value = parseLimit(spec, fromFlag, spec.flag);
    limits[spec.key] = value;
  }
  return limits;
}
