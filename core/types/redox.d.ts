// The Redox core API for TypeScript authors (TypeScriptToLua, Lua 5.4): requests, responses,
// the router, `json`, `log` and `redox.*`. Feature modules ship their own `<name>.d.ts`.
//
// How these compile: free functions are declared `this: void` and compile to `json.encode(x)`;
// router and request methods are plain methods and compile to `app:get(...)`, `req:json()`.
// Handlers are `(req) => ...` functions without `self`, as the router calls them.
// `redox init` copies this file into a project's types/ folder, and the LuaLS annotations of
// the Lua template are generated from it (core/tooling/typescript/luals.ts), so both stay the same API.

/** An expected failure, returned as the second value of `nil, err` (`tostring(err)` gives
 *  "code: message"). */
interface RedoxError {
  code: string;
  message: string;
}

/** The `redox` global: the router, HTTP errors, time, environment and build information. */
declare const redox: redox.Module;

declare namespace redox {
  type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS' | 'HEAD';

  /** Response headers: a value, or a list of values sent as repeated headers. */
  type Headers = Record<string, string | number | string[]>;

  /** An incoming request. Header names are lower-case; repeated headers are joined with ", ". */
  interface Request {
    readonly method: Method;
    /** The path without the query string, for example "/users/42". */
    readonly path: string;
    /** Decoded query parameters; a repeated parameter becomes a list. */
    readonly query: Record<string, string | string[]>;
    /** Route parameters (":id" in "/users/:id") and the "*" splat. */
    params: Record<string, string>;
    readonly headers: Record<string, string>;
    /** The client address. */
    readonly ip: string;
    /** The request id (x-request-id when the client sent a valid one, else a fresh UUID). */
    readonly id: string;
    /** The raw body ("" when there is none). */
    body(): string;
    /** The body decoded as JSON; an empty or invalid body answers 400 without reaching your code. */
    json<T = any>(): T;
    /** Cookies from the Cookie header by name; malformed ones are left out. */
    readonly cookies: Record<string, string>;
    /** Whether the request came over TLS (--tls-cert). */
    readonly secure: boolean;
    /** The body as a urlencoded or multipart form; not a form answers 415, a malformed one 400,
     *  a part over the limits 413. */
    form(options?: FormOptions): Form;
  }

  interface FormOptions {
    max_field_size?: number;
    max_file_size?: number;
    max_parts?: number;
  }

  interface FormFile {
    field: string;
    filename: string;
    content_type: string;
    /** The file's bytes. */
    data: string;
  }

  interface Form {
    /** Field values by name; a repeated name gives a list. */
    fields: Record<string, string | string[]>;
    /** The first file sent under each field name. */
    files: Record<string, FormFile>;
    /** Every file, in the order sent. */
    file_list: FormFile[];
  }

  /** A cookie to set: its value, or options. Defaults: Path=/, HttpOnly, SameSite=Lax, Secure
   *  over TLS. `false` deletes the cookie. */
  type Cookie = string | false | {
    value?: string;
    max_age?: number;
    /** Epoch seconds or an HTTP date. */
    expires?: number | string;
    path?: string | false;
    domain?: string;
    same_site?: 'Lax' | 'Strict' | 'None' | false;
    secure?: boolean;
    http_only?: boolean;
  };

  interface CorsOptions {
    /** "*" (default), an origin, or a list of exact origins. */
    origins?: string | string[];
    methods?: string | string[];
    /** Allowed request headers (default: those the preflight asks for). */
    headers?: string | string[];
    /** Response headers scripts may read. */
    expose?: string | string[];
    credentials?: boolean;
    max_age?: number;
  }

  /** A response with a text (or binary) body; content-type defaults to text/plain. */
  interface BodyResponse {
    status?: number;
    headers?: Headers;
    body?: string;
    cookies?: Record<string, Cookie>;
  }

  /** A response encoded as JSON; content-type defaults to application/json. */
  interface JsonResponse {
    status?: number;
    headers?: Headers;
    json: unknown;
    cookies?: Record<string, Cookie>;
  }

  /** What a handler returns: a string (200 text), a table, or nothing (204). */
  type Response = string | BodyResponse | JsonResponse | undefined | void;

  /** The response after normalisation, as `next()` hands it to middleware. */
  interface NormalizedResponse {
    status: number;
    headers: Record<string, string | string[]>;
    body?: string;
  }

