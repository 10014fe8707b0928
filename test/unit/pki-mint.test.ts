import { afterAll, describe, expect, test } from 'bun:test';
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { loadMachineCA, type MachineCA } from '../../src/pki/machine-ca.ts';
import { BACKDATE_MS, mintClientCertificate, ROLE_ADMIN, ROLE_READER, shouldRenew, type MintedCertificate } from '../../src/pki/mint.ts';
import { PkiError } from '../../src/pki/pem.ts';
import { issuerFacts, OID } from '../../src/pki/x509.ts';
import forge from 'node-forge';
import { generateKey, keyPem, LAYOUTS, makeCA, openssl, relayout, tempDir, type CAKind, type KeySpelling, type Layout } from '../fixtures/pki/material.ts';
import { pkiError } from '../fixtures/pki/expect-pki-error.ts';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

// One key pair per CA kind for the file (RSA generation is slow), and one CA certificate per kind.
const KINDS = ['ed25519', 'p256', 'p384', 'rsa'] as const satisfies readonly CAKind[];
const cas = Object.fromEntries(KINDS.map((kind) => [kind, makeCA(kind, { keys: generateKey(kind) })])) as Record<
  (typeof KINDS)[number],
  ReturnType<typeof makeCA>
>;

const tmp = tempDir('mint');
afterAll(() => tmp.remove());

const spki = (k: KeyObject): Buffer => (k.type === 'private' ? createPublicKey(k) : k).export({ type: 'spki', format: 'der' });


/** openssl verify, as apid's client side would be judged: purpose sslclient, chain to the CA alone. */
function opensslVerify(caPemOnDisk: string, certs: MintedCertificate[]): void {
  const paths = certs.map((c, i) => tmp.write(`leaf-${i}-${Math.random().toString(36).slice(2)}.pem`, c.certPem));
  const verify = openssl(['verify', '-purpose', 'sslclient', '-CAfile', caPemOnDisk, ...paths]);
  expect(verify.out.trim().split('\n')).toEqual(paths.map((p) => `${p}: OK`));
  expect(verify.code).toBe(0);
}

/** Everything else a client certificate must satisfy for apid, read back by openssl and node:crypto. */
function checkClientCertificate(ca: MachineCA, minted: MintedCertificate, role: string, cn: string, now: Date, ttlMs = DAY): void {
  const name = `${role.replace(':', '-')}-${Math.random().toString(36).slice(2)}`;
  const leafPath = tmp.write(`${name}.pem`, minted.certPem);
  const keyPath = tmp.write(`${name}-key.pem`, minted.keyPem);

  const text = openssl(['x509', '-noout', '-text', '-pubkey', '-in', leafPath]).out;
  expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
  expect(text).toMatch(/X509v3 Extended Key Usage: ?\s+TLS Web Client Authentication\n/);
  expect(text).not.toContain('TLS Web Server Authentication');
  expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
  expect(text).toContain(`Subject: O = ${role}, CN = ${cn}`);
  expect(text).toContain('Issuer: O = talos');
  expect(text).toContain('Public Key Algorithm: ED25519');
  // The authority key id is the CA's subject key id.
  const ski = ca.issuer.subjectKeyId?.toString('hex').toUpperCase().match(/../g)?.join(':');
  expect(ski).toBeDefined();
  expect(text).toMatch(new RegExp(`X509v3 Authority Key Identifier: ?\\s+(keyid:)?${ski}`));

  const cert = new X509Certificate(minted.certPem);
  expect(cert.keyUsage).toEqual([OID.clientAuth]); // EKU exactly [clientAuth]
  expect(cert.ca).toBe(false);
  expect(cert.subject).toBe(`O=${role}\nCN=${cn}`);
  expect(cert.verify(createPublicKey(ca.key))).toBe(true);
  expect(Math.abs(cert.validFromDate.getTime() - (now.getTime() - BACKDATE_MS))).toBeLessThan(1000);
  expect(Math.abs(cert.validToDate.getTime() - (now.getTime() + ttlMs))).toBeLessThan(1000);
  expect(cert.validFromDate.getTime()).toBe(minted.notBefore.getTime());
  expect(cert.validToDate.getTime()).toBe(minted.notAfter.getTime());

  // The key PEM is PKCS#8 and belongs to the certificate, by openssl and by node.
  expect(minted.keyPem).toStartWith('-----BEGIN PRIVATE KEY-----\n');
  const fromKey = openssl(['pkey', '-in', keyPath, '-pubout']).out;
  expect(fromKey).toStartWith('-----BEGIN PUBLIC KEY-----');
  expect(text).toContain(fromKey);
  expect(cert.checkPrivateKey(createPrivateKey(minted.keyPem))).toBe(true);
}

