// PEM parsing for the key and certificate spellings Talos writes.
// Talos labels its Ed25519 keys `ED25519 PRIVATE KEY` (PKCS#8 inside), a label OpenSSL, Node and Bun refuse,
// so blocks are decoded here and handed to node:crypto as DER with the structure the label names.
// Messages describe what was found (labels, sizes, positions), never the bytes: these are CA secrets.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

export type PkiErrorCode =
  | 'not-pem'
  | 'bad-pem'
  | 'unsupported-label'
  | 'encrypted-key'
  | 'bad-key'
  | 'bad-certificate'
  | 'not-yaml'
  | 'corrupted'
  | 'truncated'
  | 'no-v1alpha1'
  | 'bad-field'
  | 'bad-base64'
  | 'bad-machine-type'
  | 'key-mismatch'
  | 'not-ca'
  | 'ca-expired'
  | 'ca-not-yet-valid'
  | 'unsupported-key-type'
  | 'no-ca-cert'
  | 'no-ca-key'
  | 'worker-no-ca'
  | 'not-control-plane'
  | 'bad-request';

export class PkiError extends Error {
  readonly code: PkiErrorCode;
  /** The machine-config field the problem is in, when there is one (e.g. `machine.ca.key`). */
  readonly field: string | undefined;

  constructor(code: PkiErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'PkiError';
    this.code = code;
    this.field = field;
  }
}

export interface PemBlock {
  label: string;
  der: Buffer;
}

// Key labels and the DER structure node:crypto must be told each one holds.
const KEY_LABELS: Record<string, 'pkcs8' | 'sec1' | 'pkcs1'> = {
  'ED25519 PRIVATE KEY': 'pkcs8',
  'PRIVATE KEY': 'pkcs8',
  'EC PRIVATE KEY': 'sec1',
  'RSA PRIVATE KEY': 'pkcs1',
};
const KEY_LABEL_LIST = Object.keys(KEY_LABELS).join(', ');
const LABEL_ALGORITHM: Record<string, string> = {
  'ED25519 PRIVATE KEY': 'ed25519',
  'EC PRIVATE KEY': 'ec',
  'RSA PRIVATE KEY': 'rsa',
};

// Blocks that may sit next to a key without being one (`openssl ecparam -genkey` writes EC PARAMETERS first).
const IGNORED_BESIDE_KEY = new Set(['EC PARAMETERS']);

/** Strict base64: node's decoder skips characters it does not know, which would hide corruption. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '');
  if (compact.length === 0) return Buffer.alloc(0);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  // With padding the length is a multiple of 4; without it a remainder of 1 can never be valid.
  if (compact.includes('=') ? compact.length % 4 !== 0 : compact.length % 4 === 1) return undefined;
  return Buffer.from(compact, 'base64');
}

/**
 * Every PEM block in `text`, in order. Tolerates CRLF, surrounding text, trailing whitespace, and base64
 * wrapped at any width or not at all. `what` names the input in error messages.
 */
export function parsePemBlocks(text: string, what = 'input'): PemBlock[] {
  const blocks: PemBlock[] = [];
  const begin = /-----BEGIN ([^-\r\n]*)-----/g;
  for (let m = begin.exec(text); m; m = begin.exec(text)) {
    const label = (m[1] ?? '').trim();
    const bodyStart = m.index + m[0].length;
    const endMarker = `-----END ${label}-----`;
    const end = text.indexOf(endMarker, bodyStart);
    if (end < 0) {
      throw new PkiError('bad-pem', `${what}: PEM block "${label}" has no matching "-----END ${label}-----" line (truncated?)`);
    }
    const body = text.slice(bodyStart, end);
    if (/-----BEGIN /.test(body)) {
      throw new PkiError('bad-pem', `${what}: PEM block "${label}" contains another BEGIN line before its END line`);
    }
    if (body.includes(':')) {
      // RFC 1421 headers: OpenSSL's legacy encryption puts `Proc-Type: 4,ENCRYPTED` here.
      if (/Proc-Type:\s*4,ENCRYPTED/i.test(body)) {
        throw new PkiError('encrypted-key', `${what}: PEM block "${label}" is password-encrypted; an unencrypted key is required`);
      }
      throw new PkiError('bad-pem', `${what}: PEM block "${label}" has header lines; expected only base64`);
    }
    const der = decodeBase64Strict(body);
    if (der === undefined) {
      throw new PkiError('bad-pem', `${what}: PEM block "${label}" is not valid base64`);
    }
    if (der.length === 0) throw new PkiError('bad-pem', `${what}: PEM block "${label}" is empty`);
    blocks.push({ label, der });
    begin.lastIndex = end + endMarker.length;
  }
  return blocks;
}

function describe(text: string): string {
  return text.trim().length === 0 ? 'it is empty' : `no "-----BEGIN ...-----" line in ${Buffer.byteLength(text)} bytes`;
}

