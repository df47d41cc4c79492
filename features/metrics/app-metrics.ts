// The app's own metrics (metrics.counter/gauge/histogram from Lua). Every mistake throws: core
// raises host errors at the Lua caller's line.
import { Counter, Gauge, Histogram } from './prom';
import { LuaArgumentError, LuaValue } from '../../core/feature';
import { registry } from './registry';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const KINDS = ['counter', 'gauge', 'histogram'] as const;
type Kind = typeof KINDS[number];

interface Declared {
  kind: Kind;
  name: string;
  labels: string[];
  metric: Counter<string> | Gauge<string> | Histogram<string>;
}

const declared: Declared[] = [];
const byName = new Map<string, number>();

const describe = (v: LuaValue) => (v === undefined ? 'nil' : Array.isArray(v) ? 'table' : v === null ? 'json.null' : typeof v === 'object' ? 'table' : typeof v);
const isTable = (v: LuaValue): v is Record<string, LuaValue> | LuaValue[] => typeof v === 'object' && v !== null && !Buffer.isBuffer(v) && !(v instanceof Uint8Array);

/** metrics.<kind>{name=, help=, labels={...}, buckets={...}}: returns the metric's id. */
export function declare(kind: Kind, opts: LuaValue): number {
  const fn = `metrics.${kind}`;
  if (!isTable(opts) || Array.isArray(opts)) throw new LuaArgumentError(`${fn} expects a table like {name="jobs_total", help="...", labels={"queue"}}, got ${describe(opts)}`);
  const allowed = kind === 'histogram' ? ['name', 'help', 'labels', 'buckets'] : ['name', 'help', 'labels'];
  for (const key of Object.keys(opts)) {
    if (!allowed.includes(key)) throw new LuaArgumentError(`${fn}: unknown option "${key}" (options: ${allowed.join(', ')})`);
  }
  const { name, help } = opts as Record<string, LuaValue>;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new LuaArgumentError(`${fn}: name must be a Prometheus metric name (letters, digits, _ and :, not starting with a digit), got ${typeof name === 'string' ? JSON.stringify(name) : describe(name)}`);
  }
  if (name.startsWith('__') || name.startsWith('redox_')) throw new LuaArgumentError(`${fn}: names starting with "redox_" or "__" are reserved, got "${name}"`);
  if (help !== undefined && typeof help !== 'string') throw new LuaArgumentError(`${fn}: help must be a string, got ${describe(help)}`);
  const labels = labelList(fn, kind, (opts as Record<string, LuaValue>).labels);
  const existing = byName.get(name);
  if (existing !== undefined) {
    const d = declared[existing];
    if (d.kind !== kind) throw new LuaArgumentError(`${fn}: "${name}" is already a ${d.kind}`);
    if (d.labels.join(',') !== labels.join(',')) {
      throw new LuaArgumentError(`${fn}: "${name}" was declared with labels {${d.labels.join(', ')}}, not {${labels.join(', ')}}`);
    }
    return existing;
  }
  const config = { name, help: help || name, labelNames: labels, registers: [registry] };
  let metric: Declared['metric'];
  try {
    if (kind === 'counter') metric = new Counter(config);
    else if (kind === 'gauge') metric = new Gauge(config);
    else metric = new Histogram({ ...config, buckets: buckets(fn, (opts as Record<string, LuaValue>).buckets) });
  } catch (err) {
    // prom-client refuses names its default process metrics already use.
    throw new LuaArgumentError(`${fn}: ${(err as Error).message}`);
  }
  declared.push({ kind, name, labels, metric });
  byName.set(name, declared.length - 1);
  return declared.length - 1;
}

