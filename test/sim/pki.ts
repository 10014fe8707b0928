// Key material a simulated Talos cluster needs: the OS CA (Talos's `machine.ca`), apid server
// certificates, client certificates, and the other CAs a machine config carries.
// Shapes follow what Talos generates: Ed25519 OS CA with O=talos valid 10 years, apid certificates
// valid 24 h, client certificates with O=role(s) and EKU clientAuth only.
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { buildCertificate, derToPem, issuerFacts, type ExtKeyUsage, type KeyUsage, type NameAttribute } from '../../src/pki/x509.ts';

const HOUR = 3600_000;
const YEAR = 365 * 24 * HOUR;
/** Certificates start a minute in the past so a client clock slightly behind still accepts them. */
const BACKDATE = 60_000;

export interface CertificateAuthority {
  certPem: string;
  certDer: Buffer;
  key: KeyObject;
  /** PKCS#8 PEM labelled `PRIVATE KEY`, the form Node, Bun and OpenSSL load. */
  keyPem: string;
  /** The key PEM exactly as Talos writes it into a machine config (see talosKeyPem). */
  talosKeyPem: string;
  subjectNameDer: Buffer;
  subjectKeyId?: Buffer;
}

export interface IssuedCertificate {
  certPem: string;
  certDer: Buffer;
  /** PKCS#8 `PRIVATE KEY` PEM for the TLS stack. */
  keyPem: string;
  key: KeyObject;
}

/**
 * The private key PEM with the label Talos writes: `ED25519 PRIVATE KEY` around PKCS#8 DER for Ed25519,
 * `EC PRIVATE KEY` (SEC1) for ECDSA, `RSA PRIVATE KEY` (PKCS#1) for RSA.
 */
export function talosKeyPem(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return derToPem(key.export({ type: 'pkcs8', format: 'der' }), 'ED25519 PRIVATE KEY');
    case 'ec':
      return key.export({ type: 'sec1', format: 'pem' }) as string;
    case 'rsa':
      return key.export({ type: 'pkcs1', format: 'pem' }) as string;
    default:
      throw new Error(`no Talos PEM label for key type ${key.asymmetricKeyType ?? 'unknown'}`);
  }
}

function pkcs8Pem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

