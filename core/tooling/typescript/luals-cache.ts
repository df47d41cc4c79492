// LuaLS annotations for `redox init`, kept by the content of the declarations and of the
// renderer: rendering loads TypeScript (~0.7 CPU s of a ~1.1 s init), so only the first Lua
// project on a machine, or the first after an upgrade, pays for it. REDOX_COMPILE_CACHE=0 turns
// this off together with the compile cache.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildCacheDir, cachesEnabled } from '../cache-dir';
import { KeyedCache } from '../keyed-cache';
import { packageVersion } from '../catalogue/packages';
import type { MetaFile } from './luals';

export interface DeclarationSource {
  name: string;
  text: string;
  module?: string;
}

const FORMAT = 1;
const MAX_ENTRIES = 20;

const isMetaFiles = (e: unknown): e is MetaFile[] =>
  Array.isArray(e) && e.every((m: MetaFile | null) => typeof m?.name === 'string' && typeof m.text === 'string');

function render(sources: DeclarationSource[]): MetaFile[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./luals') as typeof import('./luals')).renderLuaMeta(sources);
}

/** renderLuaMeta, answered from the cache when the declarations and the renderer are unchanged. */
export function renderLuaMetaCached(sources: DeclarationSource[]): MetaFile[] {
  if (!cachesEnabled()) return render(sources);
  const renderer = path.join(__dirname, `luals${path.extname(__filename)}`);
  const key = crypto.createHash('sha256')
    .update(JSON.stringify({ format: FORMAT, typescript: packageVersion('typescript'), renderer: fs.readFileSync(renderer, 'utf8'), sources }))
    .digest('hex');
  const cache = new KeyedCache(path.join(buildCacheDir(), 'luals'), MAX_ENTRIES, isMetaFiles);
  const hit = cache.read(key);
  if (hit) return hit;
  const rendered = render(sources);
  cache.write(key, rendered);
  return rendered;
}
