// PEM and base64 as the daemon and the operator commands read them (src/pki/pem.ts): random text, damaged
// real keys and certificates of every supported type, odd wrapping and labels. A clear PkiError or a
// correct parse; never an exception of another kind.
import { afterAll, describe, expect, test } from 'bun:test';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { decodeBase64Strict, parseCertificatePem, parsePemBlocks, parsePrivateKeyPem, PkiError } from '../../src/pki/pem.ts';
import { createClusterIdentity } from '../sim/cluster-identity.ts';
import { check, outcome, RSS_BUDGET_MIB, rssMiB } from './fuzz-run.ts';

const FILE = 'pem.test.ts';
const id = createClusterIdentity('default');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const KEYS = [
  id.osCa.talosKeyPem,
  id.osCa.keyPem,
  id.etcdCa.talosKeyPem,
  id.etcdCa.keyPem,
  rsa.export({ type: 'pkcs1', format: 'pem' }).toString(),
  rsa.export({ type: 'pkcs8', format: 'pem' }).toString(),
];
const CERTS = [id.osCa.certPem, id.etcdCa.certPem];

/** A real PEM, then damaged: cut, bytes replaced, lines re-wrapped, labels swapped, blocks concatenated. */
function damaged(sources: string[]) {
  return fc.tuple(
    fc.constantFrom(...sources),
    fc.oneof(
      fc.nat().map((n) => (s: string) => s.slice(0, n % (s.length + 1))),
      fc.array(fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 3 })), { minLength: 1, maxLength: 6 }).map((edits) => (s: string) => {
        let out = s;
        for (const [at, t] of edits) {
          const i = at % (out.length + 1);
          out = out.slice(0, i) + t + out.slice(i + 1);
        }
        return out;
      }),
      fc.integer({ min: 1, max: 200 }).map((w) => (s: string) => {
        const body = s.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
        const label = /-----BEGIN ([^-]+)-----/.exec(s)?.[1] ?? 'X';
        return `-----BEGIN ${label}-----\n${body.match(new RegExp(`.{1,${w}}`, 'g'))?.join('\r\n') ?? ''}\n-----END ${label}-----\n`;
      }),
      fc.constantFrom('CERTIFICATE', 'PRIVATE KEY', 'EC PRIVATE KEY', 'ED25519 PRIVATE KEY', 'RSA PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'EC PARAMETERS', '').map((label) => (s: string) => s.replace(/(BEGIN|END) [^-]+-----/g, `$1 ${label}-----`)),
      fc.constantFrom(...KEYS, ...CERTS).map((other) => (s: string) => `${s}${other}`),
      fc.constant((s: string) => `Proc-Type: 4,ENCRYPTED\n${s}`.replace(/-----\n/, '-----\nProc-Type: 4,ENCRYPTED\n\n')),
    ),
  ).map(([s, f]) => f(s));
}

afterAll(() => expect(rssMiB()).toBeLessThan(RSS_BUDGET_MIB));

describe('PEM and base64', () => {
  // Node, like RFC 4648 decoders generally, ignores the unused low bits of the last character ("AB==" is
  // one zero byte): the re-encoding has the input's length, not necessarily its last character.
  test('strict base64: undefined or bytes whose encoding has the input\'s length and prefix', () => {
    check(
      FILE,
      'strict base64',
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.base64String({ maxLength: 200 }), fc.uint8Array({ maxLength: 150 }).map((b) => Buffer.from(b).toString('base64'))), (t) => {
        const r = outcome(() => decodeBase64Strict(t), []);
        if (r.ok && r.value !== undefined && r.value.length > 0) {
          const again = r.value.toString('base64').replace(/=+$/, '');
          const given = t.replace(/\s+/g, '').replace(/=+$/, '');
          expect(again.length).toBe(given.length);
          expect(again.slice(0, -1)).toBe(given.slice(0, -1));
        }
      }),
    );
  });

  test('PEM blocks of any text', () => {
    check(FILE, 'PEM blocks of any text', fc.property(fc.oneof(fc.string({ maxLength: 500 }), damaged([...KEYS, ...CERTS])), (t) => void outcome(() => parsePemBlocks(t), [PkiError])));
  });

  test('private keys, damaged', () => {
    check(
      FILE,
      'private keys, damaged',
      fc.property(fc.oneof(damaged(KEYS), fc.string({ maxLength: 300 })), (t) => {
        const r = outcome(() => parsePrivateKeyPem(t), [PkiError]);
        if (r.ok) expect(r.value.type).toBe('private');
      }),
    );
  });

  test('certificates, damaged', () => {
    check(FILE, 'certificates, damaged', fc.property(fc.oneof(damaged(CERTS), fc.string({ maxLength: 300 })), (t) => void outcome(() => parseCertificatePem(t), [PkiError])));
  });
});
