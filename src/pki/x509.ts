// X.509 certificates built with forge's ASN.1 writer and signed by node:crypto.
// node-forge can only sign with RSA, and Talos's OS CA is Ed25519 by default (ECDSA and RSA are allowed),
// so the TBSCertificate is assembled here and the signature comes from crypto.sign with the CA's own key type.
import { createHash, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

const asn1 = forge.asn1;
type Asn1 = forge.asn1.Asn1;

export const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  ed25519: '1.3.101.112',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  sha256WithRsa: '1.2.840.113549.1.1.11',
} as const;

export type ExtKeyUsage = 'serverAuth' | 'clientAuth';
export type KeyUsage = 'digitalSignature' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign';

const KEY_USAGE_BIT: Record<KeyUsage, number> = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyCertSign: 5,
  cRLSign: 6,
};

export interface NameAttribute {
  type: 'O' | 'CN';
  value: string;
}

export interface CertificateSpec {
  /** Subject attributes in order, one RDN each (apid reads every O value whichever way they are grouped). */
  subject: NameAttribute[];
  /** The issuer's subject Name, DER, copied byte for byte; omit for a self-signed certificate. */
  issuerNameDer?: Buffer;
  /** Key identifier of the issuer, written as authorityKeyIdentifier when known. */
  issuerKeyId?: Buffer;
  publicKey: KeyObject;
  signingKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  keyUsage: KeyUsage[];
  extKeyUsage: ExtKeyUsage[];
  ipAddresses?: string[];
  dnsNames?: string[];
}

export interface BuiltCertificate {
  der: Buffer;
  pem: string;
}

const bin = (buf: Buffer): string => buf.toString('binary');
const fromBin = (s: string): Buffer => Buffer.from(s, 'binary');
const seq = (items: Asn1[]): Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
const oid = (dotted: string): Asn1 =>
  asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(dotted).getBytes());
const octets = (buf: Buffer): Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bin(buf));
const bool = (v: boolean): Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BOOLEAN, false, v ? '\xff' : '\x00');
const integer = (buf: Buffer): Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, bin(buf));
const fromDer = (der: Buffer): Asn1 => asn1.fromDer(forge.util.createBuffer(bin(der)));
const toDer = (node: Asn1): Buffer => fromBin(asn1.toDer(node).getBytes());

function encodeName(attrs: NameAttribute[]): Asn1 {
  return seq(
    attrs.map((a) =>
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [
        seq([
          oid(a.type === 'O' ? OID.organization : OID.commonName),
          asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTF8, false, forge.util.encodeUtf8(a.value)),
        ]),
      ]),
    ),
  );
}

function encodeTime(d: Date): Asn1 {
  // RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 on.
  return d.getUTCFullYear() < 2050
    ? asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(d))
    : asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(d));
}

/** Minimal DER BIT STRING for a KeyUsage set: trailing zero bits are dropped and counted as unused. */
export function encodeKeyUsageBits(usages: KeyUsage[]): Buffer {
  let value = 0;
  for (const u of usages) value |= 0x80 >> KEY_USAGE_BIT[u];
  if (value === 0) return Buffer.from([0]);
  let unused = 0;
  while (((value >> unused) & 1) === 0) unused++;
  return Buffer.from([unused, value]);
}

