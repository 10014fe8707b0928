// The agreement's certificates, minted from the OS CA like the apid client certificates (src/pki/mint.ts):
// a server certificate (EKU serverAuth, this node's IP SANs) and a client certificate (EKU clientAuth,
// O=autobootstrap:agreement, CN = this node's identity). Only holders of the OS CA key (the control planes)
// can mint either, so a talosconfig holder may read Status but never take part.
import { createHash, X509Certificate } from 'node:crypto';
import type { MachineCA } from '../../pki/machine-ca.ts';
import { DEFAULT_TTL_MS, mintClientCertificate, mintLeafCertificate, type MintedCertificate } from '../../pki/mint.ts';

/** The role a client certificate must carry to deliver protocol messages. */
export const AGREEMENT_ROLE = 'autobootstrap:agreement';
export const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
export const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** The cluster identity every message carries: a digest of the OS CA certificate (same on every node). */
export function clusterIdOf(caPem: string): string {
  const der = new X509Certificate(caPem).raw;
  return createHash('sha256').update(der).digest('hex').slice(0, 32);
}

/** `ttlMs`: TALOS_AUTO_BOOTSTRAP_CLIENT_CERT_TTL (mint.ts's default when omitted). */
export function mintAgreementClient(ca: MachineCA, node: string, now = new Date(), ttlMs?: number): MintedCertificate {
  return mintClientCertificate(ca, { roles: [AGREEMENT_ROLE], commonName: node, now, ...(ttlMs === undefined ? {} : { ttlMs }) });
}

/**
 * A server certificate for `ips` (this node's addresses, as IP SANs), EKU serverAuth only, CN = `node`.
 * Throws Error for an empty `ips`, PkiError like mint.ts's mintLeafCertificate otherwise.
 */
export function mintAgreementServer(ca: MachineCA, node: string, ips: string[], now = new Date(), ttlMs = DEFAULT_TTL_MS): MintedCertificate {
  if (ips.length === 0) throw new Error('an agreement server certificate needs at least one IP address');
  return mintLeafCertificate(ca, { commonName: node, organizations: [], extKeyUsage: ['serverAuth'], ipAddresses: ips, ttlMs, now });
}

/** Extended key usages of a DER certificate (OIDs); empty when it has none or does not parse. */
export function extKeyUsages(raw: Buffer | undefined): string[] {
  if (!raw) return [];
  try {
    return new X509Certificate(raw).keyUsage ?? [];
  } catch {
    return [];
  }
}
