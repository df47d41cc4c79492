// The HTTP front: node:http in, one Lua coroutine per request, limits enforced before Lua
// sees anything, and a graceful drain on shutdown.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { HostResponse, RequestEngine } from './engine';
import { Logger } from './log';
import { LuaBudgetError, LuaTimeoutError } from '../lua/vm';
import { LuaDiscardedError, RecoverableOptions } from './recovery';
import { RedoxError } from '../errors';
import { Limits } from './limits';
import type { CompletedRequest, RequestObserver } from '../feature';
import { compressResponse } from './http/compress';
import { AnyRequest, AnyResponse, connectionCloser, createListener } from './http/listener';
import { StaticFiles, staticSegments } from './http/static-files';
import { TlsMaterial } from './http/tls';
import { Connections, watchConnections } from './connections';
import { BatchItem, DispatchBatch } from './http/dispatch-batch';
import { onForcedStop } from './watchdog';

export interface ServerOptions {
  host: string;
  port: number;
  limits: Limits;
  log: Logger;
  /** Told about every request (features' operations hooks, e.g. metrics). */
  observer?: RequestObserver;
  /** Files answered before the app (--static). */
  static?: StaticFiles;
  /** gzip/brotli for compressible responses (--compress, default on). */
  compress?: boolean;
  /** HTTPS (and HTTP/2 when tls.http2) instead of plain HTTP. */
  tls?: TlsMaterial;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish (up to limits.shutdownMs), then closes. */
  close(): Promise<void>;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const JSON_TYPE = 'application/json; charset=utf-8';
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

export async function startServer(engine: RequestEngine, options: ServerOptions): Promise<RunningServer> {
  const { limits, log, observer } = options;
  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | null = null;

  const finish = () => {
    inFlight--;
    if (draining && inFlight === 0 && drained) drained();
  };

  const server = createListener(limits, options.tls, handle);
  const closer = connectionCloser(server);
  // Plain HTTP: per-address limits, refused clients lose their socket, and a drain that answers
  // every accepted connection (connections.ts). TLS keeps the listener's own closer.
  let connections: Connections | undefined;
  if (server instanceof http.Server && !options.tls) {
    // One header more than allowed is kept, so too many is a 431 and not a silent cut.
    server.maxHeadersCount = MAX_HEADER_COUNT + 1;
    connections = watchConnections(server, limits, log);
  }
  if (limits.maxConnections > 0) {
    server.maxConnections = limits.maxConnections;
    // Node closes a connection over the limit without a word: a warning (one a second, with how
    // many were refused since the last one) says why.
    let lastDrop = 0;
    let dropped = 0;
    server.on('drop', (data?: { remoteAddress?: string }) => {
      dropped++;
      if (Date.now() - lastDrop < 1000) return;
      lastDrop = Date.now();
      log.warn('connection refused: --max-connections reached', { limit: limits.maxConnections, ip: data?.remoteAddress, dropped });
      dropped = 0;
    });
  }
  if (limits.maxRequestsPerSocket > 0 && 'maxRequestsPerSocket' in server) server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  const compress = options.compress !== false;
  const batch = new DispatchBatch<HostResponse>();
  // A forced stop unwinds the batch it lands in: the rest of that batch still runs.
  const stopBatchResume = onForcedStop(() => batch.resume());

  /** Frames and sends a response; every request ends here exactly once (in-flight count).
   *  With `method` (handler responses), the body may be compressed. */
  const send = (res: AnyResponse, id: string, status: number, contentType: string | undefined, extra: string[] | undefined,
    body: Buffer | string | undefined, method?: string, acceptEncoding?: string) => {
    const headers = extra ?? [];
    if (contentType !== undefined) headers.push('content-type', contentType);
    if (compress && method !== undefined) body = compressResponse(acceptEncoding, method, status, headers, body);
    headers.push('x-request-id', id);
    // Explicit length: writeHead with a header list would otherwise fall back to chunked.
    if (body !== undefined && status !== 204 && status !== 304) {
      headers.push('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.length));
    }
    // HTTP/2 has no connection header (node:http2 refuses it).
    if (draining && !isHttp2(res)) headers.push('connection', 'close');
    // Throws on a header value node refuses; the caller then answers 500 (and counts that one).
    res.writeHead(status, headers as unknown as import('node:http2').OutgoingHttpHeaders);
    if (body === undefined) res.end();
    else res.end(body);
    finish();
  };

  const sendError = (res: AnyResponse, id: string, status: number, message: string, extra?: string[]) => {
    if (res.headersSent) {
      res.destroy();
      finish();
      return;
    }
    send(res, id, status, JSON_TYPE, isHttp2(res) ? undefined : extra, JSON.stringify({ error: message, request_id: id }));
  };

  // Every answered request ends here once: the observer hears about it with its route pattern.
  const logRequest = (method: string, path: string, status: number, start: number, id: string,
    route: string | undefined = undefined, killed: CompletedRequest['killed'] = undefined, failed = false) => {
    if (observer) observer.completed({ method, route: route ?? null, status, durationMs: performance.now() - start, killed, failed });
    if (log.enabled('info')) log.request(method, path, status, Math.round((performance.now() - start) * 100) / 100, id);
  };

  /** One request from routing to the answer: a single object per request instead of closures;
   *  `run` is where the request enters the engine, from a batch (http/dispatch-batch.ts). */
  class Exchange implements BatchItem<HostResponse> {
    constructor(
      readonly req: AnyRequest, readonly res: AnyResponse, readonly id: string,
      readonly method: string, readonly path: string, readonly query: string, readonly start: number,
      readonly rawHeaders: string[], readonly acceptEncoding: string | undefined,
    ) {}

    /** The request's body, read before it joins the batch. */
    body: Buffer | undefined = undefined;

    /** Runs the handler: the answer to send, or undefined when it is answered already (a
     *  failure) or later (a handler that waits on the host answers from a promise). */
    run(): HostResponse | undefined {
      let out: HostResponse | Promise<HostResponse>;
      try {
        // onDiscard: answered by the RecoveringEngine if a forced stop discards the VM.
        const options: RecoverableOptions = { deadline: Date.now() + limits.handlerTimeoutMs, onDiscard: this };
        out = engine.serve({ method: this.method, path: this.path, query: this.query, rawHeaders: this.rawHeaders, body: this.body, id: this.id, socket: this.req.socket }, options);
      } catch (err) {
        this.fail(err);
        return undefined;
      }
      if (out instanceof Promise) {
        out.then((o) => this.reply(o), (err) => this.fail(err));
        return undefined;
      }
      return out;
    }

    reply(out: HostResponse): void {
      const { res, id, method, path } = this;
      if (out.error) log.error('handler failed', { method, path, request_id: id, error: out.error });
      try {
        // 1xx are interim responses: sent as the final one, clients hang or fail.
        if (!(out.status >= 200 && out.status <= 999)) throw new Error(`status ${out.status} is not a final response status (200-999)`);
        send(res, id, out.status, out.contentType, out.headers, out.body, method, this.acceptEncoding);
      } catch (err) {
        log.error('invalid response', { method, path, request_id: id, error: (err as Error).message });
        // writeHead kept the first attempt's reason phrase ("OK"): this one is a 500.
        if (!isHttp2(res)) (res as http.ServerResponse).statusMessage = http.STATUS_CODES[500]!;
        sendError(res, id, 500, 'internal server error');
        logRequest(method, path, 500, this.start, id, out.route, undefined, true);
        return;
      }
      logRequest(method, path, out.status, this.start, id, out.route, undefined, out.error !== undefined && out.status >= 500);
    }

    fail(err: unknown): void {
      const { res, id, method, path, start } = this;
      // Already answered: a forced stop failed this request before its wait ended.
      if (res.writableEnded) return;
      if (err instanceof LuaBudgetError) {
        const what = err.kind === 'cpu' ? 'handler exceeded its CPU budget' : 'handler exceeded the Lua memory limit';
        log.error(what, { method, path, request_id: id, limit: err.kind === 'cpu' ? `${err.limit} ms` : `${err.limit} bytes` });
        if (err.kind === 'memory') engine.collect().catch(() => undefined);
        const status = err.kind === 'cpu' ? 503 : 500;
        sendError(res, id, status, err.kind === 'cpu' ? 'request used too much CPU time' : 'request used too much memory');
        logRequest(method, path, status, start, id, undefined, err.kind);
        return;
      }
      if (err instanceof LuaDiscardedError) {
        log.error('request failed: the watchdog stopped the Lua VM', { method, path, request_id: id });
        // The stop may have unwound node:http's parser of this connection mid-request.
        sendError(res, id, 503, 'request stopped: the Lua VM was restarted', ['connection', 'close']);
        res.on('finish', () => this.req.socket.destroySoon());
        logRequest(method, path, 503, start, id);
        return;
      }
      if (err instanceof LuaTimeoutError) {
        log.error('handler timed out', { method, path, request_id: id, timeout_ms: limits.handlerTimeoutMs });
        sendError(res, id, 503, `handler did not finish within ${limits.handlerTimeoutMs} ms`);
        logRequest(method, path, 503, start, id, undefined, 'timeout');
        return;
      }
      log.error('handler failed', { method, path, request_id: id, error: (err as Error).message, traceback: (err as { traceback?: string }).traceback });
      sendError(res, id, 500, 'internal server error');
      logRequest(method, path, 500, start, id, undefined, undefined, true);
    }
  }

  function handle(req: AnyRequest, res: AnyResponse): void {
    inFlight++;
    connections?.started(req.socket as import('node:net').Socket);
    observer?.started?.();
    const start = performance.now();
    const h2 = isHttp2(res);
    // HTTP/2 pseudo-headers (:method, :path, ...) are not headers for the app.
    const raw = h2 ? withoutPseudoHeaders(req.rawHeaders) : req.rawHeaders;
    let incomingId: string | undefined;
    let contentLength = -1;
    let chunked = false;
    let acceptEncoding: string | undefined;
    let hosts = 0;
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    // The whole head as sent (request line, "name: value" lines, blank line), not only the
    // names and values node:http counts against maxHeaderSize.
    let headBytes = method.length + url.length + 13;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      // Lower-case only names as long as the ones we look for (host, x-request-id, content-length,
      // accept-encoding, transfer-encoding): this loop runs for every header of every request.
      const len = name.length;
      headBytes += len + raw[i + 1].length + 4;
      if (len === 4) {
        if (name.toLowerCase() === 'host') hosts++;
        continue;
      }
      if (len !== 12 && len !== 14 && len !== 15 && len !== 17) continue;
      const lower = name.toLowerCase();
      if (lower === 'x-request-id') incomingId = raw[i + 1];
      else if (lower === 'content-length') contentLength = Number(raw[i + 1]);
      else if (lower === 'accept-encoding') acceptEncoding = raw[i + 1];
      else if (lower === 'transfer-encoding') chunked = true;
    }
    const id = incomingId && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    const refused = headProblem(raw.length / 2, headBytes, hosts, limits);
    if (refused) {
      sendError(res, id, refused.status, refused.message, ['connection', 'close']);
      logRequest(method, url.slice(0, 80), refused.status, start, id);
      if (!h2) res.on('finish', () => req.socket.destroySoon());
      return;
    }
    // HTTP/2 bodies have no framing header: read one unless the stream already ended.
    if (h2 && contentLength < 0 && !(req as import('node:http2').Http2ServerRequest).stream.readableEnded
      && method !== 'GET' && method !== 'HEAD') chunked = true;
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

    const ex = new Exchange(req, res, id, method, path, query, start, raw, acceptEncoding);
    if (options.static && (method === 'GET' || method === 'HEAD') && serveStatic(options.static)) return;
    if (contentLength <= 0 && !chunked) {
      batch.add(ex);
      return;
    }
    // A client that goes away while sending its body never joins a batch.
    let ended = false;
    res.on('close', () => {
      if (!ended) {
        ended = true;
        if (!res.writableEnded) {
          finish();
          // Nothing is answered, but observers must see the end (499: client closed request).
          observer?.completed({ method, route: null, status: 499, durationMs: performance.now() - start, failed: false });
        }
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
      ex.body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      batch.add(ex);
    });
    req.on('error', () => {
      failed = true;
    });

    function tooLarge() {
      // The rest of the body is not read: close the connection after answering.
      sendError(res, id, 413, `request body larger than ${limits.bodyBytes} bytes`, ['connection', 'close']);
      logRequest(method, path, 413, start, id);
      res.on('finish', () => {
        // HTTP/2: end only this stream (NO_ERROR asks the client to stop sending), not the session.
        if (h2) (req as import('node:http2').Http2ServerRequest).stream.close();
        else req.socket.destroySoon();
      });
    }

    /** Answers from the static files when the path is theirs; false hands the request on. */
    function serveStatic(statics: StaticFiles): boolean {
      const segments = staticSegments(q < 0 ? url : url.slice(0, q), statics.prefix);
      if (segments === null) return false;
      if (segments === 'reject') {
        // A path that tries to leave the folder is answered like a missing file.
        sendError(res, id, 404, 'not found');
        logRequest(method, path, 404, start, id);
        return true;
      }
      statics.serve(segments, req, res, { 'x-request-id': id }).then((status) => {
        if (status === 0) return batch.add(ex);
        // A streamed file is in flight until its response closes.
        if (res.writableFinished || res.destroyed) finish();
        else res.once('close', finish);
        logRequest(method, path, status, start, id);
      }, (err: Error) => {
        log.error('static file failed', { method, path, request_id: id, error: err.message });
        sendError(res, id, 500, 'internal server error');
        logRequest(method, path, 500, start, id);
      });
      return true;
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
  if (!connections) server.on('clientError', (err: NodeJS.ErrnoException, socket: import('node:stream').Duplex) => {
    // Answer if we still can, then close the socket for good: end() alone only half-closes.
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    socket.write(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`, () => socket.destroy());
    setTimeout(() => socket.destroy(), 1000).unref();
  });

  const address = server.address() as import('node:net').AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${options.tls ? 'https' : 'http'}://${shownHost}:${address.port}`,
    port: address.port,
    close: () => drain().finally(stopBatchResume),
  };

  function drain(): Promise<void> {
    return connections ? (draining = true, connections.drain()) : new Promise<void>((resolve) => {
      draining = true;
      server.close(() => resolve());
      closer.idle();
      const done = () => {
        closer.all();
        resolve();
      };
      if (inFlight === 0) return done();
      const timer = setTimeout(() => {
        log.warn('shutdown timeout: closing connections with requests still in flight', { in_flight: inFlight });
        done();
      }, limits.shutdownMs);
      drained = () => {
        clearTimeout(timer);
        // Let the last responses flush before the sockets are closed.
        setImmediate(done);
      };
    });
  }
}

function isHttp2(res: AnyResponse): boolean {
  return 'stream' in res;
}

function withoutPseudoHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i].charCodeAt(0) !== 58) out.push(raw[i], raw[i + 1]);
  return out;
}
