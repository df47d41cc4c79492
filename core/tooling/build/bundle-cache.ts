// A bundle is used again while everything esbuild read for it is unchanged, so building the same
// features again (after editing the app, which is an asset and not bundled, or for another
// binary of the same distro) skips esbuild: about half a second and a process. Entries live in
// `<build cache>/bundles/`, keyed by the entry source, the bundler's own code and version and
// the installed packages; a hit is used only if every input file still has the content recorded.
// REDOX_COMPILE_CACHE=0 turns it off, with the other caches.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Metafile } from 'esbuild';
import { buildCacheDir, cachesEnabled } from '../cache-dir';
import { KeyedCache } from '../keyed-cache';
import { packageVersion } from '../catalogue/packages';
import { Bundle, bundleEntry } from './bundle';
import { ENTRY_FILE } from './entry';
import { hashFile } from './file-bytes';

const FORMAT = 1;
const MAX_ENTRIES = 50;

interface CachedBundle {
  /** Each file esbuild read (relative to the root), with the sha256 of its content. */
  inputs: Record<string, string>;
  code: string;
  metafile: Metafile;
}

const isCachedBundle = (e: unknown): e is CachedBundle => {
  const c = e as CachedBundle | null;
  return typeof c?.code === 'string' && typeof c.inputs === 'object' && c.inputs !== null && typeof c.metafile?.inputs === 'object';
};

function readOrEmpty(file: string): Buffer | string {
  try {
    return fs.readFileSync(file);
  } catch {
    return '';
  }
}

function bundleKey(root: string, entrySource: string): string {
  const hash = crypto.createHash('sha256').update(`${FORMAT}\0${root}\0${packageVersion('esbuild')}\0`);
  // The options and plugins are code: a changed bundler is a different key.
  for (const file of [require.resolve('./bundle'), require.resolve('./optional-requires')]) hash.update(readOrEmpty(file)).update('\0');
  // npm's record of the installed tree: a package added or removed can change what resolves.
  hash.update(readOrEmpty(path.join(root, 'node_modules', '.package-lock.json'))).update('\0');
  return hash.update(entrySource).digest('hex');
}

function unchanged(root: string, inputs: Record<string, string>): boolean {
  try {
    return Object.entries(inputs).every(([file, digest]) => hashFile(path.resolve(root, file)) === digest);
  } catch {
    return false; // an input is gone
  }
}

/** bundleEntry, answered from the cache when nothing it read has changed. */
export async function bundleEntryCached(root: string, entrySource: string): Promise<Bundle & { cached: boolean }> {
  if (!cachesEnabled()) return { ...(await bundleEntry(root, entrySource)), cached: false };
  const cache = new KeyedCache(path.join(buildCacheDir(), 'bundles'), MAX_ENTRIES, isCachedBundle);
  const key = bundleKey(root, entrySource);
  const hit = cache.read(key);
  if (hit && unchanged(root, hit.inputs)) return { code: Buffer.from(hit.code, 'utf8'), metafile: hit.metafile, cached: true };
  const bundle = await bundleEntry(root, entrySource);
  const inputs: Record<string, string> = {};
  for (const file of Object.keys(bundle.metafile.inputs)) {
    // The entry itself comes from stdin (it is part of the key); plugin namespaces are not files.
    if (file === ENTRY_FILE || /^[\w-]+:/.test(file)) continue;
    try {
      inputs[file] = hashFile(path.resolve(root, file));
    } catch {
      return { ...bundle, cached: false }; // an input that cannot be read again: keep nothing
    }
  }
  const code = bundle.code.toString('utf8');
  // Kept only if the text survives the round trip (esbuild writes ASCII by default).
  if (Buffer.from(code, 'utf8').equals(bundle.code)) cache.write(key, { inputs, code, metafile: bundle.metafile });
  return { ...bundle, cached: false };
}
