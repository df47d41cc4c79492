// The one Lua file a TypeScript app compiles to: each module kept as its own chunk (loaded from
// a long string with its TypeScript file as chunk name, so errors say "lib/util.ts:12"), made
// available to `require`, then the main module run and its default export returned.

export interface LuaModule {
  /** The name `require` uses ("lib.util"). */
  name: string;
  /** The chunk name errors show: the TypeScript file ("lib/util.ts") or "[lualib]". */
  chunkName: string;
  source: string;
}

/** A long bracket whose level does not occur in the text. */
function longString(text: string): string {
  let level = 1;
  while (text.includes(']' + '='.repeat(level) + ']')) level++;
  const eq = '='.repeat(level);
  // A newline right after the opening bracket is skipped by Lua, so line 1 stays line 1.
  return `[${eq}[\n${text}]${eq}]`;
}

function chunkLabel(chunkName: string): string {
  return chunkName.startsWith('[') ? `=${chunkName}` : `@${chunkName}`;
}

export function renderBundle(opts: { header: string; modules: LuaModule[]; main: LuaModule }): string {
  const lines = [
    ...opts.header.split('\n').map((l) => `-- ${l}`.trimEnd()),
    'local preload = package.preload',
  ];
  for (const m of opts.modules) {
    lines.push(`preload[${JSON.stringify(m.name)}] = assert(load(${longString(m.source)}, ${JSON.stringify(chunkLabel(m.chunkName))}))`);
  }
  lines.push(
    `local main = assert(load(${longString(opts.main.source)}, ${JSON.stringify(chunkLabel(opts.main.chunkName))}))`,
    // An exported default is the app; a module without exports leaves the routes registered
    // with get()/post()/... globals; named exports are chosen with app.ts:name.
    'local exports = main(...)',
    'if type(exports) == "table" and getmetatable(exports) == nil then',
    '  if exports.default ~= nil then return exports.default end',
    '  if next(exports) == nil then return nil end',
    'end',
    'return exports',
    '',
  );
  return lines.join('\n');
}