function ipv4Bytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${ip}`);
  }
  return Buffer.from(parts);
}

function extension(id: string, critical: boolean, value: Asn1): Asn1 {
  const items = [oid(id)];
  if (critical) items.push(bool(true));
  items.push(octets(toDer(value)));
  return seq(items);
}

/** SHA-1 of the subjectPublicKey BIT STRING contents, RFC 5280 4.2.1.2 method (1). */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = fromDer(publicKey.export({ type: 'spki', format: 'der' }));
  const bits = spki.value[1] as Asn1;
  // The first byte of a BIT STRING's contents is its unused-bit count.
  return createHash('sha1').update(fromBin((bits.value as string).slice(1))).digest();
}

/** The signature AlgorithmIdentifier and the digest crypto.sign needs for a CA key. */
export function signatureAlgorithm(key: KeyObject): { ident: Asn1; digest: string | null } {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return { ident: seq([oid(OID.ed25519)]), digest: null };
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return { ident: seq([oid(OID.ecdsaWithSha256)]), digest: 'sha256' };
      if (curve === 'secp384r1') return { ident: seq([oid(OID.ecdsaWithSha384)]), digest: 'sha384' };
      if (curve === 'secp521r1') return { ident: seq([oid(OID.ecdsaWithSha512)]), digest: 'sha512' };
      throw new Error(`unsupported ECDSA curve ${curve ?? 'unknown'} (P-256, P-384 and P-521 are supported)`);
    }
    case 'rsa':
      return {
        ident: seq([oid(OID.sha256WithRsa), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '')]),
        digest: 'sha256',
      };
    default:
      throw new Error(`unsupported CA key type ${key.asymmetricKeyType ?? 'unknown'} (Ed25519, ECDSA or RSA)`);
  }
}

function serialNumber(): Buffer {
  const serial = randomBytes(16);
  // Positive and without a leading zero byte, so the INTEGER is exactly 16 bytes.
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  return serial;
}

export function buildCertificate(spec: CertificateSpec): BuiltCertificate {
  const { ident, digest } = signatureAlgorithm(spec.signingKey);
  const subject = encodeName(spec.subject);
  const issuer = spec.issuerNameDer ? fromDer(spec.issuerNameDer) : subject;
  const spki = fromDer(spec.publicKey.export({ type: 'spki', format: 'der' }));

  const extensions: Asn1[] = [
    extension(OID.basicConstraints, true, seq(spec.isCA ? [bool(true)] : [])),
    extension(
      OID.keyUsage,
      true,
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, bin(encodeKeyUsageBits(spec.keyUsage))),
    ),
  ];
  if (spec.extKeyUsage.length > 0) {
    extensions.push(
      extension(OID.extKeyUsage, false, seq(spec.extKeyUsage.map((u) => oid(u === 'serverAuth' ? OID.serverAuth : OID.clientAuth)))),
    );
  }
  const generalNames: Asn1[] = [
    ...(spec.dnsNames ?? []).map((n) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, n)),
    ...(spec.ipAddresses ?? []).map((ip) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 7, false, bin(ipv4Bytes(ip)))),
  ];
  if (generalNames.length > 0) extensions.push(extension(OID.subjectAltName, false, seq(generalNames)));
  if (spec.isCA) extensions.push(extension(OID.subjectKeyIdentifier, false, octets(keyIdentifier(spec.publicKey))));
  if (spec.issuerKeyId) {
    extensions.push(
      extension(OID.authorityKeyIdentifier, false, seq([asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, bin(spec.issuerKeyId))])),
    );
  }

  const tbs = seq([
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [integer(Buffer.from([2]))]),
    integer(serialNumber()),
    ident,
    issuer,
    seq([encodeTime(spec.notBefore), encodeTime(spec.notAfter)]),
    subject,
    spki,
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, true, [seq(extensions)]),
  ]);
  const tbsDer = toDer(tbs);
  const signature = sign(digest, tbsDer, spec.signingKey);
  const certificate = seq([
    tbs,
    signatureAlgorithm(spec.signingKey).ident,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\x00' + bin(signature)),
  ]);
  const der = toDer(certificate);
  return { der, pem: derToPem(der, 'CERTIFICATE') };
}

export function derToPem(der: Buffer, label: string): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Fields of an existing certificate that a new one issued under it must copy. */
export interface IssuerFacts {
  subjectNameDer: Buffer;
  subjectKeyId?: Buffer;
}

/** Reads the subject Name bytes and subjectKeyIdentifier of a certificate, whatever its key algorithm. */
export function issuerFacts(certDer: Buffer): IssuerFacts {
  const cert = fromDer(certDer);
  const tbs = (cert.value as Asn1[])[0] as Asn1;
  const fields = tbs.value as Asn1[];
  // The version field is an explicit [0] tag and may be absent (v1 certificates).
  const first = fields[0] as Asn1;
  const offset = first.tagClass === asn1.Class.CONTEXT_SPECIFIC && first.type === 0 ? 1 : 0;
  const subject = fields[offset + 4];
  if (!subject) throw new Error('certificate has no subject');
  const facts: IssuerFacts = { subjectNameDer: toDer(subject) };
  const extsWrapper = fields.find((f) => f.tagClass === asn1.Class.CONTEXT_SPECIFIC && f.type === 3);
  const exts = extsWrapper ? (((extsWrapper.value as Asn1[])[0] as Asn1).value as Asn1[]) : [];
  for (const ext of exts) {
    const parts = ext.value as Asn1[];
    if (asn1.derToOid(forge.util.createBuffer((parts[0] as Asn1).value as string)) !== OID.subjectKeyIdentifier) continue;
    const inner = fromDer(fromBin((parts[parts.length - 1] as Asn1).value as string));
    facts.subjectKeyId = fromBin(inner.value as string);
  }
  return facts;
}

export function publicKeyOf(certPem: string | Buffer): KeyObject {
  return createPublicKey(certPem);
}
