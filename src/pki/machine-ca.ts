// The machine (OS) CA: the certificate and key apid trusts client certificates from.
// Everything is checked up front, so a broken CA fails once with a clear reason instead of minting
// certificates every peer silently rejects.
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { MachineConfigFacts } from './machine-config.ts';
import { parseCertificatePem, parsePrivateKeyPem, PkiError } from './pem.ts';
import { derToPem, issuerFacts, type IssuerFacts } from './x509.ts';

export type CAKeyType = 'ed25519' | 'ecdsa' | 'rsa';

export interface MachineCA {
  certPem: string;
  certDer: Buffer;
  key: KeyObject;
  issuer: IssuerFacts;
  notAfter: Date;
  keyType: CAKeyType;
}

// Curves x509.ts can sign with (Node's names for P-256, P-384, P-521).
const SUPPORTED_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

function keyTypeOf(key: KeyObject): CAKeyType {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return 'ed25519';
  if (type === 'rsa') return 'rsa';
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve && SUPPORTED_CURVES.has(curve)) return 'ecdsa';
    throw new PkiError(
      'unsupported-key-type',
      `machine CA key is ECDSA on curve ${curve ?? 'unknown'}; supported curves are P-256, P-384 and P-521`,
    );
  }
  throw new PkiError(
    'unsupported-key-type',
    `machine CA key is of type ${type ?? 'unknown'}; supported CA keys are Ed25519, ECDSA (P-256/P-384/P-521) and RSA`,
  );
}

function spki(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

export function loadMachineCA(certPem: string, keyPem: string, now: Date = new Date()): MachineCA {
  const cert = parseCertificatePem(certPem, 'machine CA certificate');
  const key = parsePrivateKeyPem(keyPem, 'machine CA key');
  const keyType = keyTypeOf(key);

  if (!spki(createPublicKey(key)).equals(spki(cert.publicKey))) {
    throw new PkiError(
      'key-mismatch',
      `machine CA key does not match the machine CA certificate (certificate subject "${cert.subject}", ` +
        `its public key is ${cert.publicKey.asymmetricKeyType ?? 'unknown'}, the key is ${key.asymmetricKeyType ?? 'unknown'}); ` +
        'machine.ca.crt and machine.ca.key must be one pair',
    );
  }
  if (!cert.ca) {
    throw new PkiError(
      'not-ca',
      `machine CA certificate (subject "${cert.subject}") is not a CA: its basicConstraints do not say CA:TRUE`,
    );
  }
  const notBefore = cert.validFromDate;
  const notAfter = cert.validToDate;
  if (!(notBefore instanceof Date) || Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
    throw new PkiError('bad-certificate', 'machine CA certificate has a validity period that cannot be read');
  }
  if (now < notBefore) {
    throw new PkiError(
      'ca-not-yet-valid',
      `machine CA certificate is not valid before ${notBefore.toISOString()} (now ${now.toISOString()}); is the clock in sync?`,
    );
  }
  if (now > notAfter) {
    throw new PkiError(
      'ca-expired',
      `machine CA certificate expired at ${notAfter.toISOString()} (now ${now.toISOString()}); the cluster's OS CA must be rotated`,
    );
  }

  const certDer = Buffer.from(cert.raw);
  return { certPem: derToPem(certDer, 'CERTIFICATE'), certDer, key, issuer: issuerFacts(certDer), notAfter, keyType };
}

/**
 * The CA from a control plane's machine config. Only control planes hold machine.ca.key; a worker has
 * nothing to mint with and nothing to bootstrap.
 */
export function controlPlaneCA(facts: MachineConfigFacts, now: Date = new Date()): MachineCA {
  if (facts.machineType === 'worker') {
    throw new PkiError(
      'worker-no-ca',
      'this is a worker machine config: workers carry no machine CA key (machine.ca.key is empty) and never bootstrap etcd',
    );
  }
  if (facts.machineType !== 'controlplane' && facts.machineType !== 'init') {
    throw new PkiError('not-control-plane', `machine type is ${facts.machineType}, not controlplane or init; no CA key to use`);
  }
  if (!facts.caCertPem) {
    throw new PkiError(
      'no-ca-cert',
      'control-plane machine config has no machine.ca.crt; the OS CA certificate is required to mint client certificates',
      'machine.ca.crt',
    );
  }
  if (!facts.caKeyPem) {
    throw new PkiError(
      'no-ca-key',
      'control-plane machine config has no machine.ca.key; the OS CA key is needed to mint client certificates ' +
        '(was the config generated without secrets, or is this a worker config applied to a control plane?)',
      'machine.ca.key',
    );
  }
  return loadMachineCA(facts.caCertPem, facts.caKeyPem, now);
}
