// The listening server for the chosen protocol: node:http, node:https, or node:http2 with HTTP/1.1
// fallback. All three call the same request handler, with the same limits where the protocol has
// them (HTTP/2 has no per-request headers/request timeouts: its sessions time out when idle).
import http from 'node:http';
import type https from 'node:https';
import type http2 from 'node:http2';
import type net from 'node:net';
import { Limits } from '../limits';
import { TlsMaterial } from './tls';

export type AnyRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type AnyResponse = http.ServerResponse | http2.Http2ServerResponse;
export type AnyServer = http.Server | https.Server | http2.Http2SecureServer;

export function createListener(limits: Limits, tlsMaterial: TlsMaterial | undefined,
  handler: (req: AnyRequest, res: AnyResponse) => void): AnyServer {
  const httpOptions: http.ServerOptions = {
    maxHeaderSize: limits.headerBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks the two timeouts above only this often (default 30 s): slow clients must be
    // cut off close to the limit.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
  if (!tlsMaterial) return http.createServer(httpOptions, handler);
  // Loaded only with TLS: node:https, node:http2 and node:tls are a tenth of a binary's start-up.
  if (!tlsMaterial.http2) return (require('node:https') as typeof https).createServer({ ...httpOptions, cert: tlsMaterial.cert, key: tlsMaterial.key }, handler);
  const server = (require('node:http2') as typeof http2).createSecureServer({
    cert: tlsMaterial.cert,
    key: tlsMaterial.key,
    allowHTTP1: true,
    maxSessionMemory: 10,
    // The HTTP/2 counterpart of --max-headers.
    settings: { maxHeaderListSize: limits.headerBytes },
    maxSendHeaderBlockLength: limits.headerBytes,
  }, handler);
  server.setTimeout(limits.keepAliveTimeoutMs);
  return server;
}

/** Closes every connection still open on `server` (after the drain): http(s) servers track their
 *  own, an HTTP/2 server does not, so its sockets are tracked here from the start. */
export function connectionCloser(server: AnyServer): { idle(): void; all(): void } {
  if ('closeAllConnections' in server) {
    return { idle: () => server.closeIdleConnections(), all: () => server.closeAllConnections() };
  }
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('secureConnection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  return {
    // GOAWAY: finish the streams in flight, accept no new ones.
    idle: () => { for (const s of sessions) s.close(); },
    all: () => { for (const s of sockets) s.destroy(); },
  };
}
