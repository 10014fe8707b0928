// Short-lived client certificates for talking to apid, minted from the machine CA.
// apid takes the caller's roles from the subject's O= values and refuses any non-CA certificate whose
// extended key usage is not exactly [clientAuth], so both are fixed here. Every certificate gets its own
// fresh Ed25519 key, held in memory only.
import { generateKeyPairSync } from 'node:crypto';
import type { MachineCA } from './machine-ca.ts';
import { PkiError } from './pem.ts';
import { buildCertificate, type NameAttribute } from './x509.ts';

export const ROLE_READER = 'os:reader';
export const ROLE_ADMIN = 'os:admin';

export const DEFAULT_TTL_MS = 24 * 60 * 60 * 1000;
// Peers whose clocks run a little behind must already accept a certificate minted just now.
export const BACKDATE_MS = 5 * 60 * 1000;

export interface MintOptions {
  roles: string[];
  commonName: string;
  ttlMs?: number;
  now?: Date;
}

export interface MintedCertificate {
  certPem: string;
  /** PKCS#8, `PRIVATE KEY`. */
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
  roles: string[];
}

function checkOptions(opts: MintOptions, ttlMs: number): void {
  if (opts.roles.length === 0) {
    throw new PkiError('bad-request', 'a client certificate needs at least one role (e.g. os:reader); apid grants nothing without one');
  }
  for (const role of opts.roles) {
    if (typeof role !== 'string' || role.trim() === '') throw new PkiError('bad-request', 'a role must be a non-empty string');
  }
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new PkiError('bad-request', `certificate lifetime must be a positive number of milliseconds, got ${ttlMs}`);
  }
}

export function mintClientCertificate(ca: MachineCA, opts: MintOptions): MintedCertificate {
  const now = opts.now ?? new Date();
  const ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
  checkOptions(opts, ttlMs);
  // The CA was valid when loaded, but a long-running daemon can outlive it.
  if (now.getTime() >= ca.notAfter.getTime()) {
    throw new PkiError('ca-expired', `machine CA certificate expired at ${ca.notAfter.toISOString()}; cannot mint client certificates`);
  }

  // Round to whole seconds: X.509 times have no fractions, and the returned dates must match the certificate.
  const notBefore = new Date(Math.floor((now.getTime() - BACKDATE_MS) / 1000) * 1000);
  const wanted = Math.floor((now.getTime() + ttlMs) / 1000) * 1000;
  const notAfter = new Date(Math.min(wanted, Math.floor(ca.notAfter.getTime() / 1000) * 1000));

  const roles = [...new Set(opts.roles)];
  // Go's pkix order: O before CN. A certificate without a name is allowed, as Talos's own admin certs are.
  const subject: NameAttribute[] = roles.map((value) => ({ type: 'O', value }));
  if (opts.commonName !== '') subject.push({ type: 'CN', value: opts.commonName });

  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const built = buildCertificate({
    subject,
    issuerNameDer: ca.issuer.subjectNameDer,
    issuerKeyId: ca.issuer.subjectKeyId,
    publicKey,
    signingKey: ca.key,
    notBefore,
    notAfter,
    isCA: false,
    keyUsage: ['digitalSignature'],
    extKeyUsage: ['clientAuth'],
  });
  return {
    certPem: built.pem,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    notBefore,
    notAfter,
    roles,
  };
}

/**
 * True once less than a third of the certificate's lifetime remains (a 24 h certificate is renewed
 * about 16 h after minting), and whenever `now` lies outside its validity, e.g. after the clock jumped.
 */
export function shouldRenew(cert: MintedCertificate, now: Date): boolean {
  const start = cert.notBefore.getTime();
  const end = cert.notAfter.getTime();
  const t = now.getTime();
  if (t < start || t >= end) return true;
  return (end - t) * 3 < end - start;
}
