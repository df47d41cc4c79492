// `--node-version`: which Node lines a binary may be based on, and picking the exact release
// a spec means from the versions a registry package offers.
import { RedoxError } from '../../errors';

/** The LTS lines that still get security fixes. Node 20 (the development CLI's) is past its end
 *  of life: it stays reachable only as `host` or `--node PATH`. */
export const SUPPORTED_MAJORS = [24, 26];
/** The default base line; docs/build.md has the measurements behind the choice. */
export const DEFAULT_MAJOR = 26;

export type VersionSpec = { kind: 'host' } | { kind: 'major'; major: number } | { kind: 'exact'; version: string };

const supported = () => `${SUPPORTED_MAJORS.join(', ')} (the supported LTS lines), an exact release such as ${SUPPORTED_MAJORS[0]}.22.3, or host (the Node running redox)`;

export function parseNodeVersion(given: string): VersionSpec {
  const text = given.trim().replace(/^v/, '');
  if (text === 'host') return { kind: 'host' };
  const m = /^(\d+)(?:\.(\d+)\.(\d+))?$/.exec(text);
  if (!m) throw new RedoxError('REDOX_NODE_VERSION', `--node-version ${given} is not a Node version`, `use ${supported()}`);
  const major = Number(m[1]);
  if (!SUPPORTED_MAJORS.includes(major)) {
    throw new RedoxError('REDOX_NODE_VERSION', `--node-version ${given}: Node ${major} is not a supported base`,
      `use ${supported()}; for an unsupported Node at your own risk, pass its binary with --node PATH`);
  }
  return m[2] === undefined ? { kind: 'major', major } : { kind: 'exact', version: `${major}.${Number(m[2])}.${Number(m[3])}` };
}

export const describeSpec = (s: VersionSpec) => (s.kind === 'host' ? 'host' : s.kind === 'major' ? `${s.major}.x` : s.version);

const parts = (v: string) => v.split('.').map(Number);

export function compareVersions(a: string, b: string): number {
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

export function matches(version: string, spec: VersionSpec): boolean {
  if (!/^\d+\.\d+\.\d+$/.test(version)) return false; // prereleases and odd tags
  if (spec.kind === 'exact') return version === spec.version;
  return spec.kind === 'major' && parts(version)[0] === spec.major;
}

/** The newest release of `versions` that `spec` allows, or null. */
export function pickVersion(versions: string[], spec: VersionSpec): string | null {
  const ok = versions.filter((v) => matches(v, spec)).sort(compareVersions);
  return ok.length ? ok[ok.length - 1] : null;
}
