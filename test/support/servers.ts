// Throwaway database servers for tests and benchmarks: a PostgreSQL cluster made with initdb in
// a temp dir (a copy of one cluster initialised per test run) and run with pg_ctl, and a
// redis-server without persistence, each on a free port of 127.0.0.1. Nothing shared is touched;
// stop()/start() simulate an outage on the same port and close() removes everything. Servers
// still running when the process exits are stopped.
import { execFile, spawn, spawnSync, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runFixture } from './run-fixtures';

/** A port nothing listens on right now (the kernel's pick for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const exitHooks = new Set<() => void>();
process.on('exit', () => {
  for (const hook of exitHooks) hook();
});

function run(cmd: string, args: string[], options: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: options.cwd, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}${stdout}`));
      else resolve(stdout);
    });
  });
}

/** A PostgreSQL server program: on PATH, else in Debian's versioned folder. */
export function postgresBinary(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const p = path.join(base, v, 'bin', name);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`${name} not found: install PostgreSQL (apt-get install postgresql; .ci/run does)`);
}

/** initdb refuses to run as root: as root, run the server programs as the postgres user. */
function asServerUser(): { prefix: string[]; uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (id.status !== 0) throw new Error('running as root needs a "postgres" system user to run the test server (apt-get install postgresql creates it)');
  return { prefix: ['runuser', '-u', 'postgres', '--'], uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export interface PostgresServer {
  /** postgres://postgres:<password>@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly port: number;
  readonly password: string;
  /** Fast shutdown (open connections are cut), keeping the data. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  close(): Promise<void>;
}

/** An initdb'd cluster made once per test run and copied for each server: initdb costs about
 *  1.5 CPU s, a copy of its files a few hundredths of that. */
function clusterTemplate(user: ReturnType<typeof asServerUser>): Promise<string> {
  return runFixture('postgres-cluster', async (dir) => {
    const pwfile = path.join(dir, 'pwfile');
    fs.writeFileSync(pwfile, `pw-${process.pid}-${Date.now()}\n`);
    if (user.uid !== undefined) {
      // The postgres user must reach the folder through the run's fixture folder (mkdtemp: 0700).
      fs.chmodSync(path.dirname(dir), 0o711);
      fs.chownSync(dir, user.uid, user.gid!);
      fs.chownSync(pwfile, user.uid, user.gid!);
    }
    const [head, ...rest] = [...user.prefix, postgresBinary('initdb'), '-D', path.join(dir, 'data'), '-U', 'postgres', '--pwfile', pwfile,
      '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'];
    await run(head, rest, { cwd: dir });
  });
}

export async function startPostgres(options: { maxConnections?: number } = {}): Promise<PostgresServer> {
  const user = asServerUser();
  const template = await clusterTemplate(user);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redox-pg-'));
  const data = path.join(dir, 'data');
  const password = fs.readFileSync(path.join(template, 'pwfile'), 'utf8').trim();
  if (user.uid !== undefined) fs.chownSync(dir, user.uid, user.gid!);
  const argv = (name: string, args: string[]) => [...user.prefix, postgresBinary(name), ...args];
  const cmd = (name: string, args: string[]) => {
    const [head, ...rest] = argv(name, args);
    return run(head, rest, { cwd: dir });
  };
  // -a keeps the owner (the postgres user) and the 0700 mode the server insists on.
  await run('cp', ['-a', path.join(template, 'data'), data]);
  const port = await freePort();
  const serverOptions = [`-p ${port}`, `-k ${dir}`, "-c listen_addresses='127.0.0.1'", '-c fsync=off',
    '-c synchronous_commit=off', '-c full_page_writes=off', `-c max_connections=${options.maxConnections ?? 100}`].join(' ');
  let running = false;
  const pgctl = (args: string[]) => cmd('pg_ctl', ['-D', data, ...args]);
  const start = async () => {
    await pgctl(['-l', path.join(dir, 'server.log'), '-w', '-t', '120', '-o', serverOptions, 'start']);
    running = true;
  };
  const stop = async () => {
    if (!running) return;
    await pgctl(['-w', '-t', '120', '-m', 'fast', 'stop']);
    running = false;
  };
  const hook = () => {
    if (running) {
      const [head, ...rest] = argv('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      spawnSync(head, rest, { cwd: dir });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  exitHooks.add(hook);
  try {
    await start();
  } catch (err) {
    hook();
    exitHooks.delete(hook);
    throw err;
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    password,
    stop,
    start,
    close: async () => {
      try {
        await stop();
      } finally {
        exitHooks.delete(hook);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startRedis(options: { password?: string } = {}): Promise<RedisServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redox-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning', ...(options.password ? ['--requirepass', options.password] : [])],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    child = p;
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (out += d));
    // Ready once it accepts a connection and answers PING.
    for (let i = 0; ; i++) {
      if (p.exitCode !== null) throw new Error(`redis-server exited (${p.exitCode}): ${out}`);
      if (await ping(port, options.password)) return;
      if (i > 1200) throw new Error(`redis-server did not answer on port ${port}: ${out}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const stop = async () => {
    const p = child;
    child = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  };
  const hook = () => {
    child?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  exitHooks.add(hook);
  try {
    await start();
  } catch (err) {
    hook();
    exitHooks.delete(hook);
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    start,
    close: async () => {
      try {
        await stop();
      } finally {
        exitHooks.delete(hook);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function ping(port: number, password?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.setTimeout(1000);
    s.on('connect', () => s.write(password ? `AUTH ${password}\r\nPING\r\n` : 'PING\r\n'));
    s.on('data', (d) => {
      got += d;
      if (got.includes('+PONG\r\n') || got.startsWith('-')) {
        s.destroy();
        resolve(got.includes('+PONG'));
      }
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}
