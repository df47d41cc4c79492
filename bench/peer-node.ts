// The Node that runs the node:http peers. A Redox binary carries its own Node (26 by default),
// so comparing it with node:http on the Node running the bench (20 here) would mix the two
// runtimes' speed into the ratio: the peers run on the binary's Node when the build cache
// (~/.cache/redox) holds it, with the better-sqlite3 addon compiled for that Node.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildCacheDir as cacheDir } from '../core/tooling/cache-dir';

export interface PeerNode {
  /** The node executable for node:http peers. */
  node: string;
  version: string;
  /** better-sqlite3's compiled addon for that Node (undefined: the installed one fits it). */
  sqliteAddon?: string;
  /** Why the peers run on another Node than the binary's, if they do. */
  note?: string;
}


const self = (note?: string): PeerNode => ({ node: process.execPath, version: process.version, note });

/** The Node a binary was built on, from `<binary> version --json`, found in the build cache. */
export function peerNodeFor(binary: string | undefined): PeerNode {
  if (!binary) return self();
  const r = spawnSync(binary, ['version', '--json'], { encoding: 'utf8' });
  let info: { node?: string; platform?: string; arch?: string; packages?: Record<string, string> };
  try {
    info = JSON.parse(r.stdout);
  } catch {
    return self(`could not ask ${binary} for its Node version; node:http peers run on ${process.version}`);
  }
  if (!info.node || info.node === process.version) return self();
  const dir = path.join(cacheDir(), 'node', `node-${info.platform === 'win32' ? 'win' : info.platform}-${info.arch}-${info.node.slice(1)}`);
  const node = path.join(dir, process.platform === 'win32' ? 'node.exe' : path.join('bin', 'node'));
  if (!fs.existsSync(node)) return self(`the binary runs Node ${info.node}, not found in ${dir}; node:http peers run on ${process.version}`);
  const abi = spawnSync(node, ['-p', 'process.versions.modules'], { encoding: 'utf8' }).stdout.trim();
  const sqlite = info.packages?.['better-sqlite3'];
  const addon = sqlite && path.join(cacheDir(), 'addons', `better-sqlite3@${sqlite}`, `${info.platform}-${info.arch}-abi${abi}`, 'better_sqlite3.node');
  return { node, version: info.node, sqliteAddon: addon && fs.existsSync(addon) ? addon : undefined };
}