function labelList(fn: string, kind: Kind, value: LuaValue): string[] {
  if (value === undefined) return [];
  const list = isTable(value) && !Array.isArray(value) && Object.keys(value).length === 0 ? [] : value;
  if (!Array.isArray(list)) throw new LuaArgumentError(`${fn}: labels must be a list of label names like {"method", "code"}, got ${describe(value)}`);
  for (const l of list) {
    if (typeof l !== 'string' || !LABEL.test(l) || l.startsWith('__')) {
      throw new LuaArgumentError(`${fn}: label names must be letters, digits and _ (not starting with a digit or __), got ${typeof l === 'string' ? JSON.stringify(l) : describe(l)}`);
    }
    if (kind === 'histogram' && l === 'le') throw new LuaArgumentError(`${fn}: "le" is reserved for histogram buckets`);
  }
  if (new Set(list).size !== list.length) throw new LuaArgumentError(`${fn}: labels are listed twice in {${list.join(', ')}}`);
  return [...(list as string[])].sort();
}

function buckets(fn: string, value: LuaValue): number[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || !value.every((b) => typeof b === 'number' && Number.isFinite(b))) {
    throw new LuaArgumentError(`${fn}: buckets must be a non-empty list of numbers in increasing order, like {0.1, 0.5, 1}`);
  }
  const list = value as number[];
  for (let i = 1; i < list.length; i++) if (!(list[i] > list[i - 1])) throw new LuaArgumentError(`${fn}: buckets must increase, got ${list[i - 1]} then ${list[i]}`);
  return list;
}

const OPS: Record<Kind, string[]> = { counter: ['inc'], gauge: ['set', 'inc', 'dec'], histogram: ['observe'] };

/** m:inc(n, labels), m:set(v, labels), m:dec(n, labels), m:observe(v, labels). */
export function update(id: LuaValue, op: string, value: LuaValue, labels: LuaValue): void {
  const d = typeof id === 'number' ? declared[id] : undefined;
  if (!d) throw new LuaArgumentError(`metrics: call ${op} with a colon on a metric from metrics.counter/gauge/histogram, e.g. m:${op}(1)`);
  const what = `${d.kind} "${d.name}"`;
  if (!OPS[d.kind].includes(op)) throw new LuaArgumentError(`${what} has no method ${op} (it has ${OPS[d.kind].join(', ')})`);
  // m:inc({labels}) is m:inc(1, {labels})
  if (isTable(value) && labels === undefined && op !== 'set' && op !== 'observe') {
    labels = value;
    value = undefined;
  }
  let n: number;
  if (value === undefined && (op === 'inc' || op === 'dec')) n = 1;
  else if (typeof value === 'number' && Number.isFinite(value)) n = value;
  else if (typeof value === 'bigint') n = Number(value);
  else throw new LuaArgumentError(`${what}:${op} expects a finite number, got ${describe(value)}`);
  if (d.kind === 'counter' && n < 0) throw new LuaArgumentError(`${what}:inc: a counter only goes up, got ${n}; use a gauge for values that go down`);
  const set = labelValues(what, op, d.labels, labels);
  const m = d.metric as any;
  if (op === 'observe') m.observe(set, n);
  else m[op](set, n);
}

function labelValues(what: string, op: string, names: string[], value: LuaValue): Record<string, string> {
  if (value === undefined) {
    if (names.length === 0) return {};
    throw new LuaArgumentError(`${what}:${op} needs labels {${names.join(', ')}}`);
  }
  if (!isTable(value) || (Array.isArray(value) && value.length > 0)) throw new LuaArgumentError(`${what}:${op}: labels must be a table like {${names[0] ?? 'name'}="value"}, got ${describe(value)}`);
  const given = Array.isArray(value) ? {} : value;
  const keys = Object.keys(given).sort();
  if (keys.join(',') !== names.join(',')) {
    throw new LuaArgumentError(`${what}:${op}: labels {${keys.join(', ')}} differ from the declared {${names.join(', ')}}`);
  }
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = given[k];
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'bigint' && typeof v !== 'boolean') {
      throw new LuaArgumentError(`${what}:${op}: label ${k} must be a string or number, got ${describe(v)}`);
    }
    out[k] = String(v);
  }
  return out;
}
