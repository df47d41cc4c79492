// `redox build` and `redox matrix`: parse flags, run the pipeline in core/tooling/build, print progress
// (stderr) and the size report or the manifests (stdout). Development CLI only: never bundled.
import path from 'node:path';
import { Command } from 'commander';
import { Catalogue } from '../core/tooling/catalogue/catalogue';
import { projectRoot } from '../core/tooling/catalogue/packages';
import { listFlag, selectionOptions, selectionValues } from './options';
import type { BuildEvent, BuildResult } from '../core/tooling/build/pipeline';
import type * as Pipeline from '../core/tooling/build/pipeline';
import { formatBytes } from '../core/tooling/build/sizes';
import { DEFAULT_MAJOR, SUPPORTED_MAJORS } from '../core/tooling/build/node-versions';
import { parseTarget, TARGET_NAMES } from '../core/tooling/build/targets';
import { RedoxError } from '../core/errors';

interface BuildFlags {
  features?: string[]; distro?: string; allDistros?: boolean; app?: string; static?: string; out: string; name?: string;
  node?: string; nodeVersion?: string; target?: string; strip: boolean; with: string[]; budget?: string; json?: boolean; image?: string | true;
}

/** Each step with its time: rewritten in place on a terminal, one plain line per step otherwise.
 *  Several binaries build side by side, so the in-place line is shown for a single one only. */
export function progressPrinter(write: (t: string) => void, tty: boolean): (e: BuildEvent) => void {
  let live = tty;
  return (e) => {
    if (e.kind === 'plan') {
      live = tty && e.targets.length === 1;
      write(`building ${e.targets.map((t) => t.name).join(', ')} into ${e.outDir} (base ${e.node})\n`);
    } else if (e.kind === 'begin') { if (live) write(`  ${e.target}  ${e.step} ...`); }
    else if (e.kind === 'end') write(`${tty ? '\r\x1b[K  ' : ''}${e.target}  ${e.step.padEnd(6)} ${String(e.ms).padStart(6)} ms${e.detail ? `  ${e.detail}` : ''}\n`);
    else if (e.kind === 'skip') write(`${tty ? '  ' : ''}${e.target}  ${e.step} skipped: ${e.why}\n`);
    else if (e.kind === 'note') write(`${tty ? '\r\x1b[K' : ''}  ${e.message}\n`);
    else write(`built ${e.target}: ${formatBytes(e.manifest.bytes)} in ${(e.ms / 1000).toFixed(1)} s\n`);
  };
}

export function renderBuildReport(result: BuildResult, cwd: string): string {
  const lines: string[] = [];
  for (const m of result.manifests) {
    const entry = result.report.binaries.find((b) => b.name === m.file)!;
    const extra = [
      `${signed(entry.deltaVsNode)} vs node ${m.node.version}`,
      `redox adds ${formatBytes(entry.added)}`,
      entry.deltaVsMinimal !== null && m.distro !== 'minimal' ? `${signed(entry.deltaVsMinimal)} vs minimal` : '',
      m.budget ? `budget ${m.budget.text} ok` : '',
    ].filter(Boolean).join(', ');
    lines.push(`${path.relative(cwd, path.join(result.outDir, m.file)) || m.file}  ${formatBytes(m.bytes)}  (${extra})`);
    const parts: [string, number, string][] = [['core', m.sizes.core.js + m.sizes.core.assets, `js ${formatBytes(m.sizes.core.js)}, assets ${formatBytes(m.sizes.core.assets)}`]];
    for (const [name, c] of Object.entries(m.sizes.features)) parts.push([name, c.total, c.assets ? `js ${formatBytes(c.js)}, assets ${formatBytes(c.assets)}` : 'js']);
    if (m.sizes.shared) parts.push(['(shared)', m.sizes.shared, 'js used by several features']);
    const width = Math.max(...parts.map((p) => p[0].length));
    for (const [name, bytes, how] of parts) lines.push(`  ${name.padEnd(width)}  ${formatBytes(bytes).padStart(10)}  ${how}`);
  }
  const rel = (f: string) => path.relative(cwd, path.join(result.outDir, f)) || f;
  for (const img of result.images) {
    lines.push(img.tool
      ? `image ${img.tag}: ${img.bytes === null ? 'size unknown' : formatBytes(img.bytes)} (${img.tool}, FROM scratch; ${path.relative(cwd, img.containerfile)})`
      : `image not built: neither podman nor docker is on PATH. ${path.relative(cwd, img.containerfile)} is written; build it with:\n  ${img.buildCommand}`);
  }
  lines.push(`reports: ${rel('sizes.md')}, ${rel('sizes.json')}, ${rel('SHA256SUMS')}`);
  return lines.join('\n') + '\n';
}

