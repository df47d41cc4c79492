// The HTTP front's options beyond the limits: static files, compression, TLS/HTTP2. Flags win
// over environment variables, as for the limits; every value is checked before the server starts.
import { RedoxError } from '../../errors';
import type { StaticFiles, StaticSource } from './static-files';
import type { TlsMaterial } from './tls';

// Loaded when a flag asks for them: the CLI reads this file's HTTP_ENV for every command.
/* eslint-disable @typescript-eslint/no-require-imports */
const staticModule = () => require('./static-files') as typeof import('./static-files');
const tlsModule = () => require('./tls') as typeof import('./tls');
/* eslint-enable @typescript-eslint/no-require-imports */

/** The flags as given (strings), so a primary can hand them to its workers unchanged. */
export interface HttpFlags {
  static?: string;
  staticPrefix?: string;
  compress?: string;
  tlsCert?: string;
  tlsKey?: string;
  http2?: boolean;
}

export interface HttpSettings {
  static?: StaticFiles;
  compress: boolean;
  tls?: TlsMaterial;
}

export const HTTP_ENV = {
  static: 'REDOX_STATIC', staticPrefix: 'REDOX_STATIC_PREFIX', compress: 'REDOX_COMPRESS',
  tlsCert: 'REDOX_TLS_CERT', tlsKey: 'REDOX_TLS_KEY', http2: 'REDOX_HTTP2',
} as const;

function parseSwitch(text: string, source: string): boolean {
  const t = text.trim().toLowerCase();
  if (t === 'on' || t === 'true' || t === '1') return true;
  if (t === 'off' || t === 'false' || t === '0') return false;
  throw new RedoxError('REDOX_USAGE', `${source} must be on or off, got "${text}"`);
}

/** `embedded`: the files built into this binary, served when no --static folder is given. */
export function resolveHttpSettings(flags: HttpFlags, env: NodeJS.ProcessEnv = process.env, embedded?: StaticSource): HttpSettings {
  const pick = (key: keyof typeof HTTP_ENV): { value: string; source: string } | undefined => {
    const flag = flags[key];
    if (flag !== undefined && flag !== false) return { value: String(flag), source: '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()) };
    const fromEnv = env[HTTP_ENV[key]];
    return fromEnv ? { value: fromEnv, source: HTTP_ENV[key] } : undefined;
  };
  const compressFlag = pick('compress');
  const compress = compressFlag ? parseSwitch(compressFlag.value, compressFlag.source) : true;

  const dir = pick('static');
  const prefixFlag = pick('staticPrefix');
  const source = dir ? new (staticModule().DirectorySource)(dir.value) : embedded;
  if (prefixFlag && !source) {
    throw new RedoxError('REDOX_USAGE', `${prefixFlag.source} needs --static DIR`, 'add --static ./public (or build with --static to embed the files)');
  }
  const statics = source ? staticModule().staticFiles(source, staticModule().normalizePrefix(prefixFlag?.value), compress) : undefined;

  const cert = pick('tlsCert');
  const key = pick('tlsKey');
  const h2 = pick('http2');
  const http2 = h2 ? parseSwitch(h2.value === 'true' ? 'on' : h2.value, h2.source) : false;
  if (Boolean(cert) !== Boolean(key)) {
    throw new RedoxError('REDOX_USAGE', cert ? `${cert.source} needs --tls-key too` : `${key!.source} needs --tls-cert too`,
      'pass both: --tls-cert cert.pem --tls-key key.pem');
  }
  if (http2 && !cert) {
    throw new RedoxError('REDOX_USAGE', `${h2!.source} needs TLS: HTTP/2 is served over HTTPS only`, 'add --tls-cert cert.pem --tls-key key.pem');
  }
  const tls = cert && key ? tlsModule().loadTls({ certFile: cert.value, keyFile: key.value, http2 }) : undefined;
  return { static: statics, compress, tls };
}
