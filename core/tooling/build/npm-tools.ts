// npm and node-gyp as the build machine has them: npm's own CLI script run by the Node running
// redox (no shell, so it works the same on Windows), and the node-gyp npm bundles.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { RedoxError } from '../../errors';

const exec = promisify(execFile);

function npmDir(): string | null {
  const bin = path.dirname(process.execPath);
  const candidates = [
    process.env.npm_execpath ? path.resolve(path.dirname(process.env.npm_execpath), '..') : '',
    path.join(bin, '..', 'lib', 'node_modules', 'npm'),
    path.join(bin, 'node_modules', 'npm'),
  ].filter(Boolean);
  return candidates.find((d) => fs.existsSync(path.join(d, 'bin', 'npm-cli.js'))) ?? null;
}

export interface NpmFailure {
  /** The registry could not be reached (as opposed to answering with an error). */
  offline: boolean;
  notFound: boolean;
  detail: string;
}

const NETWORK = /ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH|network|socket hang up|request to .* failed/i;

/** Runs npm; resolves with stdout or rejects with an NpmFailure. Few retries: an offline build
 *  should fail (or fall back to the cache) in seconds, not after npm's minute of backoff. */
export async function npm(args: string[], cwd: string, timeoutMs = 300_000): Promise<string> {
  const dir = npmDir();
  const [cmd, pre] = dir ? [process.execPath, [path.join(dir, 'bin', 'npm-cli.js')]] : ['npm', []];
  try {
    const { stdout } = await exec(cmd, [...pre, ...args, '--fetch-retries=1', '--fetch-retry-mintimeout=1000', '--fetch-retry-maxtimeout=3000', '--no-update-notifier', '--loglevel=error'],
      { cwd, timeout: timeoutMs, maxBuffer: 64 << 20, env: { ...process.env, NODE_OPTIONS: '' }, shell: !dir && process.platform === 'win32' });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string; code?: string | number };
    const text = `${e.stderr ?? ''}\n${e.message}`;
    const detail = text.split('\n').map((l) => l.replace(/^npm error /, '').trim()).filter((l) => l && !/^(Command failed|A complete log)/.test(l)).slice(0, 3).join('; ');
    const failure: NpmFailure = { offline: NETWORK.test(text), notFound: /E404|404 Not Found|No match found/i.test(text), detail: detail || String(e.code) };
    throw failure;
  }
}

export const isNpmFailure = (e: unknown): e is NpmFailure => typeof e === 'object' && e !== null && 'offline' in e && 'detail' in e;

/** node-gyp's CLI script: npm's bundled copy, or a node-gyp installed beside redox. */
export function nodeGypScript(): string {
  const dir = npmDir();
  const bundled = dir && path.join(dir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (bundled && fs.existsSync(bundled)) return bundled;
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    throw new RedoxError('REDOX_BUILD_ADDON', 'node-gyp was not found (neither bundled with npm nor installed)', 'install it: npm install -g node-gyp');
  }
}
