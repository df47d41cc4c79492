// The HTTP front: node:http in, one Lua coroutine per request, limits enforced before Lua
// sees anything, and a graceful drain on shutdown.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { HostResponse, RequestEngine } from './engine';
import { Logger } from './log';
import { LuaBudgetError, LuaTimeoutError } from '../lua/vm';
import { RedoxError } from '../errors';
import { Limits } from './limits';
import { watchConnections } from './connections';

export interface ServerOptions {
  host: string;
  port: number;
  limits: Limits;
  log: Logger;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish (up to limits.shutdownMs), then closes. */
  close(): Promise<void>;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;
/** More headers than this is a 431 (node:http would drop the rest silently). */
const MAX_HEADER_COUNT = 1000;
/** What OPTIONS * answers: the methods Redox routes. */
const ALLOW = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/** A head the request may not have: several Host headers, too many headers, too many bytes. */
function headProblem(count: number, bytes: number, hosts: number, limits: Limits): { status: number; message: string } | undefined {
  if (count > MAX_HEADER_COUNT) return { status: 431, message: `more than ${MAX_HEADER_COUNT} headers` };
  if (bytes > limits.headerBytes) return { status: 431, message: `request head larger than ${limits.headerBytes} bytes` };
  if (hosts > 1) return { status: 400, message: 'more than one Host header' };
  return undefined;
}
const JSON_TYPE = 'application/json; charset=utf-8';

export async function startServer(engine: RequestEngine, options: ServerOptions): Promise<RunningServer> {
  const { limits, log } = options;
  let inFlight = 0;
  let draining = false;

  // Requests in flight (the drain itself waits on connections: see connections.ts).
  const finish = () => {
    inFlight--;
  };

  const server = http.createServer({
    maxHeaderSize: limits.headerBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks the two timeouts above only this often (default 30 s): slow clients must be
    // cut off close to the limit.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  }, handle);
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  // One header more than allowed is kept, so too many is a 431 and not a silent cut.
  server.maxHeadersCount = MAX_HEADER_COUNT + 1;
  const connections = watchConnections(server, limits, log);
  if (limits.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = limits.maxRequestsPerSocket;

  /** Frames and sends a response; every request ends here exactly once (in-flight count). */
  const send = (res: http.ServerResponse, id: string, status: number, contentType: string | undefined, extra: string[] | undefined, body: Buffer | string | undefined) => {
    const headers = extra ?? [];
    if (contentType !== undefined) headers.push('content-type', contentType);
    headers.push('x-request-id', id);
    // Explicit length: writeHead with a header list would otherwise fall back to chunked.
    if (body !== undefined && status !== 204 && status !== 304) {
      headers.push('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.length));
    }
    if (draining) headers.push('connection', 'close');
    // Throws on a header value node refuses; the caller then answers 500 (and counts that one).
    res.writeHead(status, headers);
    res.end(body);
    finish();
  };

  const sendError = (res: http.ServerResponse, id: string, status: number, message: string, extra?: string[]) => {
    if (res.headersSent) {
      res.destroy();
      finish();
      return;
    }
    send(res, id, status, JSON_TYPE, extra, JSON.stringify({ error: message, request_id: id }));
  };

  const logRequest = (method: string, path: string, status: number, start: number, id: string) => {
    if (log.enabled('info')) {
      log.info('request', { method, path, status, duration_ms: Math.round((performance.now() - start) * 100) / 100, request_id: id });
    }
  };

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    inFlight++;
    const start = performance.now();
    const raw = req.rawHeaders;
    let incomingId: string | undefined;
    let contentLength = -1;
    let chunked = false;
    let hosts = 0;
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    // The whole head as sent (request line, "name: value" lines, blank line), not only the
    // names and values node:http counts against maxHeaderSize.
    let headBytes = method.length + url.length + 13;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      // Lower-case only names as long as the ones we look for (host, x-request-id,
      // content-length, transfer-encoding): this loop runs for every header of every request.
      const len = name.length;
      headBytes += len + raw[i + 1].length + 4;
      if (len === 4) {
        if (name.toLowerCase() === 'host') hosts++;
        continue;
      }
      if (len !== 12 && len !== 14 && len !== 17) continue;
      const lower = name.toLowerCase();
      if (lower === 'x-request-id') incomingId = raw[i + 1];
      else if (lower === 'content-length') contentLength = Number(raw[i + 1]);
      else if (lower === 'transfer-encoding') chunked = true;
    }
    const id = incomingId && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    const refused = headProblem(raw.length / 2, headBytes, hosts, limits);
    if (refused) {
      sendError(res, id, refused.status, refused.message, ['connection', 'close']);
      logRequest(method, url.slice(0, 80), refused.status, start, id);
      res.on('finish', () => req.socket.destroySoon());
      return;
    }
    if (url.length > limits.urlBytes) {
      sendError(res, id, 414, `URL longer than ${limits.urlBytes} bytes`);
      logRequest(method, url.slice(0, 80) + '...', 414, start, id);
      return;
    }
    if (url === '*') {
      // asterisk-form: OPTIONS * asks what the server supports; nothing else may use it.
      if (method === 'OPTIONS') send(res, id, 204, undefined, ['allow', ALLOW], undefined);
      else sendError(res, id, 400, 'the request target * is only for OPTIONS');
      logRequest(method, url, method === 'OPTIONS' ? 204 : 400, start, id);
      return;
    }
    const q = url.indexOf('?');
    let path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    if (path[0] !== '/') {
      // absolute-form (proxy style) or asterisk-form request targets
      try {
        path = new URL(path).pathname;
      } catch {
        sendError(res, id, 400, 'request target must be a path starting with /');
        logRequest(method, path, 400, start, id);
        return;
      }
    }

    const reply = (out: HostResponse) => {
      if (out.error) log.error('handler failed', { method, path, request_id: id, error: out.error });
      try {
        // 1xx are interim responses: sent as the final one, clients hang or fail.
        if (!(out.status >= 200 && out.status <= 999)) throw new Error(`status ${out.status} is not a final response status (200-999)`);
        send(res, id, out.status, out.contentType, out.headers, out.body);
      } catch (err) {
        log.error('invalid response', { method, path, request_id: id, error: (err as Error).message });
        // writeHead kept the first attempt's reason phrase ("OK"): this one is a 500.
        res.statusMessage = http.STATUS_CODES[500]!;
        sendError(res, id, 500, 'internal server error');
        logRequest(method, path, 500, start, id);
        return;
      }
      logRequest(method, path, out.status, start, id);
    };

    const fail = (err: unknown) => {
      if (err instanceof LuaBudgetError) {
        const what = err.kind === 'cpu' ? 'handler exceeded its CPU budget' : 'handler exceeded the Lua memory limit';
        log.error(what, { method, path, request_id: id, limit: err.kind === 'cpu' ? `${err.limit} ms` : `${err.limit} bytes` });
        if (err.kind === 'memory') engine.collect().catch(() => undefined);
        const status = err.kind === 'cpu' ? 503 : 500;
        sendError(res, id, status, err.kind === 'cpu' ? 'request used too much CPU time' : 'request used too much memory');
        logRequest(method, path, status, start, id);
        return;
      }
      if (err instanceof LuaTimeoutError) {
        log.error('handler timed out', { method, path, request_id: id, timeout_ms: limits.handlerTimeoutMs });
        sendError(res, id, 503, `handler did not finish within ${limits.handlerTimeoutMs} ms`);
        logRequest(method, path, 503, start, id);
        return;
      }
      log.error('handler failed', { method, path, request_id: id, error: (err as Error).message, traceback: (err as { traceback?: string }).traceback });
      sendError(res, id, 500, 'internal server error');
      logRequest(method, path, 500, start, id);
    };

    const dispatch = (body: Buffer | undefined) => {
      let out: HostResponse | Promise<HostResponse>;
      try {
        out = engine.serve({ method, path, query, rawHeaders: raw, body, id, socket: req.socket },
          { deadline: Date.now() + limits.handlerTimeoutMs });
      } catch (err) {
        fail(err);
        return;
      }
      // Only a handler that waited on the host answers from a promise.
      if (out instanceof Promise) out.then(reply, fail);
      else reply(out);
    };

    if (contentLength <= 0 && !chunked) {
      dispatch(undefined);
      return;
    }
    // A client that goes away while sending its body never reaches dispatch.
    let ended = false;
    res.on('close', () => {
      if (!ended) {
        ended = true;
        if (!res.writableEnded) finish();
      }
    });
    if (contentLength > limits.bodyBytes) {
      ended = true;
      tooLarge();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limits.bodyBytes) {
        failed = true;
        ended = true;
        tooLarge();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed || ended) return;
      ended = true;
      dispatch(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    req.on('error', () => {
      failed = true;
    });

    function tooLarge() {
      // The rest of the body is not read: close the connection after answering.
      sendError(res, id, 413, `request body larger than ${limits.bodyBytes} bytes`, ['connection', 'close']);
      logRequest(method, path, 413, start, id);
      res.on('finish', () => req.socket.destroySoon());
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(new RedoxError('REDOX_PORT_IN_USE', `port ${options.port} is already in use on ${options.host}`,
          'stop the other process or choose another port with --port (or PORT); --port 0 picks a free one'));
      } else {
        reject(new RedoxError('REDOX_LISTEN', `cannot listen on ${options.host}:${options.port}: ${err.message}`));
      }
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as import('node:net').AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    close: () => {
      draining = true;
      return connections.drain();
    },
  };
}
