// The peers (Express, Fastify, Bun, Deno) live in bench/.peers, installed the first time the
// bench runs, never in the project's dependencies: CI installs stay lean.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

export const PEER_PACKAGES = { express: 'express@5', fastify: 'fastify@5', bun: 'bun', deno: 'deno' } as const;
export type PeerName = keyof typeof PEER_PACKAGES;

export interface Peers {
  /** NODE_PATH for the Node-based peers' server scripts. */
  nodePath: string;
  versions: Partial<Record<PeerName, string>>;
  bun?: string;
  deno?: string;
  /** Why a peer is missing, printed once. */
  notes: string[];
}

const BINARIES: Partial<Record<PeerName, string>> = { bun: 'bun', deno: 'deno' };

export function ensurePeers(benchDir: string, install: boolean, say: (t: string) => void): Peers {
  const prefix = path.join(benchDir, '.peers');
  const modules = path.join(prefix, 'node_modules');
  const notes: string[] = [];
  const missing = () => (Object.keys(PEER_PACKAGES) as PeerName[]).filter((p) => !usable(modules, p));
  if (install && missing().length) {
    fs.mkdirSync(prefix, { recursive: true });
    const pkg = path.join(prefix, 'package.json');
    if (!fs.existsSync(pkg)) fs.writeFileSync(pkg, JSON.stringify({ private: true, description: 'peers for `npm run bench` (not Redox dependencies)' }, null, 2) + '\n');
    say(`installing peers into ${path.relative(process.cwd(), prefix)}: ${missing().map((p) => PEER_PACKAGES[p]).join(' ')}\n`);
    // All at once first (one resolution); then one by one so a single failure skips only that peer.
    if (!npmInstall(prefix, missing().map((p) => PEER_PACKAGES[p])).ok) {
      for (const p of missing()) {
        const r = npmInstall(prefix, [PEER_PACKAGES[p]]);
        if (!r.ok) notes.push(`${p}: \`npm install ${PEER_PACKAGES[p]}\` failed (${r.why}); skipped`);
      }
    }
  }
  for (const p of missing()) if (!notes.some((n) => n.startsWith(p + ':'))) notes.push(`${p}: not installed in bench/.peers${install ? '' : ' (--no-install)'}; skipped`);
  const versions: Peers['versions'] = {};
  for (const p of Object.keys(PEER_PACKAGES) as PeerName[]) if (usable(modules, p)) versions[p] = version(modules, p);
  return {
    nodePath: modules, versions, notes,
    bun: versions.bun ? binary(modules, 'bun') : undefined,
    deno: versions.deno ? binary(modules, 'deno') : undefined,
  };
}

function npmInstall(prefix: string, specs: string[]): { ok: boolean; why: string } {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', ...specs], { encoding: 'utf8' });
  if (r.status === 0) return { ok: true, why: '' };
  const tail = `${r.error?.message ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' / ');
  return { ok: false, why: tail || `exit ${r.status}` };
}

function usable(modules: string, p: PeerName): boolean {
  if (!fs.existsSync(path.join(modules, p, 'package.json'))) return false;
  const bin = BINARIES[p];
  if (!bin) return true;
  // The binary packages download or unpack in a postinstall: check that it really runs.
  const file = binary(modules, bin);
  return file !== undefined && spawnSync(file, ['--version']).status === 0;
}

function binary(modules: string, name: string): string | undefined {
  try {
    // The real file, so the process we measure is the runtime, not a wrapper.
    return fs.realpathSync(path.join(modules, '.bin', name));
  } catch {
    return undefined;
  }
}

function version(modules: string, p: PeerName): string {
  return (JSON.parse(fs.readFileSync(path.join(modules, p, 'package.json'), 'utf8')) as { version: string }).version;
}
