// The one leaf minter (src/pki/mint.ts mintLeafCertificate) as the agreement's server certificate uses it:
// CN only, EKU exactly [serverAuth], the node's IP SANs, the same validity window and CA checks as the
// apid client certificates.
import { afterAll, describe, expect, test } from 'bun:test';
import { X509Certificate } from 'node:crypto';
import { mintAgreementServer } from '../../src/agreement/transport/certificates.ts';
import { loadMachineCA } from '../../src/pki/machine-ca.ts';
import { BACKDATE_MS, mintLeafCertificate } from '../../src/pki/mint.ts';
import { OID } from '../../src/pki/x509.ts';
import { generateKey, keyPem, makeCA, openssl, tempDir } from '../fixtures/pki/material.ts';
import { pkiError } from '../fixtures/pki/expect-pki-error.ts';

const HOUR = 3600_000;
const testCa = makeCA('ed25519', { keys: generateKey('ed25519') });
const ca = loadMachineCA(testCa.certPem, keyPem(testCa.privateKey, 'talos'));
const tmp = tempDir('mint-leaf');
afterAll(() => tmp.remove());
const caPath = tmp.write('ca.pem', ca.certPem);

describe('agreement server certificate', () => {
  const now = new Date();
  const minted = mintAgreementServer(ca, 'node-a', ['127.0.0.1', '10.0.0.2', '127.0.0.1'], now, HOUR);
  const x = new X509Certificate(minted.certPem);

  test('CN only, no role, EKU exactly serverAuth, IP SANs without duplicates', () => {
    expect(x.subject).toBe('CN=node-a');
    expect(minted.roles).toEqual([]);
    expect(x.keyUsage).toEqual([OID.serverAuth]);
    expect(x.subjectAltName).toBe('IP Address:127.0.0.1, IP Address:10.0.0.2');
    expect(x.ca).toBe(false);
  });

  test('valid from BACKDATE_MS before now for the TTL, whole seconds, and verifies as a TLS server', () => {
    expect(minted.notBefore.getTime()).toBe(Math.floor((now.getTime() - BACKDATE_MS) / 1000) * 1000);
    expect(minted.notAfter.getTime()).toBe(Math.floor((now.getTime() + HOUR) / 1000) * 1000);
    expect(x.validFromDate.getTime()).toBe(minted.notBefore.getTime());
    expect(x.validToDate.getTime()).toBe(minted.notAfter.getTime());
    const leaf = tmp.write('server.pem', minted.certPem);
    expect(openssl(['verify', '-purpose', 'sslserver', '-CAfile', caPath, leaf]).code).toBe(0);
    // EKU serverAuth only: the same certificate must not pass as a client.
    expect(openssl(['verify', '-purpose', 'sslclient', '-CAfile', caPath, leaf]).code).not.toBe(0);
  });

  test('never outlives the CA', () => {
    const long = mintAgreementServer(ca, 'node-a', ['127.0.0.1'], now, 100 * 365 * 24 * HOUR);
    expect(long.notAfter.getTime()).toBe(Math.floor(ca.notAfter.getTime() / 1000) * 1000);
  });

  test('refuses no address, an expired CA and a bad lifetime', () => {
    expect(() => mintAgreementServer(ca, 'node-a', [], now)).toThrow(/at least one IP address/);
    const expired = pkiError(() => mintAgreementServer(ca, 'node-a', ['127.0.0.1'], new Date(ca.notAfter.getTime() + 1)));
    expect(expired.code).toBe('ca-expired');
    expect(expired.message).toMatch(/cannot mint server certificates/);
    const bad = pkiError(() => mintLeafCertificate(ca, { commonName: 'x', organizations: [], extKeyUsage: ['serverAuth'], ttlMs: 0, now }));
    expect(bad.code).toBe('bad-request');
  });
});
