// Starting a contender's server, waiting for its first 200, and stopping it (with its children).
import http from 'node:http';
import net from 'node:net';
import { spawn, ChildProcess } from 'node:child_process';
import { track } from './children';
import { descendants, pinned, treeCpuSeconds, treeRss } from './machine';

export interface ServerSpec {
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** How long loading may take (a 1M-entry cache fill takes seconds). */
  readyTimeoutMs?: number;
}

export interface RunningServer {
  pid: number;
  url: string;
  /** Milliseconds from spawn to the first 200. */
  readyMs: number;
  rss(): number;
  /** CPU seconds used so far by the server's processes. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function startServer(spec: ServerSpec, port: number, cores: string | undefined, pollMs = 5): Promise<RunningServer> {
  const [cmd, args] = pinned(cores, spec.cmd, spec.args);
  const t0 = process.hrtime.bigint();
  // stdout goes to /dev/null: request logs cost the server the write, not a pipe we must drain.
  const child = spawn(cmd, args, { cwd: spec.cwd, env: { ...process.env, ...spec.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  track(child);
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const url = `http://127.0.0.1:${port}/`;
  try {
    await waitFor200(url, child, spec.readyTimeoutMs ?? 30_000, pollMs, () => stderr);
  } catch (err) {
    await stop(child);
    throw err;
  }
  const readyMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return { pid: child.pid!, url, readyMs, rss: () => treeRss(child.pid!), cpuSeconds: () => treeCpuSeconds(child.pid!), stop: () => stop(child) };
}

function waitFor200(url: string, child: ChildProcess, timeoutMs: number, pollMs: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    let exited = false;
    child.once('exit', (code, signal) => {
      exited = true;
      reject(new Error(`${child.spawnargs.join(' ')} exited (${signal ?? code}) before answering 200:\n${stderr().trim()}`));
    });
    child.once('error', (err) => { exited = true; reject(err); });
    const attempt = () => {
      if (exited) return;
      if (Date.now() > deadline) return reject(new Error(`no 200 from ${url} within ${timeoutMs} ms:\n${stderr().trim()}`));
      const req = http.get(url, { agent: false }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : setTimeout(attempt, pollMs)));
      });
      req.on('error', () => setTimeout(attempt, pollMs));
    };
    attempt();
  });
}

/** SIGTERM (a graceful drain), then SIGKILL for the process and any child it left behind. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const family = descendants(child.pid!);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 5000).unref());
  if ((await Promise.race([exited, timer])) === 'late') {
    child.kill('SIGKILL');
    await exited;
  }
  for (const pid of family) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone, as it should be */ }
  }
}
