// A grpc-js server with apid's TLS settings: X25519 key exchange only, TLS >= 1.2, ALPN h2 (grpc-js),
// and a gate that sees every completed handshake before HTTP/2 starts, so a client certificate apid
// would reject is refused at connection level (the client sees UNAVAILABLE, as with a real apid, though
// not apid's TLS alert: see "Approximation" in README.md).
//
// grpc-js offers no hook for either, so this reaches into two internals that exist in 1.14:
// ServerCredentials._getConstructorOptions (the tls.createServer options) and
// Server.createHttp2Server (which builds the http2 server per bound port).
import * as grpc from '@grpc/grpc-js';
import type { Http2SecureServer } from 'node:http2';
import type { TLSSocket } from 'node:tls';

export interface ConnectionGate {
  /** A handshake completed; return false to refuse the connection (the socket is destroyed). */
  onHandshake(sock: TLSSocket): boolean;
  /** A handshake failed inside the TLS stack (e.g. no shared key-exchange group). */
  onTlsError(error: Error): void;
}

interface CredentialsInternals {
  _getConstructorOptions(): Record<string, unknown> | null;
}

/**
 * Server credentials with apid's TLS parameters. With a CA the client certificate is required; chain
 * verification is left to the gate (rejectUnauthorized false) so that refusals can be recorded with
 * the presented subject.
 */
export function apidCredentials(options: { caPem: string | null; keyPem: string; certPem: string }): grpc.ServerCredentials {
  const requireClient = options.caPem !== null;
  const creds = grpc.ServerCredentials.createSsl(
    requireClient ? Buffer.from(options.caPem as string) : null,
    [{ private_key: Buffer.from(options.keyPem), cert_chain: Buffer.from(options.certPem) }],
    requireClient,
  );
  const internals = creds as unknown as CredentialsInternals;
  const original = internals._getConstructorOptions.bind(creds);
  internals._getConstructorOptions = () => {
    const base = original();
    if (!base) return base;
    return { ...base, ecdhCurve: 'X25519', minVersion: 'TLSv1.2', ...(requireClient ? { rejectUnauthorized: false } : {}) };
  };
  return creds;
}

/** Errors that only mean the peer went away, not that TLS refused it. */
function isDisconnect(error: Error & { code?: string }): boolean {
  return error.code === 'ECONNRESET' || /socket hang up|ECONNRESET|aborted/i.test(error.message);
}

export class TalosApiServer extends grpc.Server {
  /** The TLS servers of every bound address, to swap the certificate for new handshakes. */
  private readonly tlsServers: Http2SecureServer[] = [];

  /**
   * New handshakes present this certificate; open connections keep theirs, as apid's certificate
   * provider behaves when it regenerates the certificate.
   */
  replaceCertificate(options: { keyPem: string; certPem: string; caPem: string | null }): void {
    for (const s of this.tlsServers) {
      s.setSecureContext({ key: options.keyPem, cert: options.certPem, ...(options.caPem ? { ca: options.caPem } : {}), ecdhCurve: 'X25519', minVersion: 'TLSv1.2' });
    }
  }

  constructor(gate: ConnectionGate, options?: grpc.ServerOptions) {
    super(options);
    const base = grpc.Server.prototype as unknown as { createHttp2Server(c: grpc.ServerCredentials): Http2SecureServer };
    // createHttp2Server is private in the typings; an own property shadows the prototype method.
    (this as unknown as { createHttp2Server: (c: grpc.ServerCredentials) => Http2SecureServer }).createHttp2Server = (credentials) => {
      const http2Server = base.createHttp2Server.call(this, credentials);
      this.tlsServers.push(http2Server);
      http2Server.prependListener('secureConnection', (sock: TLSSocket) => {
        if (!gate.onHandshake(sock)) sock.destroy();
      });
      http2Server.on('tlsClientError', (error: Error) => {
        if (!isDisconnect(error)) gate.onTlsError(error);
      });
      return http2Server;
    };
  }
}