describe('mint reader and admin certificates from every CA key type, label and layout, verified by openssl', () => {
  const cases = KINDS.flatMap((kind) =>
    (['talos', 'pkcs8'] as KeySpelling[]).flatMap((spelling) => LAYOUTS.map((layout) => ({ kind, spelling, layout }))),
  );
  test.each(cases.map((c) => [`${c.kind} ${c.spelling} ${c.layout}`, c] as const))('%s', (_name, c) => {
    const src = cas[c.kind];
    const certText = relayout(src.certPem, c.layout as Layout);
    const keyText = keyPem(src.privateKey, c.spelling, c.layout as Layout);
    const ca = loadMachineCA(certText, keyText);
    const caPath = tmp.write(`ca-${c.kind}-${c.spelling}-${c.layout}.pem`, certText);
    const now = new Date();

    const reader = mintClientCertificate(ca, { roles: [ROLE_READER], commonName: 'cp-1', now });
    const admin = mintClientCertificate(ca, { roles: [ROLE_ADMIN], commonName: 'cp-1', now });
    expect(reader.roles).toEqual(['os:reader']);
    expect(admin.roles).toEqual(['os:admin']);
    opensslVerify(caPath, [reader, admin]);
    checkClientCertificate(ca, reader, 'os:reader', 'cp-1', now);
    checkClientCertificate(ca, admin, 'os:admin', 'cp-1', now);
  });
});

describe('mintClientCertificate details', () => {
  const ca = loadMachineCA(cas.ed25519.certPem, keyPem(cas.ed25519.privateKey, 'talos'));
  const caPath = tmp.write('ca-details.pem', ca.certPem);

  test('several roles become one O attribute each, in order, before CN', () => {
    const minted = mintClientCertificate(ca, { roles: [ROLE_READER, 'os:etcd:backup'], commonName: 'node-a' });
    const text = openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253', '-in', tmp.write('multi.pem', minted.certPem)]).out;
    // RFC 2253 prints RDNs last first.
    expect(text.trim()).toBe('subject=CN=node-a,O=os:etcd:backup,O=os:reader');
    expect(minted.roles).toEqual(['os:reader', 'os:etcd:backup']);
  });

  test('an empty common name leaves CN out, as Talos admin certificates do', () => {
    const minted = mintClientCertificate(ca, { roles: [ROLE_ADMIN], commonName: '' });
    expect(new X509Certificate(minted.certPem).subject).toBe('O=os:admin');
  });

  test('the issuer field is the CA subject, byte for byte', () => {
    const minted = mintClientCertificate(ca, { roles: [ROLE_READER], commonName: 'x' });
    const der = new X509Certificate(minted.certPem).raw;
    const tbs = (forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary'))).value as forge.asn1.Asn1[])[0] as forge.asn1.Asn1;
    // TBSCertificate: [0] version, serial, signature algorithm, issuer, ...
    const issuer = (tbs.value as forge.asn1.Asn1[])[3] as forge.asn1.Asn1;
    expect(Buffer.from(forge.asn1.toDer(issuer).getBytes(), 'binary').toString('hex')).toBe(issuerFacts(ca.certDer).subjectNameDer.toString('hex'));
  });

  test('a fresh key pair and serial for every certificate', () => {
    const a = mintClientCertificate(ca, { roles: [ROLE_READER], commonName: 'x' });
    const b = mintClientCertificate(ca, { roles: [ROLE_READER], commonName: 'x' });
    expect(a.keyPem).not.toBe(b.keyPem);
    const ca1 = new X509Certificate(a.certPem);
    const cb = new X509Certificate(b.certPem);
    expect(spki(ca1.publicKey)).not.toEqual(spki(cb.publicKey));
    expect(ca1.serialNumber).not.toBe(cb.serialNumber);
  });

  test('a custom lifetime', () => {
    const now = new Date();
    const minted = mintClientCertificate(ca, { roles: [ROLE_READER], commonName: 'x', ttlMs: HOUR, now });
    opensslVerify(caPath, [minted]);
    checkClientCertificate(ca, minted, 'os:reader', 'x', now, HOUR);
  });

  test('never valid beyond the CA', () => {
    const shortCA = makeCA('ed25519', { keys: { publicKey: cas.ed25519.publicKey, privateKey: cas.ed25519.privateKey }, notAfter: new Date(Date.now() + 2 * HOUR) });
    const loaded = loadMachineCA(shortCA.certPem, keyPem(shortCA.privateKey, 'talos'));
    const minted = mintClientCertificate(loaded, { roles: [ROLE_READER], commonName: 'x' });
    expect(minted.notAfter.getTime()).toBe(loaded.notAfter.getTime());
    expect(new X509Certificate(minted.certPem).validToDate.getTime()).toBe(loaded.notAfter.getTime());
    const path = tmp.write('short-ca.pem', shortCA.certPem);
    expect(openssl(['verify', '-purpose', 'sslclient', '-CAfile', path, tmp.write('short-leaf.pem', minted.certPem)]).code).toBe(0);
  });

  test('refuses once the CA has expired (a long-running daemon can outlive it)', () => {
    const err = pkiError(() => mintClientCertificate(ca, { roles: [ROLE_READER], commonName: 'x', now: new Date(ca.notAfter.getTime() + 1) }));
    expect(err.code).toBe('ca-expired');
  });

  test.each([
    ['no roles', { roles: [], commonName: 'x' }, /at least one role/],
    ['an empty role', { roles: [''], commonName: 'x' }, /non-empty string/],
    ['zero lifetime', { roles: [ROLE_READER], commonName: 'x', ttlMs: 0 }, /positive number/],
    ['NaN lifetime', { roles: [ROLE_READER], commonName: 'x', ttlMs: Number.NaN }, /positive number/],
  ] as const)('refuses %s', (_name, opts, message) => {
    const err = pkiError(() => mintClientCertificate(ca, { ...opts, roles: [...opts.roles] }));
    expect(err.code).toBe('bad-request');
    expect(err.message).toMatch(message);
  });

  test('completes a real mutual-TLS handshake against a server that trusts only the CA', async () => {
    const tls = await import('node:tls');
    const { buildCertificate } = await import('../../src/pki/x509.ts');
    const { generateKeyPairSync } = await import('node:crypto');
    const server = generateKeyPairSync('ed25519');
    const serverCert = buildCertificate({
      subject: [{ type: 'CN', value: 'node-1' }],
      issuerNameDer: ca.issuer.subjectNameDer,
      issuerKeyId: ca.issuer.subjectKeyId,
      publicKey: server.publicKey,
      signingKey: ca.key,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + HOUR),
      isCA: false,
      keyUsage: ['digitalSignature'],
      extKeyUsage: ['serverAuth'],
      ipAddresses: ['127.0.0.1'],
    });
    const client = mintClientCertificate(ca, { roles: [ROLE_READER], commonName: 'cp-2' });
    const seen = new Promise<string>((resolve, reject) => {
      const srv = tls.createServer(
        {
          cert: serverCert.pem,
          key: server.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
          ca: ca.certPem,
          requestCert: true,
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
        },
        (socket) => {
          const peer = socket.getPeerCertificate();
          socket.end(() => srv.close());
          resolve(`${socket.authorized} ${String(peer.subject?.O)} ${String(peer.subject?.CN)}`);
        },
      );
      srv.on('tlsClientError', reject);
      srv.listen(0, '127.0.0.1', () => {
        const port = (srv.address() as { port: number }).port;
        const conn = tls.connect({ host: '127.0.0.1', port, ca: ca.certPem, cert: client.certPem, key: client.keyPem, servername: 'node-1', checkServerIdentity: () => undefined });
        conn.on('error', reject);
        conn.on('data', () => undefined);
      });
    });
    expect(await seen).toBe('true os:reader cp-2');
  });
});

