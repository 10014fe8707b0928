import { describe, expect, test } from 'bun:test';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { decodeBase64Strict, parseCertificatePem, parsePrivateKeyPem, PkiError } from '../../src/pki/pem.ts';
import { generateKey, keyPem, LAYOUTS, makeCA, openssl, pemBody, pemText, relayout, tempDir, type CAKind } from '../fixtures/pki/material.ts';
import { pkiError } from '../fixtures/pki/expect-pki-error.ts';

const rsa = generateKey('rsa');
const keys: Record<Exclude<CAKind, 'p521'>, ReturnType<typeof generateKey>> = {
  ed25519: generateKey('ed25519'),
  p256: generateKey('p256'),
  p384: generateKey('p384'),
  rsa,
};


// A private KeyObject cannot export SPKI itself; and Bun's createPublicKey refuses a key that is already
// public (Node returns it), so derive the public half only from a private key.
const spki = (k: KeyObject): Buffer =>
  (k.type === 'private' ? createPublicKey(k) : k).export({ type: 'spki', format: 'der' });

describe('parsePrivateKeyPem: every label Talos writes, in every layout', () => {
  const cases = Object.entries(keys).flatMap(([kind, pair]) =>
    (['talos', 'pkcs8'] as const).flatMap((spelling) => LAYOUTS.map((layout) => ({ kind, pair, spelling, layout }))),
  );
  test.each(cases.map((c) => [`${c.kind} ${c.spelling} ${c.layout}`, c] as const))('%s', (_name, c) => {
    const pem = keyPem(c.pair.privateKey, c.spelling, c.layout);
    const key = parsePrivateKeyPem(pem);
    expect(key.type).toBe('private');
    expect(key.asymmetricKeyType).toBe(c.pair.privateKey.asymmetricKeyType);
    // Same key: the public halves agree byte for byte.
    expect(spki(key)).toEqual(spki(c.pair.publicKey));
  });

  test('labels are the ones Talos writes', () => {
    expect(keyPem(keys.ed25519.privateKey, 'talos')).toStartWith('-----BEGIN ED25519 PRIVATE KEY-----\n');
    expect(keyPem(keys.p256.privateKey, 'talos')).toStartWith('-----BEGIN EC PRIVATE KEY-----\n');
    expect(keyPem(keys.rsa.privateKey, 'talos')).toStartWith('-----BEGIN RSA PRIVATE KEY-----\n');
  });

  test('the ED25519 PRIVATE KEY label is refused by the runtime itself (why pem.ts decodes blocks)', () => {
    const { createPrivateKey } = require('node:crypto') as typeof import('node:crypto');
    expect(() => createPrivateKey(keyPem(keys.ed25519.privateKey, 'talos'))).toThrow();
  });

  test('a key written by openssl ecparam -genkey (EC PARAMETERS block first) loads', () => {
    const tmp = tempDir('pem');
    try {
      const path = `${tmp.dir}/ec.pem`;
      const r = openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-out', path]);
      expect(r.code).toBe(0);
      const text = require('node:fs').readFileSync(path, 'utf8') as string;
      expect(text).toContain('EC PARAMETERS');
      expect(parsePrivateKeyPem(text).asymmetricKeyType).toBe('ec');
    } finally {
      tmp.remove();
    }
  });

  test('surrounding text before and after the block is tolerated', () => {
    const pem = `Bag Attributes\n    friendlyName: ca\n${keyPem(keys.p256.privateKey, 'talos')}\ntrailing words\n`;
    expect(parsePrivateKeyPem(pem).asymmetricKeyType).toBe('ec');
  });
});

