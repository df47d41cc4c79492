// The admin listener: health, readiness and feature-provided endpoints (such as /metrics) on
// their own port, off the app's router, so probes and scrapes never reach Lua or count as
// app traffic. It starts before the app loads, so /readyz can say "starting".
import http from 'node:http';
import type { AdminResponse } from '../feature';
import { RedoxError } from '../errors';
import type { Logger } from './log';

export type Phase = 'starting' | 'ready' | 'draining';

export interface AdminOptions {
  host: string;
  port: number;
  log: Logger;
  /** Feature endpoints by path. */
  routes: Record<string, () => Promise<AdminResponse>>;
  /** Extra readiness condition (every worker serving); checked only in the "ready" phase. */
  ready?: () => string | undefined;
}

export interface AdminServer {
  readonly url: string;
  readonly port: number;
  phase: Phase;
  close(): Promise<void>;
}

const TEXT = 'text/plain; charset=utf-8';

export async function startAdmin(options: AdminOptions): Promise<AdminServer> {
  let phase: Phase = 'starting';
  const answer = (res: http.ServerResponse, status: number, body: string, type = TEXT, extra: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...extra });
    res.end(body);
  };
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'admin endpoints answer GET only\n', TEXT, { allow: 'GET, HEAD' });
    if (path === '/healthz') return answer(res, 200, 'ok\n');
    if (path === '/readyz') {
      const why = phase !== 'ready' ? phase : options.ready?.();
      return why ? answer(res, 503, `not ready: ${why}\n`) : answer(res, 200, 'ready\n');
    }
    const route = options.routes[path];
    if (!route) {
      return answer(res, 404, `no admin endpoint ${path}; available: ${['/healthz', '/readyz', ...Object.keys(options.routes)].join(', ')}\n`);
    }
    route().then((r) => answer(res, r.status ?? 200, r.body, r.contentType), (err: Error) => {
      options.log.error('admin endpoint failed', { path, error: err.message });
      answer(res, 500, `admin endpoint ${path} failed: ${err.message}\n`);
    });
  });
  // Probes are short; idle keep-alive sockets must not hold shutdown up.
  server.keepAliveTimeout = 2000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE'
        ? new RedoxError('REDOX_PORT_IN_USE', `admin port ${options.port} is already in use on ${options.host}`,
          'choose another port with --admin-port (or REDOX_ADMIN_PORT); 0 picks a free one')
        : new RedoxError('REDOX_LISTEN', `cannot listen on ${options.host}:${options.port} for the admin endpoints: ${err.message}`));
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as import('node:net').AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    get phase() { return phase; },
    set phase(p: Phase) { phase = p; },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