function newKey(kind: 'ed25519' | 'ecdsa'): { publicKey: KeyObject; privateKey: KeyObject } {
  return kind === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

export function createCa(options: { organization: string; kind?: 'ed25519' | 'ecdsa'; years?: number; now?: number }): CertificateAuthority {
  const now = options.now ?? Date.now();
  const { publicKey, privateKey } = newKey(options.kind ?? 'ed25519');
  const built = buildCertificate({
    // The aggregator CA Talos generates has an empty subject.
    subject: options.organization ? [{ type: 'O', value: options.organization }] : [],
    publicKey,
    signingKey: privateKey,
    notBefore: new Date(now - BACKDATE),
    notAfter: new Date(now + (options.years ?? 10) * YEAR),
    isCA: true,
    keyUsage: ['digitalSignature', 'keyCertSign'],
    extKeyUsage: ['serverAuth', 'clientAuth'],
  });
  const facts = issuerFacts(built.der);
  return {
    certPem: built.pem,
    certDer: built.der,
    key: privateKey,
    keyPem: pkcs8Pem(privateKey),
    talosKeyPem: talosKeyPem(privateKey),
    subjectNameDer: facts.subjectNameDer,
    ...(facts.subjectKeyId ? { subjectKeyId: facts.subjectKeyId } : {}),
  };
}

/** Talos's OS CA: Ed25519, O=talos, 10 years. */
export function createOsCa(now?: number): CertificateAuthority {
  return createCa({ organization: 'talos', kind: 'ed25519', ...(now === undefined ? {} : { now }) });
}

export interface IssueOptions {
  subject: NameAttribute[];
  extKeyUsage: ExtKeyUsage[];
  keyUsage?: KeyUsage[];
  ipAddresses?: string[];
  dnsNames?: string[];
  validForMs?: number;
  /** Shift the validity window, e.g. to build an expired certificate. */
  notBefore?: Date;
  keyKind?: 'ed25519' | 'ecdsa';
}

export function issue(ca: CertificateAuthority, options: IssueOptions): IssuedCertificate {
  const { publicKey, privateKey } = newKey(options.keyKind ?? 'ed25519');
  const notBefore = options.notBefore ?? new Date(Date.now() - BACKDATE);
  const built = buildCertificate({
    subject: options.subject,
    issuerNameDer: ca.subjectNameDer,
    ...(ca.subjectKeyId ? { issuerKeyId: ca.subjectKeyId } : {}),
    publicKey,
    signingKey: ca.key,
    notBefore,
    notAfter: new Date(notBefore.getTime() + BACKDATE + (options.validForMs ?? 24 * HOUR)),
    isCA: false,
    keyUsage: options.keyUsage ?? ['digitalSignature'],
    extKeyUsage: options.extKeyUsage,
    ...(options.ipAddresses ? { ipAddresses: options.ipAddresses } : {}),
    ...(options.dnsNames ? { dnsNames: options.dnsNames } : {}),
  });
  return { certPem: built.pem, certDer: built.der, keyPem: pkcs8Pem(privateKey), key: privateKey };
}

/** apid's serving certificate: OS CA signed, 24 h, CN = hostname, SANs = node address, 127.0.0.1, hostname. */
export function issueApidCertificate(ca: CertificateAuthority, node: { hostname: string; ip: string; certSANs?: string[] }): IssuedCertificate {
  const extraIps = (node.certSANs ?? []).filter((s) => /^\d+\.\d+\.\d+\.\d+$/.test(s));
  const extraNames = (node.certSANs ?? []).filter((s) => !/^\d+\.\d+\.\d+\.\d+$/.test(s));
  return issue(ca, {
    subject: [{ type: 'CN', value: node.hostname }],
    extKeyUsage: ['serverAuth'],
    keyUsage: ['digitalSignature'],
    ipAddresses: unique([node.ip, '127.0.0.1', ...extraIps]),
    dnsNames: unique([node.hostname, ...extraNames]),
  });
}

export interface ClientCertificateOptions {
  /** Subject O values, e.g. ['os:reader']. */
  roles: string[];
  /** Subject CN; the daemon names its node here, and the simulator's partitions key on it. */
  cn?: string;
  /** Defaults to exactly [clientAuth], the only value apid accepts. */
  extKeyUsage?: ExtKeyUsage[];
  keyUsage?: KeyUsage[];
  validForMs?: number;
  notBefore?: Date;
}

/** A Talos API client certificate as talosctl or GenerateClientConfiguration would mint it. */
export function issueClientCertificate(ca: CertificateAuthority, options: ClientCertificateOptions): IssuedCertificate {
  const subject: NameAttribute[] = options.roles.map((value) => ({ type: 'O', value }));
  if (options.cn !== undefined) subject.push({ type: 'CN', value: options.cn });
  return issue(ca, {
    subject,
    extKeyUsage: options.extKeyUsage ?? ['clientAuth'],
    keyUsage: options.keyUsage ?? ['digitalSignature'],
    ...(options.validForMs === undefined ? {} : { validForMs: options.validForMs }),
    ...(options.notBefore === undefined ? {} : { notBefore: options.notBefore }),
  });
}

/** The PEMs Talos writes to /system/secrets/etcd on a control plane (etcd's own ECDSA PKI). */
export interface EtcdSecretsFiles {
  'ca.crt': string;
  'ca.key': string;
  'server.crt': string;
  'server.key': string;
  'peer.crt': string;
  'peer.key': string;
  'admin.crt': string;
  'admin.key': string;
}

export function etcdSecretsFor(etcdCa: CertificateAuthority, node: { hostname: string; ip: string }): EtcdSecretsFiles {
  const sec1 = (c: IssuedCertificate) => talosKeyPem(c.key);
  const server = issue(etcdCa, {
    subject: [{ type: 'CN', value: node.hostname }],
    extKeyUsage: ['serverAuth', 'clientAuth'],
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    ipAddresses: unique([node.ip, '127.0.0.1']),
    dnsNames: unique([node.hostname, 'localhost']),
    keyKind: 'ecdsa',
  });
  const peer = issue(etcdCa, {
    subject: [{ type: 'CN', value: node.hostname }],
    extKeyUsage: ['serverAuth', 'clientAuth'],
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    ipAddresses: [node.ip],
    dnsNames: [node.hostname],
    keyKind: 'ecdsa',
  });
  const admin = issue(etcdCa, {
    subject: [{ type: 'O', value: 'system:masters' }, { type: 'CN', value: 'talos' }],
    extKeyUsage: ['clientAuth'],
    keyUsage: ['digitalSignature'],
    keyKind: 'ecdsa',
  });
  return {
    'ca.crt': etcdCa.certPem,
    'ca.key': etcdCa.talosKeyPem,
    'server.crt': server.certPem,
    'server.key': sec1(server),
    'peer.crt': peer.certPem,
    'peer.key': sec1(peer),
    'admin.crt': admin.certPem,
    'admin.key': sec1(admin),
  };
}

/** Loads a PEM private key whatever Talos label it carries (ED25519 PRIVATE KEY is PKCS#8 under another name). */
export function loadTalosKey(pem: string): KeyObject {
  return createPrivateKey(pem.replace(/-----(BEGIN|END) ED25519 PRIVATE KEY-----/g, '-----$1 PRIVATE KEY-----'));
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
