// TLS handshakes with apid, made before any gRPC call so that what a node is can be told from what it
// presents rather than from how a later call fails: nothing listening, a certificate from another
// cluster's CA, a certificate for another address — or, without a client certificate, which CA the
// node's own certificate chains to.
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { TLS_SERVER_NAME, type ClientIdentity } from '../talos/channel.ts';
import { certificateNamesAddress, ipSans } from '../talos/peer-identity.ts';

export type TlsProbeResult =
  /** `fingerprint`: SHA-256 of the certificate (rotates); `ipSans`: its IP SANs. */
  | { kind: 'trusted'; fingerprint: string; ipSans: string[] }
  | { kind: 'closed'; reason: string }
  | { kind: 'untrusted'; reason: string }
  | { kind: 'wrong-address'; reason: string };

// Nothing listens, or nothing answers: the node is off, rebooting, or not reachable from here.
const NOT_LISTENING = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EHOSTDOWN', 'ENETDOWN']);

type Handshake = { kind: 'done'; socket: tls.TLSSocket } | { kind: 'closed'; reason: string; code?: string } | { kind: 'failed'; reason: string };

/** One handshake; the socket is destroyed once `inspect` has read what it needs from it. */
function handshake<T>(options: tls.ConnectionOptions, timeoutMs: number, inspect: (h: Handshake) => T): Promise<T> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (h: Handshake) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const result = inspect(h);
      socket.destroy();
      resolve(result);
    };
    const socket = tls.connect({
      ...options,
      servername: TLS_SERVER_NAME,
      ALPNProtocols: ['h2'],
      // Verification outcome is read by `inspect` rather than thrown, to tell the cases apart.
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    const timer = setTimeout(() => finish({ kind: 'closed', reason: `no TLS handshake within ${timeoutMs}ms` }), timeoutMs);
    socket.once('secureConnect', () => finish({ kind: 'done', socket }));
    socket.once('error', (e: NodeJS.ErrnoException) => {
      const reason = e.code ?? e.message;
      finish(e.code && NOT_LISTENING.has(e.code) ? { kind: 'closed', reason, code: e.code } : { kind: 'failed', reason });
    });
  });
}

export function probeTls(address: string, port: number, identity: ClientIdentity, timeoutMs: number): Promise<TlsProbeResult> {
  const options = { host: address, port, ca: identity.caPem, cert: identity.certPem, key: identity.keyPem };
  return handshake(options, timeoutMs, (h): TlsProbeResult => {
    // With a client certificate any failed handshake means the peer does not count; the reason is kept.
    if (h.kind !== 'done') return { kind: 'closed', reason: h.reason };
    const socket = h.socket;
    if (!socket.authorized) {
      return { kind: 'untrusted', reason: `apid certificate does not chain to this cluster's OS CA (${String(socket.authorizationError)}): another cluster's node?` };
    }
    const peer = socket.getPeerCertificate();
    const san = peer?.subjectaltname;
    if (!certificateNamesAddress(san, address)) return { kind: 'wrong-address', reason: `apid certificate does not list ${address} (SANs: ${san ?? 'none'})` };
    return { kind: 'trusted', fingerprint: peer.fingerprint256, ipSans: ipSans(san) };
  });
}

export type ServerCertificateResult =
  /** The certificates the server presented, its own first. */
  | { kind: 'certificate'; chain: X509Certificate[] }
  /** Connection refused, unreachable, or no handshake in time. */
  | { kind: 'closed'; reason: string }
  /** Something answered but no server certificate was seen. */
  | { kind: 'failed'; reason: string };

/**
 * The server's certificate chain, read in a handshake made WITHOUT a client certificate. Only TLS 1.3 is
 * offered: there the server's certificate is verified and the client's handshake completes before the
 * server judges the (missing) client certificate, so a configured apid, which then aborts with a
 * certificate_required alert, still shows its certificate. Under TLS 1.2 the alert would come first.
 * Go's crypto/tls (apid) speaks TLS 1.3 whenever the client offers it.
 */
export function serverCertificate(address: string, port: number, timeoutMs: number): Promise<ServerCertificateResult> {
  return handshake({ host: address, port, minVersion: 'TLSv1.3' }, timeoutMs, (h): ServerCertificateResult => {
    // Worded as grpc-js words it ("connect ECONNREFUSED 10.0.0.1:50000"): the address is part of the news.
    if (h.kind === 'closed') return { kind: 'closed', reason: h.code ? `connect ${h.code} ${address}:${port}` : h.reason };
    if (h.kind === 'failed') return h;
    const chain: X509Certificate[] = [];
    let cur: tls.DetailedPeerCertificate | undefined = h.socket.getPeerCertificate(true);
    while (cur?.raw && chain.length < 10) {
      chain.push(new X509Certificate(cur.raw));
      const next: tls.DetailedPeerCertificate | undefined = cur.issuerCertificate;
      cur = next && next !== cur && next.raw && !next.raw.equals(cur.raw) ? next : undefined;
    }
    return chain.length > 0 ? { kind: 'certificate', chain } : { kind: 'failed', reason: 'the handshake completed without a server certificate' };
  });
}

/** The chain links up, certificate by certificate, to one signed by a CA in `caPems`. */
export function chainsTo(chain: X509Certificate[], caPems: string[]): boolean {
  const cas = caPems.flatMap((pem) => {
    try {
      return [new X509Certificate(pem)];
    } catch {
      return [];
    }
  });
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i] as X509Certificate;
    if (cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) return true;
    const issuer = chain[i + 1];
    if (!issuer || !(cert.checkIssued(issuer) && cert.verify(issuer.publicKey))) return false;
  }
  return false;
}
