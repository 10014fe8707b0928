// Short-lived leaf certificates minted from the machine CA: the apid client certificates here, and the
// agreement's server and client certificates (src/agreement/transport/certificates.ts), all through
// mintLeafCertificate. apid takes the caller's roles from the subject's O= values and refuses any non-CA
// certificate whose extended key usage is not exactly [clientAuth], so mintClientCertificate fixes both.
// Every certificate gets its own fresh Ed25519 key, held in memory only.
import { generateKeyPairSync } from 'node:crypto';
import type { MachineCA } from './machine-ca.ts';
import { PkiError } from './pem.ts';
import { buildCertificate, type ExtKeyUsage, type NameAttribute } from './x509.ts';

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

function checkRoles(opts: MintOptions): void {
  if (opts.roles.length === 0) {
    throw new PkiError('bad-request', 'a client certificate needs at least one role (e.g. os:reader); apid grants nothing without one');
  }
  for (const role of opts.roles) {
    if (typeof role !== 'string' || role.trim() === '') throw new PkiError('bad-request', 'a role must be a non-empty string');
  }
}

/**
 * An apid client certificate: O = each of `roles`, CN = `commonName`, EKU exactly [clientAuth], lifetime
 * `ttlMs` (default DEFAULT_TTL_MS). Throws PkiError `bad-request` (no role, an empty role, a bad TTL) or
 * `ca-expired`.
 */
export function mintClientCertificate(ca: MachineCA, opts: MintOptions): MintedCertificate {
  const ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
  checkRoles(opts);
  return mintLeafCertificate(ca, {
    commonName: opts.commonName,
    organizations: opts.roles,
    extKeyUsage: ['clientAuth'],
    ttlMs,
    now: opts.now ?? new Date(),
  });
}

export interface LeafOptions {
  /** Subject CN; an empty string leaves CN out (Talos's own admin certificates have no name either). */
  commonName: string;
  /** Subject O values, duplicates dropped; apid reads them as roles. May be empty. */
  organizations: string[];
  extKeyUsage: ExtKeyUsage[];
  /** Subject alternative names (IP addresses), duplicates dropped; none when omitted or empty. */
  ipAddresses?: string[];
  /** Lifetime in ms from `now`, cut at the CA's own notAfter. */
  ttlMs: number;
  now: Date;
}

/**
 * The one leaf minter: a certificate signed by the machine CA for a fresh in-memory Ed25519 key, key usage
 * digitalSignature, valid from BACKDATE_MS before `now` for `ttlMs` (whole seconds, never past the CA).
 * `roles` of the result are the subject's O values. Throws PkiError `bad-request` for a TTL that is not a
 * positive number, `ca-expired` once `now` is at or past the CA's notAfter.
 */
export function mintLeafCertificate(ca: MachineCA, opts: LeafOptions): MintedCertificate {
  const { now, ttlMs } = opts;
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new PkiError('bad-request', `certificate lifetime must be a positive number of milliseconds, got ${ttlMs}`);
  }
  // The CA was valid when loaded, but a long-running daemon can outlive it.
  if (now.getTime() >= ca.notAfter.getTime()) {
    const kind = opts.extKeyUsage.includes('serverAuth') ? 'server' : 'client';
    throw new PkiError('ca-expired', `machine CA certificate expired at ${ca.notAfter.toISOString()}; cannot mint ${kind} certificates`);
  }

  // Round to whole seconds: X.509 times have no fractions, and the returned dates must match the certificate.
  const notBefore = new Date(Math.floor((now.getTime() - BACKDATE_MS) / 1000) * 1000);
  const wanted = Math.floor((now.getTime() + ttlMs) / 1000) * 1000;
  const notAfter = new Date(Math.min(wanted, Math.floor(ca.notAfter.getTime() / 1000) * 1000));

  const roles = [...new Set(opts.organizations)];
  // Go's pkix order: O before CN.
  const subject: NameAttribute[] = roles.map((value) => ({ type: 'O', value }));
  if (opts.commonName !== '') subject.push({ type: 'CN', value: opts.commonName });
  const ipAddresses = [...new Set(opts.ipAddresses ?? [])];

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
    extKeyUsage: opts.extKeyUsage,
    ...(ipAddresses.length === 0 ? {} : { ipAddresses }),
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
