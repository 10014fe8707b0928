// apid's client-certificate rules, applied when the TLS handshake completes:
// the certificate must chain to the node's OS CA (Go's RequireAndVerifyClientCert), and EVERY non-CA
// certificate of the verified chain must have extended key usage exactly [clientAuth]
// (apid's verifyExtKeyUsage compares Go's parsed ExtKeyUsage slice with slices.Equal).
import type { PeerCertificate, DetailedPeerCertificate } from 'node:tls';

const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/**
 * The EKU OIDs Go's x509 parser turns into ExtKeyUsage values; any other OID lands in
 * UnknownExtKeyUsage and is invisible to apid's comparison.
 */
const GO_KNOWN_EKUS = new Set([
  '2.5.29.37.0', // any
  '1.3.6.1.5.5.7.3.1', // serverAuth
  '1.3.6.1.5.5.7.3.2', // clientAuth
  '1.3.6.1.5.5.7.3.3', // codeSigning
  '1.3.6.1.5.5.7.3.4', // emailProtection
  '1.3.6.1.5.5.7.3.5', // ipsecEndSystem
  '1.3.6.1.5.5.7.3.6', // ipsecTunnel
  '1.3.6.1.5.5.7.3.7', // ipsecUser
  '1.3.6.1.5.5.7.3.8', // timeStamping
  '1.3.6.1.5.5.7.3.9', // OCSPSigning
  '1.3.6.1.4.1.311.10.3.3', // microsoftServerGatedCrypto
  '2.16.840.1.113730.4.1', // netscapeServerGatedCrypto
  '1.3.6.1.4.1.311.2.1.22', // microsoftCommercialCodeSigning
  '1.3.6.1.4.1.311.61.1.1', // microsoftKernelCodeSigning
]);

export type HandshakeVerdict =
  | { ok: true; cn: string | undefined; subject: string }
  | { ok: false; reason: string; cn: string | undefined; subject: string | undefined };

/** What the handshake policy needs from a server-side TLS socket. */
export interface PeerView {
  authorized: boolean;
  authorizationError?: Error | string | null;
  getPeerCertificate(detailed: true): DetailedPeerCertificate;
}

function values(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** The subject as Go's pkix.Name.String prints it: most specific first, multi-valued RDNs joined with "+". */
export function goSubjectString(cert: PeerCertificate): string {
  const subject = (cert.subject ?? {}) as unknown as Record<string, string | string[] | undefined>;
  const order = ['SERIALNUMBER', 'CN', 'OU', 'O', 'postalCode', 'street', 'L', 'ST', 'C'];
  const parts: string[] = [];
  for (const key of order) {
    const vs = values(subject[key]);
    if (vs.length > 0) parts.push(vs.map((v) => `${key}=${v}`).join('+'));
  }
  return parts.join(',');
}

export function commonName(cert: PeerCertificate): string | undefined {
  const cn = (cert.subject as unknown as Record<string, string | string[] | undefined> | undefined)?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

function isEmptyCert(cert: PeerCertificate | undefined): boolean {
  return !cert || Object.keys(cert).length === 0 || !cert.raw;
}

/** Leaf first, each issuer after it; a self-signed root refers to itself, which ends the walk. */
function chainOf(leaf: DetailedPeerCertificate): DetailedPeerCertificate[] {
  const chain: DetailedPeerCertificate[] = [];
  let cur: DetailedPeerCertificate | undefined = leaf;
  while (cur && !chain.includes(cur) && chain.length < 10) {
    chain.push(cur);
    cur = cur.issuerCertificate && cur.issuerCertificate !== cur ? cur.issuerCertificate : undefined;
  }
  return chain;
}

function isCa(cert: DetailedPeerCertificate): boolean {
  return (cert as unknown as { ca?: boolean }).ca === true;
}

/** The handshake verdict for a client of a configured (non-maintenance) node. */
export function verifyClientCertificate(peer: PeerView): HandshakeVerdict {
  const leaf = peer.getPeerCertificate(true);
  if (isEmptyCert(leaf)) {
    return { ok: false, reason: "tls: client didn't provide a certificate", cn: undefined, subject: undefined };
  }
  const subject = goSubjectString(leaf);
  const cn = commonName(leaf);
  if (!peer.authorized) {
    const detail = String(peer.authorizationError ?? 'unverified');
    const x509 = /CERT_HAS_EXPIRED|CERT_NOT_YET_VALID/.test(detail)
      ? 'certificate has expired or is not yet valid'
      : 'certificate signed by unknown authority';
    return { ok: false, reason: `tls: failed to verify certificate: x509: ${x509} (${detail})`, cn, subject };
  }
  for (const cert of chainOf(leaf)) {
    if (isCa(cert)) continue;
    const ekus = (cert.ext_key_usage ?? []).filter((oid) => GO_KNOWN_EKUS.has(oid));
    if (!(ekus.length === 1 && ekus[0] === EKU_CLIENT_AUTH)) {
      return {
        ok: false,
        reason: `certificate "${goSubjectString(cert)}" is missing the client auth extended key usage`,
        cn,
        subject,
      };
    }
  }
  return { ok: true, cn, subject };
}
