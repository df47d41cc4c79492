// The server's connections, outside the request path: one address may hold only so many at once,
// a client refused at the protocol level (408/400/431) loses its socket at once, and a drain
// stops accepting, then lets every accepted connection finish: connections that have not sent
// their request yet get it answered (with `connection: close`) instead of being cut off.
import http from 'node:http';
import net from 'node:net';
import { Logger } from './log';
import { Limits } from './limits';

interface Tracked {
  /** Whether a request has started on this connection. */
  served: boolean;
}

export interface Connections {
  /** Stops accepting and resolves once every connection has closed (or after shutdownMs). */
  drain(): Promise<void>;
  /** The server calls this for each request (cheaper than a second 'request' listener). */
  started(socket: net.Socket): void;
}

/** node:http attaches the response in progress to its socket until the response finishes. */
function answering(socket: net.Socket): boolean {
  return (socket as { _httpMessage?: unknown })._httpMessage != null;
}

/** A status line for what node:http's parser refused. */
function refusal(code: string | undefined): string {
  if (code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'ERR_HTTP_HEADERS_TIMEOUT') return '408 Request Timeout';
  return '400 Bad Request';
}

export function watchConnections(server: http.Server, limits: Limits, log: Logger): Connections {
  const sockets = new Map<net.Socket, Tracked>();
  const perIp = new Map<string, number>();
  let lastWarn = 0;

  server.on('connection', (socket: net.Socket) => {
    const ip = socket.remoteAddress ?? '';
    const held = (perIp.get(ip) ?? 0) + 1;
    if (limits.maxConnectionsPerIp > 0 && held > limits.maxConnectionsPerIp) {
      if (Date.now() - lastWarn > 1000) {
        lastWarn = Date.now();
        log.warn('connection refused: too many connections from one address', { ip, limit: limits.maxConnectionsPerIp });
      }
      socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n', () => socket.destroy());
      return;
    }
    perIp.set(ip, held);
    sockets.set(socket, { served: false });
    socket.once('close', () => {
      sockets.delete(socket);
      const n = (perIp.get(ip) ?? 1) - 1;
      if (n > 0) perIp.set(ip, n);
      else perIp.delete(ip);
    });
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    // The socket is ours here: answer if we still can, then close it for good. end() alone
    // only half-closes, and a client that keeps sending would keep the descriptor.
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    socket.write(`HTTP/1.1 ${refusal(err.code)}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`, () => socket.destroy());
    setTimeout(() => socket.destroy(), 1000).unref();
  });

  const idle = (socket: net.Socket, t: Tracked) => t.served && !answering(socket);

  return {
    started: (socket) => {
      const t = sockets.get(socket);
      if (t !== undefined) t.served = true;
    },
    drain: () => new Promise<void>((resolve) => {
      // net.Server's close stops listening; http.Server's would also cut connections that were
      // accepted but whose request has not been read yet.
      net.Server.prototype.close.call(server);
      // Keep-alive connections idle between requests may go (clients retry those); the rest
      // finish their request, answered with `connection: close`.
      for (const [socket, t] of sockets) if (idle(socket, t)) socket.destroy();
      const done = () => {
        clearInterval(poll);
        clearTimeout(timer);
        // Nothing is left to cut: http's close now only stops its timeout checks.
        server.close();
        resolve();
      };
      const poll = setInterval(() => {
        for (const [socket, t] of sockets) if (idle(socket, t)) socket.destroy();
        if (sockets.size === 0) done();
      }, 20);
      const timer = setTimeout(() => {
        log.warn('shutdown timeout: closing connections still open', { connections: sockets.size });
        for (const socket of sockets.keys()) socket.destroy();
        done();
      }, limits.shutdownMs);
      if (sockets.size === 0) done();
    }),
  };
}