/** Loads a private key in any spelling Talos writes: ED25519 PRIVATE KEY, EC PRIVATE KEY, RSA PRIVATE KEY, PRIVATE KEY. */
export function parsePrivateKeyPem(pem: string, what = 'private key'): KeyObject {
  const blocks = parsePemBlocks(pem, what).filter((b) => !IGNORED_BESIDE_KEY.has(b.label));
  if (blocks.length === 0) {
    throw new PkiError('not-pem', `${what} is not PEM: ${describe(pem)}; expected one block labelled ${KEY_LABEL_LIST}`);
  }
  if (blocks.length > 1) {
    const labels = blocks.map((b) => b.label).join(', ');
    throw new PkiError('bad-pem', `${what} holds ${blocks.length} PEM blocks (${labels}); expected exactly one key`);
  }
  const block = blocks[0] as PemBlock;
  const type = KEY_LABELS[block.label];
  if (!type) {
    const hint = block.label.includes('ENCRYPTED') ? '; an unencrypted key is required' : '';
    throw new PkiError(
      'unsupported-label',
      `${what} is a "${block.label}" PEM block; expected one of ${KEY_LABEL_LIST}${hint}`,
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: block.der, format: 'der', type });
  } catch (err) {
    // A well-formed key of an algorithm the runtime lacks (Ed448, secp256k1, DSA) deserves its own answer.
    const algorithm = keyAlgorithmName(block.der, type);
    if (algorithm) {
      throw new PkiError(
        'unsupported-key-type',
        `${what} is a ${algorithm} key; supported keys are Ed25519, ECDSA (P-256/P-384/P-521) and RSA`,
      );
    }
    throw new PkiError('bad-key', `${what}: "${block.label}" block (${block.der.length} bytes) is not a valid ${type.toUpperCase()} key${cryptoReason(err)}`);
  }
  // Bun reads "sec1" and "pkcs1" DER by sniffing (any traditional or PKCS#8 key passes), so the label's
  // promise about the algorithm is checked here: a mismatch means a mislabelled or tampered file.
  const promised = LABEL_ALGORITHM[block.label];
  if (promised && key.asymmetricKeyType !== promised) {
    throw new PkiError('bad-key', `${what}: labelled ${block.label} but holds a ${key.asymmetricKeyType ?? 'unknown'} key`);
  }
  return key;
}

/**
 * Loads the first CERTIFICATE block. Go's tls.X509KeyPair, which apid uses for machine.ca, also takes the
 * first certificate as the one the key belongs to, so any further blocks are ignored here too.
 */
export function parseCertificatePem(pem: string, what = 'certificate'): X509Certificate {
  const blocks = parsePemBlocks(pem, what);
  const block = blocks.find((b) => b.label === 'CERTIFICATE');
  if (!block) {
    const found = blocks.length === 0 ? describe(pem) : `found ${blocks.map((b) => `"${b.label}"`).join(', ')}`;
    throw new PkiError(blocks.length === 0 ? 'not-pem' : 'unsupported-label', `${what} has no CERTIFICATE PEM block: ${found}`);
  }
  try {
    return new X509Certificate(block.der);
  } catch (err) {
    throw new PkiError('bad-certificate', `${what}: CERTIFICATE block (${block.der.length} bytes) is not a valid X.509 certificate${cryptoReason(err)}`);
  }
}

// Algorithms a key file can name that node:crypto here cannot load.
const UNSUPPORTED_ALGORITHMS: Record<string, string> = {
  '1.3.101.113': 'Ed448',
  '1.3.101.110': 'X25519',
  '1.3.101.111': 'X448',
  '1.2.840.10040.4.1': 'DSA',
  '1.2.840.113549.1.1.10': 'RSA-PSS',
  '1.3.132.0.10': 'ECDSA secp256k1',
  '1.2.840.10045.3.1.1': 'ECDSA P-192',
  '1.3.132.0.33': 'ECDSA P-224',
};

/**
 * Reads the algorithm (PKCS#8) or curve (SEC1) identifier of a key the runtime refused, to name it.
 * Returns undefined when the bytes are not even that well formed.
 */
function keyAlgorithmName(der: Buffer, type: 'pkcs8' | 'sec1' | 'pkcs1'): string | undefined {
  if (type === 'pkcs1') return undefined;
  try {
    const node = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
    const fields = node.value as forge.asn1.Asn1[];
    let oidNode: forge.asn1.Asn1 | undefined;
    if (type === 'pkcs8') {
      // PrivateKeyInfo: version, AlgorithmIdentifier { algorithm, parameters }, privateKey.
      const algId = fields[1]?.value as forge.asn1.Asn1[] | undefined;
      oidNode = algId?.[0];
      const params = algId?.[1];
      const algOid = oidNode ? forge.asn1.derToOid(forge.util.createBuffer(oidNode.value as string)) : undefined;
      // For EC keys the curve is the interesting part.
      if (algOid === '1.2.840.10045.2.1' && params?.type === forge.asn1.Type.OID) oidNode = params;
    } else {
      // ECPrivateKey: version, privateKey, [0] parameters (the curve), [1] publicKey.
      const tagged = fields.find((f) => f.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && f.type === 0);
      oidNode = (tagged?.value as forge.asn1.Asn1[] | undefined)?.[0];
    }
    if (!oidNode || oidNode.type !== forge.asn1.Type.OID) return undefined;
    return UNSUPPORTED_ALGORITHMS[forge.asn1.derToOid(forge.util.createBuffer(oidNode.value as string))];
  } catch {
    return undefined;
  }
}

/** The library's error code only: crypto messages are safe today, but a code can never echo input. */
function cryptoReason(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Z0-9_]+$/.test(code) ? ` (${code})` : '';
}
