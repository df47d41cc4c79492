// Keeps SQLite's files inside the data folder (ctx.dataDir): sqlite.open paths, and the file
// names of ATTACH and VACUUM INTO, resolve inside it and may not leave it. better-sqlite3 has no
// authorizer hook (and no sqlite3_limit for SQLITE_LIMIT_ATTACHED), so statements are read before
// they are prepared: a small SQLite tokenizer finds each statement's first keyword. ATTACH and
// VACUUM cannot appear anywhere but at the start of a statement (not in triggers, views or
// CTEs), so that is where they are looked for. Their file name must be a string literal (a bound
// parameter could not be checked); it is rewritten to the resolved absolute path, so relative
// names mean "in the data folder" whatever the process's working directory. PRAGMA
// writable_schema, which lets SQL rewrite sqlite_schema, is refused outright.
import fs from 'node:fs';
import path from 'node:path';

export class SqlRefused extends Error {}

interface Token {
  text: string;
  start: number;
  end: number;
  kind: 'word' | 'string' | 'other' | 'semicolon';
}

/** SQLite's lexical rules, enough to tell keywords and string literals from everything else. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') { i++; continue; }
    if (c === '-' && sql[i + 1] === '-') { const e = sql.indexOf('\n', i); i = e < 0 ? n : e + 1; continue; }
    if (c === '/' && sql[i + 1] === '*') { const e = sql.indexOf('*/', i + 2); i = e < 0 ? n : e + 2; continue; }
    const start = i;
    if (c === "'" || c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c;
      i++;
      for (;;) {
        const e = sql.indexOf(close, i);
        if (e < 0) { i = n; break; }
        if (close !== ']' && sql[e + 1] === close) { i = e + 2; continue; }
        i = e + 1;
        break;
      }
      // A quoted identifier is not a keyword: only '...' is a string.
      tokens.push({ text: sql.slice(start, i), start, end: i, kind: c === "'" ? 'string' : 'other' });
      continue;
    }
    if (c === ';') { tokens.push({ text: ';', start, end: ++i, kind: 'semicolon' }); continue; }
    if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      while (i < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[i])) i++;
      // x'...' is a blob literal, not the word x nor a string.
      if ((c === 'x' || c === 'X') && i === start + 1 && sql[i] === "'") {
        const e = sql.indexOf("'", i + 1);
        i = e < 0 ? n : e + 1;
        tokens.push({ text: sql.slice(start, i), start, end: i, kind: 'other' });
        continue;
      }
      tokens.push({ text: sql.slice(start, i), start, end: i, kind: 'word' });
      continue;
    }
    i++;
    tokens.push({ text: c, start, end: i, kind: 'other' });
  }
  return tokens;
}

function unquote(literal: string): string {
  return literal.slice(1, -1).replace(/''/g, "'");
}

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;

export interface Confinement {
  /** The file sqlite.open should open (":memory:" and "" unchanged). */
  openPath(file: string, op: string): string;
  /** The SQL to prepare: refused (SqlRefused) or with ATTACH/VACUUM INTO file names resolved. */
  checkSql(sql: string, op: string): string;
}

export function confinement(dataDir: string, anyPath: boolean): Confinement {
  const root = dataDir;
  const hint = `the data folder is ${root} (set it with --data-dir or REDOX_DATA_DIR; --sqlite-any-path or REDOX_SQLITE_ANY_PATH=1 lifts the restriction)`;
  const resolve = (file: string, op: string): string => {
    if (file === '' || file === ':memory:') return file;
    const abs = path.resolve(root, file);
    if (anyPath) return abs;
    // The nearest existing ancestor's real path: a symlinked folder cannot lead outside.
    let probe = abs;
    const rest: string[] = [];
    while (!fs.existsSync(probe) && path.dirname(probe) !== probe) {
      rest.unshift(path.basename(probe));
      probe = path.dirname(probe);
    }
    const real = path.join(fs.realpathSync(probe), ...rest);
    const rel = path.relative(root, real);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new SqlRefused(`${op}: ${file} is outside the data folder; ${hint}`);
    }
    return real;
  };

  return {
    openPath: resolve,
    checkSql(sql, op) {
      const tokens = tokenize(sql);
      const edits: { start: number; end: number; text: string }[] = [];
      let first = 0;
      for (let i = 0; i <= tokens.length; i++) {
        if (i < tokens.length && tokens[i].kind !== 'semicolon') continue;
        const stmt = tokens.slice(first, i);
        first = i + 1;
        // Quoted forms ("writable_schema", 'writable_schema') name the pragma too.
        if (stmt.some((t) => t.text.replace(/^["'`[]|["'`\]]$/g, '').toLowerCase() === 'writable_schema')) {
          throw new SqlRefused(`${op}: PRAGMA writable_schema is not allowed (it lets SQL rewrite the schema table and corrupt the file)`);
        }
        let k = 0;
        const word = (j: number) => (stmt[j]?.kind === 'word' ? stmt[j].text.toLowerCase() : '');
        // EXPLAIN [QUERY PLAN] runs nothing, but is checked like the statement it explains.
        if (word(k) === 'explain') k += word(k + 1) === 'query' ? 3 : 1;
        let file: Token | undefined;
        let what = '';
        if (word(k) === 'attach') {
          what = 'ATTACH';
          file = stmt[word(k + 1) === 'database' ? k + 2 : k + 1];
        } else if (word(k) === 'vacuum') {
          const into = stmt.findIndex((t, j) => j > k && t.kind === 'word' && t.text.toLowerCase() === 'into');
          if (into < 0) continue;
          what = 'VACUUM INTO';
          file = stmt[into + 1];
        } else {
          continue;
        }
        if (anyPath) continue;
        const next = stmt[stmt.indexOf(file!) + 1];
        const single = what === 'ATTACH' ? next && next.kind === 'word' && next.text.toLowerCase() === 'as' : next === undefined;
        if (!file || file.kind !== 'string' || !single) {
          throw new SqlRefused(`${op}: ${what} takes the file name as one string literal here (a parameter or expression cannot be checked against the data folder); ${hint}`);
        }
        const name = unquote(file.text);
        edits.push({ start: file.start, end: file.end, text: quote(resolve(name, `${op}: ${what}`)) });
      }
      let out = sql;
      for (const e of edits.reverse()) out = out.slice(0, e.start) + e.text + out.slice(e.end);
      return out;
    },
  };
}
