// How PostgreSQL values become Lua values. node-postgres parses text results with per-type
// parsers; these replace the ones whose defaults lose information for Lua (int8 rounding,
// Date objects that shift with the host's time zone, numeric[] as floats).
//
// JSON values and arrays holding NULL cannot be pushed as plain tables (nil would leave a hole
// in a Lua array), so such a cell is left as JSON text and its position reported: the Lua side
// decodes it with json.decode, which gives json.null for JSON null.
import type { CustomTypesConfig } from 'pg';
import { pg } from './pg';

const MAX_SAFE = 9007199254740991n;

/** Text of the outer array, elements still strings (or null). Handles nesting. */
let textArray: ((text: string) => unknown[]) | undefined;
const parseTextArray = (text: string) => (textArray ??= pg().types.getTypeParser(1009 as never, 'text') as (text: string) => unknown[])(text);

/** A JSON-typed cell: the raw JSON text to decode in Lua. */
export class JsonText {
  constructor(readonly text: string) {}
}

/** int8: an integer when exact in a double (Lua gets an integer), else the decimal string. */
function int8(text: string): number | string {
  const n = BigInt(text);
  return n <= MAX_SAFE && n >= -MAX_SAFE ? Number(n) : text;
}

/** "2024-01-02 03:04:05.123456+05:30" -> "2024-01-02T03:04:05.123456+05:30" ("+00" -> "Z").
 *  Kept as text: a JS Date would drop microseconds and read timestamp (without time zone) in
 *  the host's zone. infinity, -infinity and BC dates pass through unchanged. */
export function isoTimestamp(text: string): string {
  const m = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d)?(?::?(\d\d))?(?::\d\d)?$/.exec(text);
  if (!m) return text;
  const [, date, time, offH, offM] = m;
  if (offH === undefined) return `${date}T${time}`;
  if (offH === '+00' && (offM === undefined || offM === '00')) return `${date}T${time}Z`;
  return `${date}T${time}${offH}:${offM ?? '00'}`;
}

type Parser = (text: string) => unknown;

function arrayOf(element: Parser): Parser {
  const walk = (v: unknown): unknown => (Array.isArray(v) ? v.map(walk) : v === null ? null : element(v as string));
  return (text) => walk(parseTextArray(text));
}

const identity: Parser = (t) => t;
const json: Parser = (t) => new JsonText(t);

/** OIDs (from pg_type) whose parser we replace. Others keep node-postgres's default. */
const PARSERS = new Map<number, Parser>([
  [20, int8], // int8
  [1016, arrayOf(int8)], // int8[]
  [1231, arrayOf(identity)], // numeric[]: strings, like numeric
  [1082, identity], // date: "2024-01-02"
  [1182, arrayOf(identity)], // date[]
  [1114, isoTimestamp], // timestamp
  [1115, arrayOf(isoTimestamp)], // timestamp[]
  [1184, isoTimestamp], // timestamptz
  [1185, arrayOf(isoTimestamp)], // timestamptz[]
  [1186, identity], // interval: "1 day 02:00:00"
  [1187, arrayOf(identity)], // interval[]
  [600, identity], // point: "(1,2)"
  [718, identity], // circle
  [114, json], // json
  [3802, json], // jsonb
  [199, json], // json[]: a JSON-ish array literal, see toJsonText
  [3807, json], // jsonb[]
]);

/** json[]/jsonb[] arrive as PostgreSQL array text, not JSON: parse the array, then the
 *  elements, and write it back as one JSON document. */
const JSON_ARRAY_OIDS = new Set([199, 3807]);

export const typeParsers: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (format !== 'binary') {
      const p = PARSERS.get(oid);
      if (p) return JSON_ARRAY_OIDS.has(oid) ? jsonArray : p;
    }
    return pg().types.getTypeParser(oid as never, format as 'text');
  }) as CustomTypesConfig['getTypeParser'],
};

function jsonArray(text: string): JsonText {
  const walk = (v: unknown): unknown => (Array.isArray(v) ? v.map(walk) : v === null ? null : JSON.parse(v as string));
  return new JsonText(JSON.stringify(walk(parseTextArray(text))));
}

function hasNull(v: unknown[]): boolean {
  for (const x of v) if (x === null || (Array.isArray(x) && hasNull(x))) return true;
  return false;
}

/** bytea inside an array that goes through JSON: PostgreSQL's own hex text form. */
function replacer(_key: string, v: unknown): unknown {
  if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
    return '\\x' + Buffer.from((v as { data: number[] }).data).toString('hex');
  }
  return v;
}

/** Rows as Lua receives them, plus the flat list {row, column, row, column, ...} of cells that
 *  hold JSON text for the Lua side to decode (empty when there is none: the common case). */
export function shapeRows(rows: Record<string, unknown>[]): { rows: Record<string, unknown>[]; decode: (number | string)[] } {
  const decode: (number | string)[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    for (const key in row) {
      const v = row[key];
      if (v === null || typeof v !== 'object') continue;
      if (v instanceof JsonText) {
        row[key] = v.text;
        decode.push(i + 1, key);
      } else if (Array.isArray(v) && hasNull(v)) {
        row[key] = JSON.stringify(v, replacer);
        decode.push(i + 1, key);
      }
    }
  }
  return { rows, decode };
}
