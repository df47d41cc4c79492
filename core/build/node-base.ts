// The base Node binary (--node): checked before anything is built, because it both generates the
// SEA blob and becomes the binary. It must run here, be Node 20.12+ (SEA assets) and carry the
// SEA sentinel fuse, not yet blown.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RedoxError } from '../errors';

export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface BaseNode {
  file: string;
  version: string;
  platform: NodeJS.Platform;
  arch: string;
  bytes: number;
}

const HINT = 'pass --node with an official Node binary (nodejs.org or the node-<os>-<arch> npm packages), v20.12 or later';

function fail(message: string, hint = HINT): never {
  throw new RedoxError('REDOX_BUILD_NODE', message, hint);
}

function probe(file: string): { version: string; platform: NodeJS.Platform; arch: string } | string {
  try {
    const out = execFileSync(file, ['-p', 'JSON.stringify([process.version, process.platform, process.arch, typeof process.versions.v8])'], {
      encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' },
    });
    const [version, platform, arch, v8] = JSON.parse(out.trim()) as string[];
    if (!/^v\d+\.\d+\.\d+/.test(version) || v8 !== 'string') return 'it did not report a Node version';
    return { version, platform: platform as NodeJS.Platform, arch };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'EACCES') return 'it is not executable';
    if (e.code === 'ENOEXEC') return 'it is not a program for this machine';
    return 'running it as node failed' + (e.stderr ? `: ${String(e.stderr).trim().split('\n')[0]}` : '');
  }
}

export function checkBaseNode(given: string): BaseNode {
  const file = path.resolve(given);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    fail(`--node ${given}: no such file`);
  }
  if (!st.isFile()) fail(`--node ${given} is not a file`);
  const info = probe(file);
  const bytes = fs.readFileSync(file);
  const at = bytes.indexOf(SEA_FUSE + ':');
  if (typeof info === 'string') {
    fail(`--node ${given} is not a Node binary (${info})`,
      at >= 0 ? 'the base binary must run on this machine: it also generates the SEA blob' : HINT);
  }
  if (at < 0) fail(`--node ${given} (Node ${info.version}) lacks the SEA fuse ${SEA_FUSE}: it cannot become a single executable`, HINT);
  if (bytes[at + SEA_FUSE.length + 1] === 0x31) fail(`--node ${given} is already a single executable (its SEA fuse is blown)`, 'use a plain Node binary as the base');
  const [major, minor] = info.version.slice(1).split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 12) || (major === 21 && minor < 7)) {
    fail(`--node ${given} is Node ${info.version}; single-executable assets need v20.12+ or v21.7+`);
  }
  return { file, ...info, bytes: st.size };
}
