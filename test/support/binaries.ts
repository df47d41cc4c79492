// Real binaries built once per test run and shared by every test (and test file) that needs the
// same one (run-fixtures.ts), keyed by the build's inputs: the CLI arguments, the project files,
// the sources and packages that go into a binary, the Node that runs the build.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, spawnRedox } from './harness';
import { runFixture } from './run-fixtures';

export interface BuildSpec {
  /** `redox build` arguments, without --out (the cache chooses it). */
  args: string[];
  /** Files of the project folder the build runs in (relative path -> content). */
  files?: Record<string, string>;
}

export interface BuiltFixture {
  /** The project folder the build ran in (read-only: copy what you change). */
  project: string;
  /** The output folder: the binaries, their manifests and metafiles, the reports. */
  out: string;
}

let sourcesDigest: string | undefined;

/** What every binary is made of: core, CLI and feature sources, catalogue, locked packages, Node. */
function inputsDigest(): string {
  if (sourcesDigest) return sourcesDigest;
  const hash = crypto.createHash('sha256').update(`${process.execPath}\0${process.version}\0${process.arch}\0`);
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|json|lua)$/.test(e.name) && !e.name.endsWith('.test.ts')) hash.update(path.relative(ROOT, p)).update('\0').update(fs.readFileSync(p)).update('\0');
    }
  };
  for (const dir of ['cli', 'core', 'features', 'distros']) walk(path.join(ROOT, dir));
  for (const file of ['features.json', 'package.json', 'package-lock.json']) hash.update(fs.readFileSync(path.join(ROOT, file)));
  sourcesDigest = hash.digest('hex');
  return sourcesDigest;
}

export function fixtureKey(spec: BuildSpec): string {
  return crypto.createHash('sha256').update(inputsDigest()).update(JSON.stringify([spec.args, Object.entries(spec.files ?? {}).sort()])).digest('hex').slice(0, 24);
}

/** The binaries `redox build <args>` makes in a project with `files`, built at most once per run. */
export async function builtFixture(spec: BuildSpec): Promise<BuiltFixture> {
  const entry = await runFixture(fixtureKey(spec), async (dir) => {
    const project = path.join(dir, 'project');
    for (const [name, text] of Object.entries(spec.files ?? {})) {
      fs.mkdirSync(path.dirname(path.join(project, name)), { recursive: true });
      fs.writeFileSync(path.join(project, name), text);
    }
    fs.mkdirSync(project, { recursive: true });
    const out = path.join(dir, 'out');
    const p = spawnRedox(['build', ...spec.args, '--out', out], { cwd: project, env: { NO_COLOR: '1' } });
    const code = await p.exited;
    // Each build's step timings, for measuring the suite (see docs on the test suite).
    if (process.env.REDOX_TEST_BUILD_LOG) fs.appendFileSync(process.env.REDOX_TEST_BUILD_LOG, `== redox build ${spec.args.join(' ')}\n${p.stderr()}${p.stdout()}`);
    if (code !== 0) throw new Error(`redox build ${spec.args.join(' ')} failed (${code}):\n${p.stderr()}\n${p.stdout()}`);
  });
  return { project: path.join(entry, 'project'), out: path.join(entry, 'out') };
}
