// TypeScriptToLua declarations for the `requests` feature: the global `requests` and
// require("requests"). Free functions are called with "." (this: void); res.json is a method
// (called with ":").

interface RedoxError {
  code: string;
  message: string;
}

type RequestsErrorCode =
  | 'timeout' | 'connect_timeout' | 'connection_refused' | 'dns' | 'tls' | 'network'
  | 'response_too_large' | 'too_many_redirects' | 'invalid_url' | 'blocked';

interface RequestsError extends RedoxError {
  code: RequestsErrorCode;
  /** The method and URL of the attempt that failed (the last hop after redirects). */
  method: string;
  url: string;
  /** The underlying system or undici code, e.g. "ECONNRESET", when there is one. */
  cause?: string;
}

interface RequestsOptions {
  /** Header name -> value; a list sends the header once per item. Names are sent lower-case. */
  headers?: { [name: string]: string | number | string[] };
  /** Raw request body (any bytes). Not together with json. */
  body?: string;
  /** Encoded with json.encode; sets content-type: application/json unless headers set one. */
  json?: unknown;
  /** Appended to the URL's query, percent-encoded, keys sorted; a list repeats the key. */
  query?: { [key: string]: string | number | boolean | (string | number | boolean)[] };
  /** Seconds for the whole call, redirects and body included. Default 30. */
  timeout?: number;
  /** Seconds to establish a connection (TCP and TLS). Default 10. */
  connect_timeout?: number;
  /** Largest body read, in bytes (after decompression). Default 10 MiB. */
  max_size?: number;
  /** Default: true for GET and HEAD, false for other methods. */
  follow_redirects?: boolean;
  /** Default 5. */
  max_redirects?: number;
  /** Decode gzip/deflate/br bodies (and send accept-encoding). Default true. */
  decompress?: boolean;
}

interface RequestsRequestSpec extends RequestsOptions {
  /** Any HTTP method; upper-cased. Default "GET". */
  method?: string;
  url: string;
}

interface RequestsResponse {
  status: number;
  /** True for 2xx statuses. */
  ok: boolean;
  /** Lower-case names; repeated headers joined with ", "; set-cookie is always a list. */
  headers: { [name: string]: string } & { 'set-cookie'?: string[] };
  /** The body as a byte string ("" for HEAD, 204 and 304). */
  body: string;
  /** The final URL, after redirects. */
  url: string;
  /** The body decoded as JSON; raises (with the position) when it is not valid JSON. */
  json(): any;
}

type RequestsResult = LuaMultiReturn<[RequestsResponse, undefined] | [undefined, RequestsError]>;

interface RequestsModule {
  get(this: void, url: string, opts?: RequestsOptions): RequestsResult;
  post(this: void, url: string, opts?: RequestsOptions): RequestsResult;
  put(this: void, url: string, opts?: RequestsOptions): RequestsResult;
  patch(this: void, url: string, opts?: RequestsOptions): RequestsResult;
  delete(this: void, url: string, opts?: RequestsOptions): RequestsResult;
  head(this: void, url: string, opts?: RequestsOptions): RequestsResult;
  options(this: void, url: string, opts?: RequestsOptions): RequestsResult;
  request(this: void, spec: RequestsRequestSpec): RequestsResult;
}

declare const requests: RequestsModule;

declare module 'requests' {
  const requests: RequestsModule;
  export = requests;
}
