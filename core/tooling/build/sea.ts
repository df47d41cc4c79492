// Turning a bundle and its assets into a single executable with Node's SEA mechanism: blob from
// the base Node binary itself, then copy (and strip: it must happen before injection, stripping
// an injected binary breaks it), inject (Linux: elf-inject.ts, Windows: pe-inject.ts; macOS, or a
// layout those do not expect, postject), re-sign on macOS.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { RedoxError } from '../../errors';
import { hashFile } from './file-bytes';
import { injectElf } from './elf-inject';
import { injectPe } from './pe-inject';
import { matchesSha256 } from './file-stamp';
import { BaseNode, SEA_FUSE } from './node-base';
import { buildCacheDir } from '../cache-dir';
import { makeDirs } from '../../make-dirs';

const run = promisify(execFile);

export interface SeaConfig {
  main: string;
  output: string;
  assets: Record<string, string>;
}

function injectError(step: string, err: unknown, hint?: string): RedoxError {
  const e = err as { stderr?: string; stdout?: string; message: string };
  const detail = (e.stderr || e.stdout || e.message || String(err)).toString().trim().split('\n').slice(-5).join('\n  ');
  return new RedoxError('REDOX_BUILD_INJECT', `${step} failed:\n  ${detail}`, hint);
}

/** Writes the SEA config and has the base Node generate the blob. No code cache and no
 *  snapshot: both would make every build's bytes differ. */
export async function generateBlob(base: BaseNode, workDir: string, config: SeaConfig): Promise<Buffer> {
  const file = path.join(workDir, 'sea-config.json');
  // The blob records the main script's path as written here: keep it relative to the work dir
  // (the cwd below) so the bytes do not depend on where the build ran.
  const main = path.relative(workDir, config.main).split(path.sep).join('/');
  fs.writeFileSync(file, JSON.stringify({ ...config, main, disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false }, null, 2));
  try {
    await run(base.blobNode, ['--experimental-sea-config', file], { cwd: workDir, env: { ...process.env, NODE_OPTIONS: '' }, maxBuffer: 16 << 20 });
  } catch (err) {
    throw injectError(`${base.blobNode} --experimental-sea-config`, err);
  }
  return fs.readFileSync(config.output);
}

/** Whether this build strips. Only Linux binaries are stripped (with the target CPU's strip):
 *  that is what was measured and tested; macOS re-signs and Windows has no strip step. */
export function stripsOn(base: BaseNode, wanted: boolean): boolean {
  return wanted && base.strip !== null;
}

/** The stripped base in the build cache (stripped/<base sha256>-<strip tool>) and whether it is
 *  there and still matches the checksum recorded beside it. */
function cachedStripped(base: BaseNode): { file: string; sound: boolean } {
  const file = path.join(buildCacheDir(), 'stripped', `${base.sha256}-${path.basename(base.strip!)}`);
  try {
    return { file, sound: matchesSha256(file, fs.readFileSync(file + '.sha256', 'utf8').trim()) };
  } catch {
    return { file, sound: false }; // not cached yet, or unreadable: strip again
  }
}

/** Keeps a stripped base for later builds (stripping is deterministic: same base, same tool, same
 *  bytes). Written beside and renamed, so a concurrent build sees a whole file or none. */
function keepStripped(file: string, stripped: string): void {
  try {
    makeDirs(path.dirname(file));
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp + '.sha256', hashFile(stripped) + '\n');
    fs.copyFileSync(stripped, tmp);
    fs.renameSync(tmp, file);
    fs.renameSync(tmp + '.sha256', file + '.sha256');
  } catch {
    // a cache that cannot be written only costs the next build a strip
  }
}

/** Copies the base to `dest`, stripped of symbols when `strip` (GNU strip writes the copy, or the
 *  build cache's copy of an earlier strip of the same base). */
export async function prepareBase(base: BaseNode, dest: string, strip: boolean): Promise<void> {
  fs.rmSync(dest, { force: true });
  const cached = strip ? cachedStripped(base) : null;
  if (cached?.sound) {
    fs.copyFileSync(cached.file, dest);
  } else if (strip) {
    try {
      await run(base.strip!, ['-o', dest, base.file]);
      keepStripped(cached!.file, dest);
    } catch (err) {
      fs.rmSync(dest, { force: true });
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        const pkg = base.strip === 'strip' ? 'binutils' : `binutils-${base.strip!.replace(/-strip$/, '')}`;
        throw new RedoxError('REDOX_BUILD_INJECT', `${base.strip} was not found on PATH`, `install ${pkg} (apt-get install ${pkg}) or build with --no-strip (about 12 MB larger)`);
      }
      throw injectError('strip', err, 'build with --no-strip to skip stripping');
    }
  } else {
    fs.copyFileSync(base.file, dest);
  }
  fs.chmodSync(dest, 0o755);
  if (base.platform === 'darwin') {
    try {
      await run('codesign', ['--remove-signature', dest]);
    } catch (err) {
      throw injectError('codesign --remove-signature', err, 'the macOS build needs Xcode command line tools (codesign)');
    }
  }
}

/** Injects the blob (in memory, and as `blobFile` for postject) into `dest`. */
export async function injectBlob(base: BaseNode, dest: string, blob: Buffer, blobFile: string): Promise<void> {
  if (base.platform === 'linux' && injectElf(dest, blob, SEA_FUSE)) return;
  if (base.platform === 'win32' && injectPe(dest, blob, SEA_FUSE)) return;
  const postject = path.join(path.dirname(require.resolve('postject/package.json')), 'dist', 'cli.js');
  const args = [postject, dest, 'NODE_SEA_BLOB', blobFile, '--sentinel-fuse', SEA_FUSE, '--overwrite'];
  if (base.platform === 'darwin') args.push('--macho-segment-name', 'NODE_SEA');
  try {
    // A child process: postject holds the whole binary in wasm memory (several hundred MB).
    const { stdout } = await run(process.execPath, args, { maxBuffer: 16 << 20 });
    if (/Error:/.test(stdout)) throw Object.assign(new Error(stdout), { stdout });
  } catch (err) {
    throw injectError('postject', err);
  }
  if (base.platform === 'darwin') {
    try {
      await run('codesign', ['--sign', '-', dest]);
    } catch (err) {
      throw injectError('codesign --sign -', err);
    }
  }
}