describe('shouldRenew', () => {
  const ca = loadMachineCA(cas.ed25519.certPem, keyPem(cas.ed25519.privateKey, 'talos'));
  const t0 = new Date(Math.floor(Date.now() / 1000) * 1000); // whole seconds, so no rounding in the arithmetic
  const cert = mintClientCertificate(ca, { roles: [ROLE_READER], commonName: 'x', now: t0 });
  const at = (ms: number) => new Date(t0.getTime() + ms);
  // Lifetime is 24 h plus the 5 min backdate; a third of it is 8 h 1 min 40 s.
  const third = (DAY + BACKDATE_MS) / 3;
  const boundary = cert.notAfter.getTime() - third - t0.getTime();

  test('the certificate spans now-5min .. now+24h', () => {
    expect(cert.notBefore.getTime()).toBe(t0.getTime() - BACKDATE_MS);
    expect(cert.notAfter.getTime()).toBe(t0.getTime() + DAY);
    expect(boundary).toBe(DAY - third);
  });

  test.each([
    ['just minted', 0, false],
    ['after 12 h', 12 * HOUR, false],
    ['after 15 h 58 min', 15 * HOUR + 58 * 60_000, false],
    ['exactly a third left', boundary, false],
    ['a millisecond less than a third left', boundary + 1, true],
    ['after 16 h', 16 * HOUR, true],
    ['a millisecond before expiry', DAY - 1, true],
    ['at expiry', DAY, true],
    ['long after expiry', 3 * DAY, true],
    ['at notBefore', -BACKDATE_MS, false],
    ['before notBefore (clock went back)', -BACKDATE_MS - 1, true],
  ] as const)('%s → renew %p', (_name, offset, expected) => {
    expect(shouldRenew(cert, at(offset))).toBe(expected);
  });

  test('a certificate cut short by the CA is renewed by its own lifetime', () => {
    const short: MintedCertificate = { ...cert, notBefore: new Date(0), notAfter: new Date(3 * HOUR) };
    expect(shouldRenew(short, new Date(2 * HOUR))).toBe(false);
    expect(shouldRenew(short, new Date(2 * HOUR + 1))).toBe(true);
  });
});
