// How the bench runs Redox: a binary from `redox build` (built once into bench/.dist and reused
// while its inputs are unchanged), or the development CLI when building is not possible.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ServerSpec } from './server';

const DISTROS: Record<string, string[]> = { web: ['requests', 'sqlite', 'uuid'], full: ['cache', 'crypto', 'requests', 'sqlite', 'uuid'] };
/** What decides the bytes of a binary; a change to any of them means a rebuild. */
const INPUTS = ['cli', 'core', 'features', 'distros', 'features.json', 'package.json', 'package-lock.json'];

export interface Redox {
  kind: 'binary' | 'cli';
  /** One line for the report: what ran, and why. */
  describe: string;
  /** The web binary, when Redox runs as binaries. */
  webBinary?: string;
  /** A server serving `app` with these features and extra `serve` flags. */
  serve(app: string, features: string[], flags?: string[], env?: Record<string, string>): ServerSpec;
}

export function prepareRedox(root: string, needFull: boolean, say: (t: string) => void): Redox {
  const cli = path.join(root, 'build', 'cli', 'main.js');
  const hasBuild = spawnSync(process.execPath, [cli, 'build', '--help'], { encoding: 'utf8' }).status === 0;
  const viaCli = (why: string): Redox => ({
    kind: 'cli', describe: `CLI \`node build/cli/main.js serve\` (${why})`,
    serve: (app, features, flags = [], env = {}) => ({ cmd: process.execPath, args: [cli, 'serve', app, '--features', features.join(','), ...flags], env }),
  });
  if (!hasBuild) return viaCli('`redox build` is not available');
  const binaries: Record<string, string> = {};
  for (const distro of needFull ? ['web', 'full'] : ['web']) {
    const r = buildOnce(root, cli, distro, say);
    if ('error' in r) {
      say(`note: building the ${distro} binary failed, so Redox runs through the CLI:\n${r.error}\n`);
      return viaCli(`the ${distro} build failed`);
    }
    binaries[distro] = r.binary;
  }
  return {
    kind: 'binary', describe: `binaries from \`redox build\` in bench/.dist (${Object.keys(binaries).join(', ')})`, webBinary: binaries.web,
    serve: (app, features, flags = [], env = {}) => {
      const distro = features.every((f) => DISTROS.web.includes(f)) ? 'web' : 'full';
      if (!binaries[distro]) throw new Error(`the bench did not build the ${distro} binary that ${app} needs (features: ${features.join(', ')})`);
      return { cmd: binaries[distro], args: ['serve', app, ...flags], env };
    },
  };
}

function buildOnce(root: string, cli: string, distro: string, say: (t: string) => void): { binary: string } | { error: string } {
  const out = path.join(root, 'bench', '.dist', distro);
  const binary = path.join(out, `redox-${distro}${process.platform === 'win32' ? '.exe' : ''}`);
  const stamp = path.join(out, 'inputs.sha256');
  const digest = inputsDigest(root);
  if (fs.existsSync(binary) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === digest) return { binary };
  say(`building the ${distro} binary into bench/.dist/${distro} (inputs changed or first run)...\n`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [cli, 'build', '--distro', distro, '--out', out], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0 || !fs.existsSync(binary)) return { error: `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').slice(-8).join('\n') };
  fs.writeFileSync(stamp, digest);
  say(`  built in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return { binary };
}

function inputsDigest(root: string): string {
  const hash = crypto.createHash('sha256').update(`${process.execPath}\0${process.version}\0`);
  const visit = (rel: string) => {
    const abs = path.join(root, rel);
    if (!fs.existsSync(abs)) return;
    if (fs.statSync(abs).isDirectory()) {
      for (const e of fs.readdirSync(abs).sort()) if (e !== 'node_modules' && !e.endsWith('.test.ts')) visit(path.join(rel, e));
      return;
    }
    hash.update(`${rel}\0`).update(fs.readFileSync(abs)).update('\0');
  };
  INPUTS.forEach(visit);
  return hash.digest('hex');
}
