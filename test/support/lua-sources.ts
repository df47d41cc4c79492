// Every Lua source in the repository, with where each of its lines lives: the constants of
// *.lua.ts files, Lua strings in other TypeScript marked with a /* lua */ comment, .lua files,
// and the ```lua examples of READMEs and docs. Used by test/lua-lint.test.ts.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface LuaSource {
  /** Path luacheck sees (relative, ends in .lua); .luacheckrc's `files` patterns match it. */
  name: string;
  text: string;
  /** The file holding it, relative to the root. */
  file: string;
  /** Line of `file` holding the source's line 1, and the column its line 1 starts at (1-based). */
  line: number;
  column: number;
}

const SKIP = new Set(['node_modules', 'build', 'dist', '.git']);

function walk(root: string, dir = root, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(root, p, out);
    else out.push(path.relative(root, p).split(path.sep).join('/'));
  }
  return out;
}

/** The repository's files: in a git checkout, the tracked ones, and new ones in the folders it
 *  has (a source added under features/ but not yet committed). Left out: files at the top and
 *  new top-level folders, such as the README's `app.lua` written in a clone or a project made
 *  there by `redox init`, which are the user's, not the repository's. Elsewhere (no git, or a
 *  folder git tracks nothing of), every file. */
export function repositoryFiles(root: string): string[] {
  const git = (...args: string[]) => execFileSync('git', ['ls-files', '-z', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] })
    .toString().split('\0').filter(Boolean);
  let tracked: string[];
  let untracked: string[];
  try {
    tracked = git();
    untracked = git('--others', '--exclude-standard');
  } catch {
    return walk(root);
  }
  if (tracked.length === 0) return walk(root); // a copy inside some other repository, say
  const folders = new Set(tracked.filter((f) => f.includes('/')).map((f) => f.split('/')[0]));
  const files = [...tracked, ...untracked.filter((f) => f.includes('/') && folders.has(f.split('/')[0]))];
  return files.filter((f) => !f.split('/').some((part) => SKIP.has(part)) && fs.existsSync(path.join(root, f))).sort();
}

/** 1-based line and column of `index` in `text`. */
function position(text: string, index: number): { line: number; column: number } {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  return { line, column: index - before.lastIndexOf('\n') };
}

/** The Lua text of a template literal body: each ${...} becomes empty (it is filled in at run
 *  time; the Lua around it must stand without it). Line numbers are kept. */
function templateText(body: string): string {
  return body.replace(/\$\{[^}]*\}/g, '');
}

/** Where a template literal that starts at `open` (the backtick) ends. */
function templateEnd(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '`') return i;
  }
  throw new Error(`unterminated template literal at offset ${open}`);
}

/** `export const NAME = String.raw\`...\`` constants; a constant glued from several literals
 *  (to hold a backtick) is read from the compiled module, its lines counted from the first. */
function luaTsSources(root: string, file: string): LuaSource[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const compiled = require(path.join(root, 'build', file.replace(/\.ts$/, '.js'))) as Record<string, unknown>;
  const out: LuaSource[] = [];
  const re = /export const (\w+)\s*=\s*String\.raw`/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const value = compiled[m[1]];
    if (typeof value !== 'string') continue;
    const start = m.index + m[0].length;
    const { line, column } = position(text, start);
    out.push({ name: `${file.replace(/\.lua\.ts$/, '')}/${m[1]}.lua`, text: value, file, line, column });
  }
  return out;
}

/** Strings preceded by a /* lua *\/ comment: '...', "..." or a template literal. */
function markedSources(root: string, file: string): LuaSource[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const out: LuaSource[] = [];
  const re = /\/\* lua \*\/\s*(String\.raw)?([`'"])/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const open = m.index + m[0].length - 1;
    let lua: string;
    if (m[2] === '`') {
      const body = text.slice(open + 1, templateEnd(text, open));
      lua = templateText(m[1] ? body : body.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)));
    } else {
      const literal = new RegExp(`${m[2]}(?:[^${m[2]}\\\\\\n]|\\\\.)*${m[2]}`, 'y');
      literal.lastIndex = open;
      // Our own source: evaluating the literal decodes its escapes exactly.
      lua = new Function(`return ${literal.exec(text)![0]}`)() as string;
    }
    const { line, column } = position(text, open + 1);
    out.push({ name: `${file}/${line}.lua`, text: lua, file, line, column });
  }
  return out;
}

/** ```lua blocks of a Markdown file. */
function markdownSources(root: string, file: string): LuaSource[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const out: LuaSource[] = [];
  const re = /^```lua\n([\s\S]*?)^```/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const { line } = position(text, m.index);
    out.push({ name: `${file.replace(/\.md$/, '')}/${line + 1}.lua`, text: m[1], file, line: line + 1, column: 1 });
  }
  return out;
}

export function luaSources(root: string, opts: { markdown?: boolean } = {}): LuaSource[] {
  const out: LuaSource[] = [];
  for (const file of repositoryFiles(root)) {
    if (file.endsWith('.lua.ts')) out.push(...luaTsSources(root, file));
    else if (file.endsWith('.ts') && !file.endsWith('.d.ts')) out.push(...markedSources(root, file));
    else if (file.endsWith('.lua')) {
      out.push({ name: file, text: fs.readFileSync(path.join(root, file), 'utf8'), file, line: 1, column: 1 });
    } else if (opts.markdown && file.endsWith('.md')) out.push(...markdownSources(root, file));
  }
  return out;
}
