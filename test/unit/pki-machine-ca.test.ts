import { describe, expect, test } from 'bun:test';
import { controlPlaneCA, loadMachineCA } from '../../src/pki/machine-ca.ts';
import { parseMachineConfig, type MachineConfigFacts } from '../../src/pki/machine-config.ts';
import { PkiError } from '../../src/pki/pem.ts';
import { issuerFacts } from '../../src/pki/x509.ts';
import { multiDoc, OTHER_DOCS, v1alpha1Doc } from '../fixtures/pki/config.ts';
import { generateKey, keyPem, makeCA, openssl, pemBody, tempDir, YEAR_MS } from '../fixtures/pki/material.ts';
import { pkiError } from '../fixtures/pki/expect-pki-error.ts';

// One key per kind for the whole file: RSA generation is slow.
const keys = {
  ed25519: generateKey('ed25519'),
  p256: generateKey('p256'),
  p384: generateKey('p384'),
  p521: generateKey('p521'),
  rsa: generateKey('rsa'),
};
const other = generateKey('ed25519');


function expectNoKeyMaterial(message: string, keyPemText: string): void {
  const body = pemBody(keyPemText);
  for (const secret of [body, body.slice(8, 40), Buffer.from(keyPemText).toString('base64').slice(20, 60)]) {
    expect(message).not.toContain(secret);
  }
}

describe('loadMachineCA accepts every CA key type Talos allows', () => {
  test.each([
    ['ed25519', 'ed25519'],
    ['p256', 'ecdsa'],
    ['p384', 'ecdsa'],
    ['p521', 'ecdsa'],
    ['rsa', 'rsa'],
  ] as const)('%s → keyType %s', (kind, keyType) => {
    const ca = makeCA(kind, { keys: keys[kind] });
    for (const spelling of ['talos', 'pkcs8'] as const) {
      const loaded = loadMachineCA(ca.certPem, keyPem(keys[kind].privateKey, spelling));
      expect(loaded.keyType).toBe(keyType);
      expect(loaded.key.type).toBe('private');
      expect(loaded.certPem).toBe(ca.certPem);
      expect(loaded.issuer.subjectNameDer).toEqual(issuerFacts(loaded.certDer).subjectNameDer);
      expect(loaded.issuer.subjectKeyId?.length).toBe(20);
      // X.509 keeps whole seconds; 10 years from the CA's notBefore.
      expect(Math.abs(loaded.notAfter.getTime() - (Date.now() - 60_000 + 10 * YEAR_MS))).toBeLessThan(5_000);
    }
  });
});

