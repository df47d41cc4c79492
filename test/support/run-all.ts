// `npm test`: runs node's test runner on exactly the compiled *.test.js files whose .ts source
// still exists (Node 20 would otherwise also run every .js under a test/ folder, and stale
// output of deleted tests). Cross-platform, unlike a shell glob.
//
// Speed (the suite must stay well under 2 minutes on a 2-core machine): most test files wait on
// sockets and child processes, so more files run at once than there are cores; the files that
// build real binaries or install the package start first, so their long builds overlap the
// many short files instead of trailing at the end.
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { run } from 'node:test';
import * as builtin from 'node:test/reporters';

const root = path.resolve(__dirname, '..', '..', '..');
const out = path.join(root, 'build');
const files: string[] = [];
const walk = (dir: string) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.test.js') && fs.existsSync(path.join(root, path.relative(out, p)).replace(/\.js$/, '.ts'))) files.push(p);
  }
};
for (const top of ['features', 'test']) walk(path.join(out, top));

/** The longest files (wall time and CPU, measured on a full run), longest first: a long file
 *  that starts late would run on alone at the end. */
const SLOW_FIRST = ['node-base', 'build', 'init', 'install', 'ops-binary', 'containment', 'typescript', 'cli', 'redox-test', 'postgres',
  'pe-inject', 'startup', 'new-feature', 'dev', 'workers', 'admin', 'deploy', 'requests', 'static-binary', 'tls', 'concurrency', 'confine',
  'redis', 'elf-inject', 'hostile', 'static'];
const rank = (file: string) => {
  const i = SLOW_FIRST.indexOf(path.basename(file, '.test.js'));
  return i < 0 ? SLOW_FIRST.length : i;
};
files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));

const concurrency = Number(process.env.REDOX_TEST_CONCURRENCY) || Math.max(4, 2 * os.availableParallelism());

// Arguments: node's own --test-reporter=X / --test-reporter-destination=Y pairs (default: spec
// to stdout) and --test-name-pattern=P; any other argument keeps only the files whose path
// under build/ contains it (`npm test -- sqlite build`).
const reporters: string[] = [];
const destinations: string[] = [];
const patterns: string[] = [];
const only: string[] = [];
for (const arg of process.argv.slice(2)) {
  const [flag, value] = arg.split(/=(.*)/s);
  if (flag === '--test-reporter') reporters.push(value);
  else if (flag === '--test-reporter-destination') destinations.push(value);
  else if (flag === '--test-name-pattern') patterns.push(value);
  else only.push(arg);
}
if (!reporters.length) reporters.push('spec');
const selected = only.length ? files.filter((f) => only.some((o) => path.relative(out, f).includes(o))) : files;

type Reporter = Parameters<ReturnType<typeof run>['compose']>[0];

/** A built-in reporter by name, or a module path whose default export is a reporter. */
async function reporter(name: string): Promise<Reporter> {
  if (name in builtin) return builtin[name as keyof typeof builtin] as Reporter;
  const mod = await import(path.resolve(name));
  return (mod.default ?? mod) as Reporter;
}

/** Node 20 reads and parses every certificate in NODE_EXTRA_CA_CERTS when a process starts
 *  (60 ms of CPU per process with Debian's whole bundle; a run starts about 300 Node processes).
 *  No test needs them: the TLS tests bring their own CA, and npm, the only client of a real
 *  registry, is handed its own configured cafile through the environment, so it keeps it also
 *  under another --prefix. When npm has no cafile, the variable stays. */
function withoutExtraCaCerts(): void {
  if (!process.env.NODE_EXTRA_CA_CERTS || process.env.npm_config_cafile) return;
  let cafile = '';
  try {
    cafile = execSync('npm config get cafile', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return;
  }
  if (!cafile || cafile === 'null' || cafile === 'undefined' || !fs.existsSync(cafile)) return;
  process.env.npm_config_cafile = cafile;
  delete process.env.NODE_EXTRA_CA_CERTS;
}

async function main(): Promise<void> {
  // One cache of built binaries for the whole run (test/support/binaries.ts), deleted at the end.
  const binaries = fs.mkdtempSync(path.join(os.tmpdir(), 'redox-test-binaries-'));
  process.env.REDOX_TEST_BINARIES = binaries;
  // Registry metadata npm already has is used without asking again (builds ask which Node
  // releases exist): a cold cache still fetches everything.
  process.env.npm_config_prefer_offline = 'true';
  withoutExtraCaCerts();
  try {
    // run() keeps the files' order (`node --test` sorts them); forceExit: a file whose tests are
    // done cannot hold up the run with a leaked timer or socket.
    const stream = run({ files: selected, concurrency, forceExit: true, ...(patterns.length ? { testNamePatterns: patterns } : {}) } as Parameters<typeof run>[0]);
    const sinks: PassThrough[] = [];
    const done: Promise<void>[] = [];
    for (const [i, name] of reporters.entries()) {
      const dest = destinations[i] ?? 'stdout';
      const sink = dest === 'stdout' ? process.stdout : dest === 'stderr' ? process.stderr : fs.createWriteStream(dest);
      const feed = new PassThrough({ objectMode: true });
      sinks.push(feed);
      const out = feed.compose(await reporter(name));
      out.pipe(sink as NodeJS.WritableStream, { end: sink !== process.stdout && sink !== process.stderr });
      done.push(new Promise((resolve) => out.on('end', resolve)));
    }
    stream.on('data', (event: { type: string; data: { todo?: unknown } }) => {
      if (event.type === 'test:fail' && !event.data.todo) process.exitCode = 1;
      for (const feed of sinks) feed.write(event);
    });
    stream.on('end', () => sinks.forEach((feed) => feed.end()));
    await Promise.all(done);
  } finally {
    fs.rmSync(binaries, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
