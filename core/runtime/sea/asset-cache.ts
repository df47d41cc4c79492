// Inside a binary, the Lua wasm and native addons must be real files (wasmoon reads a path,
// dlopen needs one), so they are extracted once into a content-addressed cache folder. Each file
// is written under a temporary name, flushed and renamed into place: a process never sees half
// a file, even when several start at once.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RedoxError } from '../../errors';
import { EmbeddedAsset } from './embedded';
import { makeDirs } from '../../make-dirs';

function userTag(): string {
  if (typeof process.getuid === 'function') return String(process.getuid());
  try {
    return os.userInfo().username.replace(/[^\w.-]/g, '_');
  } catch {
    return 'user';
  }
}

/** REDOX_CACHE_DIR, else a per-user folder under the OS temp dir. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): { dir: string; explicit: boolean } {
  if (env.REDOX_CACHE_DIR) return { dir: path.resolve(env.REDOX_CACHE_DIR), explicit: true };
  return { dir: path.join(os.tmpdir(), `redox-cache-${userTag()}`), explicit: false };
}

function cacheError(dir: string, why: string): RedoxError {
  return new RedoxError('REDOX_ASSET_CACHE', `cannot use the asset cache folder ${dir}: ${why}`,
    'set REDOX_CACHE_DIR to a folder this user can write (it is created if missing)');
}

/** Creates the folder. The default one lives in a shared temp dir, so it must be ours and
 *  private: otherwise another user could plant a native addon we would load. */
function prepare(dir: string, explicit: boolean): void {
  try {
    makeDirs(dir, 0o700);
  } catch (err) {
    throw cacheError(dir, (err as Error).message);
  }
  if (explicit || typeof process.getuid !== 'function') return;
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw cacheError(dir, 'it is not a directory');
  if (st.uid !== process.getuid()) throw cacheError(dir, `it belongs to another user (uid ${st.uid})`);
  if (st.mode & 0o022) throw cacheError(dir, 'other users can write to it');
}

export class AssetCache {
  private ready = false;
  private readonly files = new Map<string, string>();

  constructor(
    private readonly location: { dir: string; explicit: boolean },
    private readonly read: (key: string) => Buffer,
  ) {}

  /** The path of the extracted asset `key`, saved as `<hash>-<fileName>`. */
  file(key: string, fileName: string, info: EmbeddedAsset): string {
    const known = this.files.get(key);
    if (known) return known;
    const { dir, explicit } = this.location;
    if (!this.ready) {
      prepare(dir, explicit);
      this.ready = true;
    }
    const target = path.join(dir, `${info.sha256.slice(0, 32)}-${fileName}`);
    // Content-addressed: a file of the right size under this name was written by a build with
    // the same bytes, and only ever appears complete (rename is atomic).
    if (!sizeIs(target, info.bytes)) write(dir, target, this.read(key), info);
    this.files.set(key, target);
    return target;
  }
}

function sizeIs(file: string, bytes: number): boolean {
  try {
    const st = fs.statSync(file);
    return st.isFile() && st.size === bytes;
  } catch {
    return false;
  }
}

function write(dir: string, target: string, bytes: Buffer, info: EmbeddedAsset): void {
  if (bytes.length !== info.bytes) throw new Error(`embedded asset for ${path.basename(target)} has ${bytes.length} bytes, the manifest says ${info.bytes}`);
  const tmp = `${target}.${process.pid}-${crypto.randomBytes(6).toString('hex')}.tmp`;
  try {
    const fd = fs.openSync(tmp, 'wx', 0o644);
    try {
      fs.writeSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    // Windows refuses to replace a file another process has loaded; that file is complete.
    if (sizeIs(target, info.bytes)) return;
    throw cacheError(dir, (err as Error).message);
  }
}