describe('loadMachineCA refusals', () => {
  const ca = makeCA('ed25519', { keys: keys.ed25519 });
  const goodKey = keyPem(keys.ed25519.privateKey, 'talos');

  test('a key that does not belong to the certificate (same type)', () => {
    const wrong = keyPem(other.privateKey, 'talos');
    const err = pkiError(() => loadMachineCA(ca.certPem, wrong));
    expect(err.code).toBe('key-mismatch');
    expect(err.message).toMatch(/machine CA key does not match the machine CA certificate/);
    expectNoKeyMaterial(err.message, wrong);
    expectNoKeyMaterial(err.message, goodKey);
  });

  test('a key of another type than the certificate', () => {
    const wrong = keyPem(keys.p256.privateKey, 'talos');
    const err = pkiError(() => loadMachineCA(ca.certPem, wrong));
    expect(err.code).toBe('key-mismatch');
    expect(err.message).toMatch(/its public key is ed25519, the key is ec/);
    expectNoKeyMaterial(err.message, wrong);
  });

  test('a certificate that is not a CA', () => {
    const leaf = makeCA('ed25519', { keys: keys.ed25519, isCA: false });
    const err = pkiError(() => loadMachineCA(leaf.certPem, goodKey));
    expect(err.code).toBe('not-ca');
    expect(err.message).toMatch(/is not a CA: its basicConstraints do not say CA:TRUE/);
  });

  test('an expired CA', () => {
    const old = makeCA('ed25519', { keys: keys.ed25519, notBefore: new Date('2010-01-01T00:00:00Z'), notAfter: new Date('2020-01-01T00:00:00Z') });
    const err = pkiError(() => loadMachineCA(old.certPem, goodKey));
    expect(err.code).toBe('ca-expired');
    expect(err.message).toMatch(/expired at 2020-01-01T00:00:00.000Z/);
    expectNoKeyMaterial(err.message, goodKey);
  });

  test('a CA not yet valid, and validity judged at the given `now`', () => {
    const future = makeCA('ed25519', { keys: keys.ed25519, notBefore: new Date(Date.now() + 3600_000) });
    const err = pkiError(() => loadMachineCA(future.certPem, goodKey));
    expect(err.code).toBe('ca-not-yet-valid');
    expect(err.message).toMatch(/clock in sync/);
    expect(loadMachineCA(future.certPem, goodKey, new Date(Date.now() + 7200_000)).keyType).toBe('ed25519');
    expect(pkiError(() => loadMachineCA(ca.certPem, goodKey, new Date(Date.now() + 11 * YEAR_MS))).code).toBe('ca-expired');
  });

  test('an unsupported key type: X25519 (cannot sign)', () => {
    const { generateKeyPairSync } = require('node:crypto') as typeof import('node:crypto');
    const x = generateKeyPairSync('x25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const err = pkiError(() => loadMachineCA(ca.certPem, x));
    expect(err.code).toBe('unsupported-key-type');
    expect(err.message).toMatch(/type x25519; supported CA keys are Ed25519, ECDSA/);
  });

  test('an unsupported curve: P-224, CA made by openssl', () => {
    const tmp = tempDir('ca');
    try {
      const key = tmp.write('k.pem', '');
      expect(openssl(['ecparam', '-name', 'secp224r1', '-genkey', '-noout', '-out', key]).code).toBe(0);
      const crt = `${tmp.dir}/c.pem`;
      const r = openssl(['req', '-x509', '-new', '-key', key, '-subj', '/O=talos', '-days', '30', '-out', crt]);
      expect(r.code).toBe(0);
      const fs = require('node:fs') as typeof import('node:fs');
      const err = pkiError(() => loadMachineCA(fs.readFileSync(crt, 'utf8'), fs.readFileSync(key, 'utf8')));
      expect(err.code).toBe('unsupported-key-type');
      expect(err.message).toMatch(/curve secp224r1; supported curves are P-256, P-384 and P-521/);
    } finally {
      tmp.remove();
    }
  });

  test('garbage in either argument names which one', () => {
    expect(pkiError(() => loadMachineCA('nope', goodKey)).message).toMatch(/^machine CA certificate/);
    expect(pkiError(() => loadMachineCA(ca.certPem, 'nope')).message).toMatch(/^machine CA key is not PEM/);
  });
});

describe('controlPlaneCA', () => {
  const ca = makeCA('ed25519', { keys: keys.ed25519 });
  const key = keyPem(keys.ed25519.privateKey, 'talos');
  // caCrtPem null: no crt field at all.
  const facts = (type: string, caKeyPem: string | undefined, caCrtPem: string | null = ca.certPem): MachineConfigFacts =>
    parseMachineConfig(multiDoc([OTHER_DOCS.extensionService, v1alpha1Doc({ type, caCrtPem: caCrtPem ?? undefined, caKeyPem })]));

  test.each(['controlplane', 'init'])('a %s config yields the CA', (type) => {
    const loaded = controlPlaneCA(facts(type, key));
    expect(loaded.keyType).toBe('ed25519');
    expect(loaded.certPem).toBe(ca.certPem);
  });

  test('a worker config is refused: workers carry no CA key', () => {
    const err = pkiError(() => controlPlaneCA(facts('worker', '')));
    expect(err.code).toBe('worker-no-ca');
    expect(err.message).toMatch(/workers carry no machine CA key/);
  });

  test('a worker config is refused even if someone put a key in it', () => {
    expect(pkiError(() => controlPlaneCA(facts('worker', key))).code).toBe('worker-no-ca');
  });

  test.each([
    ['key ""', ''],
    ['no key field', undefined],
  ])('a control-plane config without machine.ca.key (%s)', (_name, caKeyPem) => {
    const err = pkiError(() => controlPlaneCA(facts('controlplane', caKeyPem)));
    expect(err.code).toBe('no-ca-key');
    expect(err.field).toBe('machine.ca.key');
    expect(err.message).toStartWith('control-plane machine config has no machine.ca.key; ');
  });

  test('a control-plane config without machine.ca.crt', () => {
    const err = pkiError(() => controlPlaneCA(facts('controlplane', key, null)));
    expect(err.code).toBe('no-ca-cert');
  });

  test('machine type unknown', () => {
    expect(pkiError(() => controlPlaneCA(facts('unknown', key))).code).toBe('not-control-plane');
  });

  test('a control-plane config whose key belongs to another CA', () => {
    const wrong = keyPem(other.privateKey, 'talos');
    const err = pkiError(() => controlPlaneCA(facts('controlplane', wrong)));
    expect(err.code).toBe('key-mismatch');
    expectNoKeyMaterial(err.message, wrong);
  });

  test('an expired CA in the config, judged at `now`', () => {
    const expired = new Date(Date.now() + 20 * YEAR_MS);
    expect(pkiError(() => controlPlaneCA(facts('controlplane', key), expired)).code).toBe('ca-expired');
  });
});
