// HTTPS (`--tls-cert FILE --tls-key FILE`) and, with `--http2`, HTTP/2 through node:http2's
// compatibility API (HTTP/1.1 clients still served on the same port via ALPN). The files are
// checked at start-up so a wrong path or a key that does not belong to the certificate stops
// the server with a coded error instead of failing every handshake later.
import fs from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type tls from 'node:tls';
import { RedoxError } from '../../errors';

export interface TlsSettings {
  certFile: string;
  keyFile: string;
  http2: boolean;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  http2: boolean;
}

function read(file: string, flag: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new RedoxError('REDOX_TLS_FILE', `${flag} ${file}: ${why}`,
      'pass PEM files, e.g. --tls-cert cert.pem --tls-key key.pem (openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem makes a test pair)');
  }
}

/** Reads and checks the certificate and key (PEM). */
export function loadTls(settings: TlsSettings): TlsMaterial {
  const cert = read(settings.certFile, '--tls-cert');
  const key = read(settings.keyFile, '--tls-key');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new RedoxError('REDOX_TLS_INVALID', `--tls-cert ${settings.certFile} is not a PEM certificate: ${(err as Error).message}`,
      'pass the certificate file (-----BEGIN CERTIFICATE-----), not the key or a CSR');
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new RedoxError('REDOX_TLS_INVALID', `--tls-key ${settings.keyFile} is not an unencrypted PEM private key: ${(err as Error).message}`,
      'pass the private key file (-----BEGIN PRIVATE KEY-----); encrypted keys are not supported');
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new RedoxError('REDOX_TLS_INVALID', `--tls-key ${settings.keyFile} does not belong to the certificate in ${settings.certFile}`,
      'pass the key the certificate was issued for');
  }
  try {
    // Whatever else OpenSSL refuses (a chain it cannot use) fails here, not at the first handshake.
    (require('node:tls') as typeof tls).createSecureContext({ cert, key });
  } catch (err) {
    throw new RedoxError('REDOX_TLS_INVALID', `TLS files rejected: ${(err as Error).message}`);
  }
  return { cert, key, http2: settings.http2 };
}
