// One TLS handshake with apid, made before any gRPC call so the reason a peer does not count is exact:
// nothing listening, a certificate from another cluster's CA, or a certificate for another address.
import tls from 'node:tls';
import { TLS_SERVER_NAME, type ClientIdentity } from '../talos/channel.ts';
import { certificateNamesAddress } from '../talos/peer-identity.ts';

export type TlsProbeResult =
  | { kind: 'trusted'; identity: string }
  | { kind: 'closed'; reason: string }
  | { kind: 'untrusted'; reason: string }
  | { kind: 'wrong-address'; reason: string };

export function probeTls(address: string, port: number, identity: ClientIdentity, timeoutMs: number): Promise<TlsProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: TlsProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const socket = tls.connect({
      host: address,
      port,
      ca: identity.caPem,
      cert: identity.certPem,
      key: identity.keyPem,
      servername: TLS_SERVER_NAME,
      ALPNProtocols: ['h2'],
      // Verification outcome is read below rather than thrown, to tell the cases apart.
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    const timer = setTimeout(() => finish({ kind: 'closed', reason: `no TLS handshake within ${timeoutMs}ms` }), timeoutMs);
    socket.once('secureConnect', () => {
      if (!socket.authorized) {
        finish({ kind: 'untrusted', reason: `apid certificate does not chain to this cluster's OS CA (${String(socket.authorizationError)}): another cluster's node?` });
        return;
      }
      const peer = socket.getPeerCertificate();
      const san = peer?.subjectaltname;
      if (!certificateNamesAddress(san, address)) {
        finish({ kind: 'wrong-address', reason: `apid certificate does not list ${address} (SANs: ${san ?? 'none'})` });
        return;
      }
      finish({ kind: 'trusted', identity: peer.fingerprint256 });
    });
    socket.once('error', (e: NodeJS.ErrnoException) => finish({ kind: 'closed', reason: e.code ?? e.message }));
  });
}
