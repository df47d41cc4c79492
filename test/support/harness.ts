// Test helpers that use the real runtime: a real Lua VM with exactly the given features, real
// HTTP servers on free ports, and the real CLI as a child process.
import { spawn, ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCatalogue } from '../../core/tooling/catalogue/catalogue';
import { devProfile } from '../../core/tooling/dev/profile';
import { projectRoot } from '../../core/tooling/catalogue/packages';
import { LuaValue } from '../../core/lua/marshal';
import { Engine } from '../../core/runtime/engine';
import { createEngine, RuntimeProfile, startService, Service } from '../../core/runtime/launch';
import { FileModules } from '../../core/runtime/modules';
import { createLogger, Logger } from '../../core/runtime/log';
import { resolveLimits } from '../../core/runtime/limits';
import { HttpSettings } from '../../core/runtime/http/settings';
import { Operated, startOperatedService } from '../../core/runtime/operated';

export const ROOT = projectRoot();
export const CLI = path.join(ROOT, 'build', 'cli', 'main.js');

export function profileFor(features: string[]): RuntimeProfile {
  const catalogue = loadCatalogue(ROOT);
  return devProfile(catalogue, { distro: null, features: [...features].sort() }, 'test');
}

/** A logger that keeps lines in memory so tests can assert on them. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  // Unbatched: a test sees a request's line once it has its response (a real logger batches
  // them: test/log.test.ts).
  const log = createLogger({ level: 'debug', pretty: false, batch: false, write: (t) => lines.push(...t.trimEnd().split('\n')) });
  return Object.assign(log, { lines });
}

/** A file's sha256 (hex), streamed: the binaries tests check are ~110 MB, and reading one whole
 *  costs several times the CPU. Written independently of the build's own hashFile. */
export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `length` bytes of a file at `position`. */
export function readBytes(file: string, position: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(length);
    return b.subarray(0, fs.readSync(fd, b, 0, length, position));
  } finally {
    fs.closeSync(fd);
  }
}

/** Runs `fn` with these environment variables set (for code that reads process.env, such as the
 *  build cache's location), then restores them, after the promise settles if it returns one. */
export function withEnv<T>(vars: Record<string, string>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  const restore = () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  let result: T;
  try {
    result = fn();
  } catch (err) {
    restore();
    throw err;
  }
  if (result instanceof Promise) return result.finally(restore) as T;
  restore();
  return result;
}

/** A built binary put in another folder without copying its ~100 MB: a hard link to the same
 *  file (tests run binaries, they never write into them), a copy across file systems. */
export function placeBinary(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
  }
  fs.chmodSync(to, 0o755);
}

/** Folders tempDir made in this process: removed when it exits, whatever its tests did (a test
 *  file left about a hundred behind per run before). */
const madeDirs: string[] = [];

export function tempDir(prefix = 'redox-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (madeDirs.length === 0) {
    process.on('exit', () => {
      for (const d of madeDirs) {
        try {
          fs.rmSync(d, { recursive: true, force: true });
        } catch {
          // a folder still in use is left to the OS's temp cleaning
        }
      }
    });
  }
  madeDirs.push(dir);
  return dir;
}

export interface LuaHarness {
  engine: Engine;
  /** Runs a Lua chunk to completion and returns its first result (tables become JS objects). */
  run(code: string): Promise<LuaValue>;
  close(): Promise<void>;
}

/** A Lua VM with exactly `features` installed. Modules are looked up in `appDir`. */
export async function luaWith(features: string[], appDir = tempDir()): Promise<LuaHarness> {
  const log = memoryLogger();
  const modules = new FileModules(appDir);
  const engine = await createEngine(profileFor(features), { modules, main: { source: Buffer.from(''), chunkName: 'main.lua' } }, { log });
  let n = 0;
  return {
    engine,
    run: (code) => engine.runScript({ source: Buffer.from(code), chunkName: `snippet${++n}.lua` }, []),
    close: () => engine.close(),
  };
}

/** Serves Lua source in-process over real HTTP on a free port. */
export async function serveLua(code: string, features: string[] = [],
  options: { dev?: boolean; limits?: Record<string, string>; dir?: string; http?: Partial<HttpSettings> } = {}): Promise<Service & { log: ReturnType<typeof memoryLogger> }> {
  const dir = options.dir ?? tempDir();
  fs.writeFileSync(path.join(dir, 'app.lua'), code);
  const log = memoryLogger();
  const service = await startService(profileFor(features), {
    modules: new FileModules(dir),
    main: { source: Buffer.from(code), chunkName: 'app.lua' },
  }, { host: '127.0.0.1', port: 0, limits: resolveLimits(options.limits ?? {}), log, dev: options.dev, ...options.http });
  return Object.assign(service, { log });
}

/** Serves Lua source in-process with the operations hooks and an admin listener, both on free
 *  ports. Modules are looked up in `dir`. */
export function serveOperatedLua(code: Buffer, features: string[], dir: string, limits: Record<string, string> = {}): Promise<Operated> {
  return startOperatedService(profileFor(features), { modules: new FileModules(dir), main: { source: code, chunkName: 'app.lua' } }, {
    host: '127.0.0.1', port: 0, limits: resolveLimits(limits), log: memoryLogger(), admin: { host: '127.0.0.1', port: 0 },
  });
}

export interface Spawned {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

/** Children still running when the test file's process exits (a failed test that never got to
 *  its cleanup) are killed, so no server outlives its test file. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Runs the real CLI (`node build/cli/main.js ...args`). */
export function spawnRedox(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; bin?: string[] } = {}): Spawned {
  const [cmd, ...pre] = options.bin ?? [process.execPath, CLI];
  const child = spawn(cmd, [...pre, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | string>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** The exit of a process that must end by itself; a hang guard kills it after `timeoutMs`, so a
 *  regression that hangs fails the test instead of stalling the run. */
export async function exitedWithin(p: Spawned, timeoutMs = 60_000): Promise<number | string> {
  const guard = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  try {
    return await p.exited;
  } finally {
    clearTimeout(guard);
  }
}

/** Waits until a spawned server prints "listening on URL" and returns the URL. The timeout is a
 *  hang guard for a loaded machine; a server that misses it is killed. */
export async function listeningUrl(p: Spawned, timeoutMs = 60_000): Promise<string> {
  const start = Date.now();
  for (;;) {
    const m = /listening on (https?:\/\/\S+)/.exec(p.stdout());
    if (m) return m[1];
    if (p.child.exitCode !== null) throw new Error(`server exited (${p.child.exitCode}): ${p.stderr()} ${p.stdout()}`);
    if (Date.now() - start > timeoutMs) {
      p.child.kill('SIGKILL');
      throw new Error(`server did not start within ${timeoutMs} ms: ${p.stderr()} ${p.stdout()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A GET over node:http (with an optional agent, to control connection reuse). */
export function httpGet(url: string, agent?: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}
