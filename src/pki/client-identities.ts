// The two client certificates the daemon uses, minted from the machine CA and kept in memory only:
// os:reader for every peer, os:admin solely for this node's own Bootstrap. Each is re-minted once a
// third of its lifetime remains, so a daemon waiting for days never presents an expired certificate.
import type { ClientIdentity } from '../talos/channel.ts';
import type { MachineCA } from './machine-ca.ts';
import { mintClientCertificate, ROLE_ADMIN, ROLE_READER, shouldRenew, type MintedCertificate } from './mint.ts';

/** The client certificate CN: names this node so a simulator (or an apid audit log) can tell callers apart. */
export function clientCommonName(nodeAddress: string): string {
  return `autobootstrap@${nodeAddress}`;
}

/** Told of every certificate minted: the first of each role, then each renewal (`renewed` true). */
export type MintListener = (role: string, cert: MintedCertificate, renewed: boolean) => void;

export class ClientIdentities {
  private minted = new Map<string, MintedCertificate>();

  /** `ttlMs`: lifetime of each minted certificate (mint.ts DEFAULT_TTL_MS when undefined). */
  constructor(
    private readonly ca: MachineCA,
    private readonly commonName: string,
    private readonly now: () => Date = () => new Date(),
    private readonly ttlMs?: number,
    private readonly onMint?: MintListener,
  ) {}

  reader(): ClientIdentity {
    return this.identity(ROLE_READER);
  }

  admin(): ClientIdentity {
    return this.identity(ROLE_ADMIN);
  }

  private identity(role: string): ClientIdentity {
    const now = this.now();
    let cert = this.minted.get(role);
    if (!cert || shouldRenew(cert, now)) {
      const renewed = cert !== undefined;
      cert = mintClientCertificate(this.ca, { roles: [role], commonName: this.commonName, now, ...(this.ttlMs === undefined ? {} : { ttlMs: this.ttlMs }) });
      this.minted.set(role, cert);
      this.onMint?.(role, cert, renewed);
    }
    return { caPem: this.ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem };
  }
}
