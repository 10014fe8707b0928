// Server certificate fingerprints as talosctl's --cert-fingerprint knows them (siderolabs/crypto
// x509/fingerprint.go): SHA-256 of the leaf certificate's SubjectPublicKeyInfo, written base64 (standard
// alphabet). talosctl enforces them in maintenance mode (pkg/machinery/client/options.go
// WithMaintenanceMode → x509.MatchSPKIFingerprints): the leaf must match one of them, or the connection is
// refused before any request is sent. The same value identifies one node behind several addresses: every
// address of a node serves the same apid certificate (the same key) while it runs.
import * as grpc from '@grpc/grpc-js';
import { createHash, X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { serverCertificate } from '../../discovery/tls-probe.ts';
import { insecureCredentials } from './connect.ts';
import { dialOf } from '../inputs/node-address.ts';

/** base64(SHA-256(SPKI DER)) of a certificate. */
export function spkiFingerprint(cert: X509Certificate): string {
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/**
 * A --cert-fingerprint value as talosctl parses it (base64 of the 32-byte digest). Undefined when it is not
 * one; talosctl refuses such a value ("error parsing certificate fingerprint").
 */
export function parseFingerprint(text: string): string | undefined {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return undefined;
  const bytes = Buffer.from(t, 'base64');
  if (bytes.length !== 32 || bytes.toString('base64') !== t) return undefined;
  return t;
}

export class FingerprintMismatch extends Error {}

interface SecureConnector {
  connect(socket: unknown): Promise<{ socket: TLSSocket; secure: boolean }>;
  waitForReady(): Promise<void>;
  getCallCredentials(): grpc.CallCredentials;
  destroy(): void;
}
type ConnectorFactory = (target: unknown, options: grpc.ChannelOptions, callCredentials?: grpc.CallCredentials) => SecureConnector;

/**
 * Insecure maintenance-mode credentials that refuse every connection whose server leaf certificate does not
 * match one of `fingerprints`. The check runs on the TLS socket after its handshake and before grpc-js
 * starts HTTP/2 on it, so a refused server receives no request at all.
 *
 * grpc-js 1.14 exposes the connector step as ChannelCredentials._createSecureConnector (declared in its
 * typings); this wraps it.
 */
export function fingerprintCredentials(fingerprints: string[]): grpc.ChannelCredentials {
  const inner = insecureCredentials();
  const innerFactory = (inner as unknown as { _createSecureConnector: ConnectorFactory })._createSecureConnector.bind(inner);
  const creds = Object.create(inner) as grpc.ChannelCredentials;
  // Never equal to other credentials: grpc-js must not hand this channel a connection checked by nobody.
  (creds as unknown as { _equals: (o: unknown) => boolean })._equals = (other) => other === creds;
  (creds as unknown as { _createSecureConnector: ConnectorFactory })._createSecureConnector = (target, options, callCredentials) => {
    const connector = innerFactory(target, options, callCredentials);
    return {
      ...connector,
      waitForReady: () => connector.waitForReady(),
      getCallCredentials: () => connector.getCallCredentials(),
      destroy: () => connector.destroy(),
      async connect(socket) {
        const result = await connector.connect(socket);
        const raw = result.socket.getPeerCertificate()?.raw;
        const seen = raw ? spkiFingerprint(new X509Certificate(raw)) : undefined;
        if (seen === undefined || !fingerprints.includes(seen)) {
          result.socket.destroy();
          throw new FingerprintMismatch(`server certificate fingerprint ${seen ?? '(none)'} matches none of --cert-fingerprint ${fingerprints.join(', ')}`);
        }
        return result;
      },
    };
  };
  return creds;
}

/** The fingerprint of the certificate a node serves now; undefined when no handshake completed. */
export async function servedFingerprint(address: string, port: number, deadlineMs: number): Promise<{ fingerprint: string } | { error: string }> {
  const to = dialOf(address, port);
  const tls = await serverCertificate(to.host, to.port, deadlineMs);
  if (tls.kind !== 'certificate') return { error: tls.reason };
  return { fingerprint: spkiFingerprint(tls.chain[0] as X509Certificate) };
}

/** Every address's served fingerprint, looked at in parallel; addresses that did not answer are left out. */
export async function servedFingerprints(addresses: string[], port: number, deadlineMs: number): Promise<Map<string, string>> {
  const seen = await Promise.all(addresses.map(async (a) => [a, await servedFingerprint(a, port, deadlineMs)] as const));
  return new Map(seen.flatMap(([a, r]) => ('fingerprint' in r ? [[a, r.fingerprint] as [string, string]] : [])));
}