describe('parsePrivateKeyPem: refusals, each with its own code and no key material', () => {
  const edPem = keyPem(keys.ed25519.privateKey, 'talos');
  const body = pemBody(edPem);

  const cases: Array<[string, string, PkiError['code'], RegExp]> = [
    ['empty', '', 'not-pem', /empty/],
    ['not PEM at all', 'hello world, not a key\n', 'not-pem', /not PEM.*expected one block labelled/],
    ['raw base64 without armour', body, 'not-pem', /no "-----BEGIN/],
    ['certificate where a key belongs', makeCA('ed25519', { keys: keys.ed25519 }).certPem, 'unsupported-label', /"CERTIFICATE".*expected one of ED25519 PRIVATE KEY/],
    ['OpenSSH key', pemText('OPENSSH PRIVATE KEY', Buffer.from('openssh-key-v1\0')), 'unsupported-label', /"OPENSSH PRIVATE KEY"/],
    [
      'PKCS#8 encrypted',
      keys.p256.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string,
      'unsupported-label',
      /"ENCRYPTED PRIVATE KEY".*unencrypted key is required/,
    ],
    [
      'legacy encrypted (Proc-Type header)',
      edPem.replace('-----\n', '-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\n'),
      'encrypted-key',
      /password-encrypted/,
    ],
    ['truncated (no END line)', edPem.slice(0, edPem.indexOf('-----END')), 'bad-pem', /no matching "-----END ED25519 PRIVATE KEY-----".*truncated/],
    ['mismatched END label', edPem.replace('END ED25519', 'END EC'), 'bad-pem', /no matching/],
    ['corrupt base64 characters', edPem.replace(body.slice(4, 8), '*%$#'), 'bad-pem', /not valid base64/],
    ['valid base64, garbage DER', pemText('EC PRIVATE KEY', Buffer.from('definitely not asn.1 at all')), 'bad-key', /not a valid SEC1 key/],
    ['two keys in one file', edPem + keyPem(keys.p256.privateKey, 'talos'), 'bad-pem', /2 PEM blocks \(ED25519 PRIVATE KEY, EC PRIVATE KEY\)/],
    ['ED25519 label over an EC key', pemText('ED25519 PRIVATE KEY', keys.p256.privateKey.export({ type: 'pkcs8', format: 'der' })), 'bad-key', /labelled ED25519.*holds a ec key/],
    // Bun parses "pkcs1"/"sec1" DER by sniffing, so only the label check catches these two.
    ['RSA label over an EC key', pemText('RSA PRIVATE KEY', keys.p256.privateKey.export({ type: 'sec1', format: 'der' })), 'bad-key', /labelled RSA PRIVATE KEY.*holds a ec key/],
    ['EC label over an RSA key', pemText('EC PRIVATE KEY', rsa.privateKey.export({ type: 'pkcs1', format: 'der' })), 'bad-key', /labelled EC PRIVATE KEY.*holds a rsa key/],
    ['PKCS#8 label over SEC1 bytes', pemText('PRIVATE KEY', keys.p256.privateKey.export({ type: 'sec1', format: 'der' })), 'bad-key', /not a valid PKCS8 key/],
  ];
  test.each(cases)('%s', (_name, pem, code, message) => {
    const err = pkiError(() => parsePrivateKeyPem(pem));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    for (const secret of [body, body.slice(10, 40), pemBody(keyPem(keys.p256.privateKey, 'talos')).slice(10, 40)]) {
      expect(err.message).not.toContain(secret);
    }
  });

  test('a well-formed key of an algorithm the runtime lacks is named, not called corrupt', () => {
    const tmp = tempDir('pem');
    try {
      const path = `${tmp.dir}/k.pem`;
      for (const [args, name] of [
        [['genpkey', '-algorithm', 'ed448', '-out', path], 'Ed448'],
        [['ecparam', '-name', 'secp256k1', '-genkey', '-noout', '-out', path], 'secp256k1'],
      ] as const) {
        expect(openssl([...args]).code).toBe(0);
        const text = require('node:fs').readFileSync(path, 'utf8') as string;
        const err = pkiError(() => parsePrivateKeyPem(text));
        expect(err.code).toBe('unsupported-key-type');
        expect(err.message).toContain(name);
        expect(err.message).not.toContain(pemBody(text).slice(20, 50));
      }
    } finally {
      tmp.remove();
    }
  });

  test('an X25519 key loads here and is refused later as a CA key (it cannot sign)', () => {
    const x = generateKeyPairSync('x25519');
    expect(parsePrivateKeyPem(x.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string).asymmetricKeyType).toBe('x25519');
  });
});

describe('parseCertificatePem', () => {
  const ca = makeCA('ed25519', { keys: keys.ed25519 });
  test.each(LAYOUTS)('layout %s', (layout) => {
    const cert = parseCertificatePem(relayout(ca.certPem, layout));
    expect(cert.subject).toBe('O=talos');
    expect(cert.ca).toBe(true);
  });

  test('the first certificate of a bundle is the one returned (as Go tls.X509KeyPair does)', () => {
    const other = makeCA('p256', { keys: keys.p256 });
    expect(parseCertificatePem(ca.certPem + other.certPem).publicKey.asymmetricKeyType).toBe('ed25519');
  });

  test.each([
    ['empty', '', 'not-pem'],
    ['text', 'not a certificate', 'not-pem'],
    ['key instead of certificate', keyPem(keys.ed25519.privateKey, 'talos'), 'unsupported-label'],
    ['garbage DER', pemText('CERTIFICATE', Buffer.from('nope nope nope')), 'bad-certificate'],
    ['truncated', ca.certPem.slice(0, 80), 'bad-pem'],
  ] as const)('%s is refused (%s)', (_name, pem, code) => {
    const err = pkiError(() => parseCertificatePem(pem));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(/certificate/);
  });
});

describe('decodeBase64Strict', () => {
  test.each([
    ['', ''],
    ['aGVsbG8=', 'hello'],
    ['aGVs\r\n bG8=\n', 'hello'],
    ['aGVsbG8', 'hello'], // unpadded
  ])('%j decodes', (input, out) => {
    expect(decodeBase64Strict(input)?.toString()).toBe(out);
  });
  test.each(['aGVsbG8*', 'aGVsbG8==', 'a', 'aGVs=bG8', 'aGVsbG8-'])('%j is refused', (input) => {
    expect(decodeBase64Strict(input)).toBeUndefined();
  });
});