  type Handler = (req: Request) => Response;
  /** Runs the rest of the chain (later middleware, then the route) and returns its response. */
  type Next = () => NormalizedResponse;
  type Middleware = (req: Request, next: Next) => Response | NormalizedResponse;

  /** Routes requests by method and path: "/users/:id" binds req.params.id, "/files/*path"
   *  binds the rest of the path. Every method returns the router so calls chain. */
  interface Router {
    get(path: string, handler: Handler): Router;
    post(path: string, handler: Handler): Router;
    put(path: string, handler: Handler): Router;
    patch(path: string, handler: Handler): Router;
    delete(path: string, handler: Handler): Router;
    options(path: string, handler: Handler): Router;
    head(path: string, handler: Handler): Router;
    /** Any method. */
    all(path: string, handler: Handler): Router;
    /** Adds middleware that runs before every route, in the order added. */
    use(middleware: Middleware): Router;
    /** Routes one request through the middleware and the routes (what the server calls). */
    handle(req: Request): NormalizedResponse;
  }

  interface Module {
    /** A new router; export it as the app (`export default app`). */
    router(this: void): Router;
    /** Ends the request with an HTTP error (status 400-599): `{"error": message}` as JSON. */
    abort(this: void, status: number, message?: string, headers?: Headers): never;
    /** Waits without blocking other requests. */
    sleep(this: void, ms: number): void;
    /** Milliseconds since the epoch. */
    now(this: void): number;
    /** An environment variable (REDOX_ENV_ALLOW can restrict which ones are visible). */
    env(this: void, name: string): string | undefined;
    /** The Redox version. */
    readonly version: string;
    /** The features of this build, sorted. */
    readonly features: string[];
    /** JSON null (the same value as json.null). */
    readonly null: json.Null;
    /** Middleware answering CORS preflights and adding CORS headers for allowed origins. */
    cors(this: void, options?: CorsOptions): Middleware;
    /** HTML helpers. */
    readonly html: Html;
  }

  interface Html {
    /** Escapes & < > " ' for HTML text and quoted attributes; nil gives "". */
    escape(this: void, text: unknown): string;
  }
}

/** The `json` global: JSON text <-> Lua values. Object keys are encoded sorted. */
declare const json: json.Module;

declare namespace json {
  /** The JSON null value (a Lua sentinel, not nil). */
  interface Null {
    readonly __jsonNull: never;
  }
  interface Options {
    /** Deepest nesting accepted (default 200). */
    max_depth?: number;
  }
  interface Module {
    /** Encodes a value as JSON text. Raises on cycles, NaN/infinity, invalid UTF-8, sparse arrays. */
    encode(this: void, value: unknown, options?: Options): string;
    /** Decodes JSON text; raises with the position on invalid input. null becomes json.null. */
    decode<T = any>(this: void, text: string, options?: Options): T;
    /** JSON null. */
    readonly null: Null;
    /** Marks a list so that it encodes as a JSON array even when empty. */
    array<T = unknown>(this: void, items?: T[]): T[];
    /** A shared empty array value; do not add items to it. */
    readonly empty_array: readonly never[];
    /** Whether a value is marked as a JSON array (decoded arrays are). */
    is_array(this: void, value: unknown): boolean;
  }
}

/** The `log` global: structured logs (JSON lines, or readable lines on a terminal). */
declare const log: log.Module;

declare namespace log {
  type Fields = Record<string, unknown>;
  interface Module {
    debug(this: void, message: string, fields?: Fields): void;
    info(this: void, message: string, fields?: Fields): void;
    warn(this: void, message: string, fields?: Fields): void;
    error(this: void, message: string, fields?: Fields): void;
  }
}

/** The original Redox's name for `log` (same module). */
declare const logger: log.Module;

/** `redox test` only: declaring tests, assertions with readable diffs, and an HTTP client that
 *  calls the app in the same VM without a socket. Also `require("t")`. */
declare const t: t.Module;

