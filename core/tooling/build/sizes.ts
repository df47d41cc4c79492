// The folder-wide reports, rewritten after every build from the manifests in the folder:
// SHA256SUMS, sizes.json (for machines) and sizes.md (a Markdown table for CI job summaries).
import fs from 'node:fs';
import path from 'node:path';
import { BuildManifest, FeatureCost, MANIFEST_SUFFIX } from './manifest';
import { writeAtomic } from '../write-atomic';
import { byText } from '../../order';

export interface SizeEntry {
  name: string;
  distro: string | null;
  features: string[];
  bytes: number;
  sha256: string;
  node: { version: string; platform: string; arch: string; bytes: number; strippedBytes: number };
  bundleBytes: number;
  assetBytes: number;
  /** bytes - the base Node binary as given (negative when stripping saved more than redox adds). */
  deltaVsNode: number;
  /** bytes - the stripped base: what redox adds. */
  added: number;
  /** bytes - the minimal distro's binary in this folder (same Node), or null. */
  deltaVsMinimal: number | null;
  budget: { bytes: number; text: string } | null;
  core: { js: number; assets: number };
  shared: number;
  image: { tag: string; bytes: number | null } | null;
  perFeature: Record<string, FeatureCost>;
}

export interface SizesReport {
  binaries: SizeEntry[];
}

/** Manifests whose binary is still in the folder, by file name. */
export function readManifests(dir: string): BuildManifest[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith(MANIFEST_SUFFIX)).sort().flatMap((f) => {
    try {
      const m = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as BuildManifest;
      return fs.existsSync(path.join(dir, m.file)) ? [m] : [];
    } catch {
      return [];
    }
  });
}

export function sizesReport(manifests: BuildManifest[]): SizesReport {
  return {
    binaries: manifests.map((m) => {
      const minimal = manifests.find((o) => o.distro === 'minimal' && o.node.version === m.node.version && o.node.platform === m.node.platform && o.node.arch === m.node.arch && o.strip === m.strip);
      return {
        name: m.file, distro: m.distro, features: m.features, bytes: m.bytes, sha256: m.sha256,
        node: { ...m.node, bytes: m.sizes.node, strippedBytes: m.sizes.nodeStripped },
        bundleBytes: m.sizes.bundle, assetBytes: m.sizes.assets,
        deltaVsNode: m.bytes - m.sizes.node, added: m.bytes - m.sizes.nodeStripped,
        deltaVsMinimal: minimal ? m.bytes - minimal.bytes : null,
        budget: m.budget, core: m.sizes.core, shared: m.sizes.shared, perFeature: m.sizes.features,
        image: m.image ? { tag: m.image.tag, bytes: m.image.bytes } : null,
      };
    }),
  };
}

export function formatBytes(n: number): string {
  const abs = Math.abs(n);
  const sign = n < 0 ? '-' : '';
  if (abs >= 1024 * 1024) return `${sign}${(abs / 1024 / 1024).toFixed(1)} MiB`;
  if (abs >= 1024) return `${sign}${(abs / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

const signed = (n: number) => (n > 0 ? '+' : '') + formatBytes(n);

export function renderSizesMarkdown(report: SizesReport): string {
  const rows = report.binaries;
  if (rows.length === 0) return '## Redox binaries\n\n(none)\n';
  const bases = [...new Set(rows.map((r) => `node ${r.node.version} ${r.node.platform}-${r.node.arch}: ${formatBytes(r.node.bytes)}, stripped ${formatBytes(r.node.strippedBytes)}`))];
  const lines = [
    '## Redox binaries',
    '',
    `Base: ${bases.join('; ')}.`,
    '',
    '| binary | distro | features | size | vs Node | added | vs minimal | bundle | assets | budget |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.name} | ${r.distro ?? 'custom'} | ${r.features.join(', ') || '(core only)'} | ${formatBytes(r.bytes)} | ${signed(r.deltaVsNode)} | ${signed(r.added)} | ${r.deltaVsMinimal === null ? 'n/a' : signed(r.deltaVsMinimal)} | ${formatBytes(r.bundleBytes)} | ${formatBytes(r.assetBytes)} | ${r.budget ? `${r.budget.text} (${r.bytes <= r.budget.bytes ? 'ok' : 'over'})` : '-'} |`),
    '',
    '### What each feature costs',
    '',
    'JS is the bundle code only that feature reaches (esbuild metafile); assets are its native addons. "core" is the runtime, the Lua wasm, the build info and any embedded app.',
    '',
    '| binary | part | JS | assets | total |',
    '|---|---|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.name} | core | ${formatBytes(r.core.js)} | ${formatBytes(r.core.assets)} | ${formatBytes(r.core.js + r.core.assets)} |`);
    for (const [name, c] of Object.entries(r.perFeature)) lines.push(`| ${r.name} | ${name} | ${formatBytes(c.js)} | ${formatBytes(c.assets)} | ${formatBytes(c.total)} |`);
    if (r.shared) lines.push(`| ${r.name} | shared by features | ${formatBytes(r.shared)} | 0 B | ${formatBytes(r.shared)} |`);
  }
  const images = rows.filter((r) => r.image);
  if (images.length) {
    lines.push('', '### Container images', '', 'FROM scratch: the binary, its shared libraries (ldd), CA certificates, a non-root user.', '',
      '| binary | image | size |', '|---|---|---:|',
      ...images.map((r) => `| ${r.name} | ${r.image!.tag} | ${r.image!.bytes === null ? 'not built (no podman/docker)' : formatBytes(r.image!.bytes)} |`));
  }
  lines.push('', '<details><summary>sha256</summary>', '', '```', ...rows.map((r) => `${r.sha256}  ${r.name}`), '```', '', '</details>', '');
  return lines.join('\n');
}

export function renderChecksums(manifests: BuildManifest[]): string {
  return [...manifests].sort((a, b) => byText(a.file, b.file)).map((m) => `${m.sha256}  ${m.file}\n`).join('');
}

/** Rewrites SHA256SUMS, sizes.json and sizes.md for every binary in `dir`. */
export function writeFolderReports(dir: string): SizesReport {
  const manifests = readManifests(dir);
  const report = sizesReport(manifests);
  if (manifests.length === 0) {
    // No binary left: no reports (an empty SHA256SUMS makes `sha256sum -c` fail too).
    for (const f of ['SHA256SUMS', 'sizes.json', 'sizes.md']) fs.rmSync(path.join(dir, f), { force: true });
    return report;
  }
  writeAtomic(path.join(dir, 'SHA256SUMS'), renderChecksums(manifests));
  writeAtomic(path.join(dir, 'sizes.json'), JSON.stringify(report, null, 2) + '\n');
  writeAtomic(path.join(dir, 'sizes.md'), renderSizesMarkdown(report));
  return report;
}