/** --image takes an optional NAME:TAG; anything else is a usage error. */
function imageTag(value: string | true | undefined): string | true | undefined {
  if (value === undefined || value === true) return value;
  if (!/^[a-z0-9][a-z0-9._\/-]*(:[\w][\w.-]{0,127})?$/.test(value)) {
    throw new RedoxError('REDOX_USAGE', `--image ${JSON.stringify(value)} is not an image name`,
      'use lower-case NAME or NAME:TAG, e.g. --image shop/orders:1.4');
  }
  return value;
}

const signed = (n: number) => (n > 0 ? '+' : '') + formatBytes(n);

export function addBuildCommands(program: Command, catalogue: () => Catalogue, print: (text: string) => void): void {
  const buildCommand = program.command('build')
    .description('build single-executable binaries with only the chosen features, and a size report');
  selectionOptions(buildCommand, 'redox.json\'s; without it, one of --features, --distro, --all-distros is needed')
    .option('--all-distros', 'one binary per distro')
    .option('--app <file>', 'embed this Lua app (and the .lua files of its folder); the binary serves it when run with no command')
    .option('--static <dir>', 'embed this folder\'s files; the binary serves them (as serve --static does) unless given another --static')
    .option('--out <dir>', 'output folder', 'dist')
    .option('--name <name>', 'binary file name [redox-<distro> or redox-custom]')
    .option('--node-version <version>', `base Node from the npm registry: ${SUPPORTED_MAJORS.join(', ')} (newest release of that line), an exact x.y.z, or host (the running node) [${DEFAULT_MAJOR}]`)
    .option('--target <target>', `OS and CPU of the binary: ${TARGET_NAMES.join(', ')} [this machine]; the binary's name gets -<target>`)
    .option('--node <path>', 'base Node binary file instead of --node-version (it must run here: it also generates the SEA blob)')
    .option('--no-strip', 'keep the base binary\'s symbols (about 12 MB larger)')
    .option('--with <dir>', 'add a local feature folder (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--budget <size>', 'fail if a binary is larger than this (overrides the distro\'s "budget"), e.g. 95MiB')
    .option('--json', 'print the manifests as JSON on stdout')
    .option('--image [name:tag]', 'also write a Containerfile next to the binary and build a FROM scratch image with podman or docker [<binary>:<version>]')
    .action(async (opts: BuildFlags) => {
      const cwd = process.cwd();
      // Required here: every other command starts without loading the build pipeline.
      const { build } = require('../core/tooling/build/pipeline') as typeof Pipeline;
      const result = await build(projectRoot(), {
        cwd, ...selectionValues(opts), allDistros: opts.allDistros,
        app: opts.app, static: opts.static, out: opts.out, name: opts.name, node: opts.node, nodeVersion: opts.nodeVersion, target: opts.target, strip: opts.strip, with: opts.with, budget: opts.budget, image: imageTag(opts.image),
      }, progressPrinter((t) => process.stderr.write(t), Boolean(process.stderr.isTTY)));
      print(opts.json ? JSON.stringify(result.manifests, null, 2) + '\n' : renderBuildReport(result, cwd));
    });

  program.command('matrix')
    .description('print the distros as a CI matrix ({"include": [{"distro": "minimal"}, ...]}), optionally crossed with targets')
    .option('--json', 'print JSON (the default; kept for clarity in workflow files)')
    .option('--targets <list>', `cross the distros with these targets (${TARGET_NAMES.join(', ')}; comma-separated, repeatable); each entry gets "target" and the "os" runner that builds it`, listFlag)
    .action((opts: { targets?: string[] }) => {
      const distros = [...catalogue().distros.keys()].sort();
      const targets = opts.targets ? opts.targets.map((t) => parseTarget(t)) : null;
      const include = targets
        ? distros.flatMap((distro) => targets.map((t) => ({ distro, target: t.name, os: t.platform === 'win32' ? 'windows-latest' : 'ubuntu-latest' })))
        : distros.map((distro) => ({ distro }));
      print(JSON.stringify({ include }) + '\n');
    });
}