declare namespace t {
  interface RequestOptions {
    /** Request headers; a list sends the header once per item. */
    headers?: Record<string, string | number | string[]>;
    /** Encoded with json.encode; sets content-type: application/json unless headers has one. */
    json?: unknown;
    /** The raw body (not with json). */
    body?: string;
    /** Appended to the path's query string, percent-encoded, keys sorted; a list repeats the key. */
    query?: Record<string, string | number | boolean | (string | number)[]>;
  }
  interface Response {
    readonly status: number;
    /** Lower-case names; a repeated header (set-cookie) is a list. */
    readonly headers: Record<string, string | string[]>;
    /** The body ("" when there is none). */
    readonly body: string;
    /** When the handler failed: the error the server would have logged (message and traceback). */
    readonly error?: string;
    /** The body decoded as JSON; a body that is not JSON fails the test and shows it. */
    json<T = any>(): T;
  }
  interface Module {
    /** Declares a test; it runs after the whole file has loaded. */
    test(this: void, name: string, fn: (this: void) => void): void;
    /** Declares a test that is reported as skipped. */
    skip(this: void, name: string, fn?: (this: void) => void): void;
    /** Groups tests (names become "group > test"); hooks declared inside apply to the group. */
    describe(this: void, name: string, fn: (this: void) => void): void;
    before_each(this: void, fn: (this: void) => void): void;
    after_each(this: void, fn: (this: void) => void): void;
    /** Deep equality (tables by content); the failure shows where they first differ. */
    eq(this: void, actual: unknown, expected: unknown, note?: string): void;
    neq(this: void, actual: unknown, unexpected: unknown, note?: string): void;
    /** Passes when value is neither nil nor false; returns it. */
    ok<T>(this: void, value: T, note?: string): T;
    /** Passes when s contains the Lua pattern (plain = true: the literal text). */
    match(this: void, s: string, pattern: string, note?: string, plain?: boolean): void;
    /** Passes when fn raises (with pattern: an error whose text contains it); returns the error. */
    raises(this: void, fn: (this: void) => unknown, pattern?: string, note?: string): unknown;
    /** Passes when res.status is status; the failure shows the body and the handler's error. */
    status(this: void, res: Response, status: number, note?: string): Response;
    fail(this: void, message?: string): never;
    /** A value as readable text (tables sorted, nested). */
    show(this: void, value: unknown): string;
    request(this: void, method: string, path: string, opts?: RequestOptions): Response;
    get(this: void, path: string, opts?: RequestOptions): Response;
    post(this: void, path: string, opts?: RequestOptions): Response;
    put(this: void, path: string, opts?: RequestOptions): Response;
    patch(this: void, path: string, opts?: RequestOptions): Response;
    delete(this: void, path: string, opts?: RequestOptions): Response;
    head(this: void, path: string, opts?: RequestOptions): Response;
    options(this: void, path: string, opts?: RequestOptions): Response;
  }
}

/** `redox test` only: t.test, t.describe (it is t.test), t.before_each, t.after_each. */
declare function test(this: void, name: string, fn: (this: void) => void): void;
declare function describe(this: void, name: string, fn: (this: void) => void): void;
declare function it(this: void, name: string, fn: (this: void) => void): void;
declare function before_each(this: void, fn: (this: void) => void): void;
declare function after_each(this: void, fn: (this: void) => void): void;

/** Writes its arguments to standard output, separated by tabs (Lua's print).
 *  @tsonly */
declare function print(this: void, ...values: unknown[]): void;

/** console.log/info/debug write to standard output like Node's; console.warn/error log at
 *  warn/error level. Numbers print as in JavaScript; tables print as JSON.
 *  @tsonly */
declare const console: {
  log(this: void, ...values: unknown[]): void;
  info(this: void, ...values: unknown[]): void;
  debug(this: void, ...values: unknown[]): void;
  warn(this: void, ...values: unknown[]): void;
  error(this: void, ...values: unknown[]): void;
};

/** The arguments of `redox run script.ts a b`: arg[0] is "a" (TypeScript indices start at 0).
 *  @tsonly */
declare const arg: readonly string[];

// The seed's style: without an exported router, routes registered with these globals form the
// app. (`delete` is a reserved word in TypeScript; use a router for DELETE routes.)
declare function get(this: void, path: string, handler: redox.Handler): redox.Router;
declare function post(this: void, path: string, handler: redox.Handler): redox.Router;
declare function put(this: void, path: string, handler: redox.Handler): redox.Router;
declare function patch(this: void, path: string, handler: redox.Handler): redox.Router;
declare function options(this: void, path: string, handler: redox.Handler): redox.Router;
declare function head(this: void, path: string, handler: redox.Handler): redox.Router;
declare function all(this: void, path: string, handler: redox.Handler): redox.Router;
declare function use(this: void, middleware: redox.Middleware): redox.Router;
