// apid's verifyExtKeyUsage over whole chains, with Go's parsing quirks, on hand-built peer views.
import { describe, expect, test } from 'bun:test';
import type { DetailedPeerCertificate } from 'node:tls';
import { goSubjectString, verifyClientCertificate, type PeerView } from './client-cert-policy.ts';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

function cert(subject: Record<string, string | string[]>, ekus: string[] | undefined, ca: boolean, issuer?: DetailedPeerCertificate): DetailedPeerCertificate {
  const c = { subject, ext_key_usage: ekus, ca, raw: Buffer.from([1]) } as unknown as DetailedPeerCertificate & { issuerCertificate: DetailedPeerCertificate };
  c.issuerCertificate = issuer ?? c;
  return c;
}

function peer(leaf: DetailedPeerCertificate | Record<string, never>, authorized = true, authorizationError?: string): PeerView {
  return { authorized, authorizationError: authorizationError ?? null, getPeerCertificate: () => leaf as DetailedPeerCertificate };
}

const root = cert({ O: 'talos' }, [SERVER_AUTH, CLIENT_AUTH], true);

describe('verifyClientCertificate', () => {
  test('leaf with exactly clientAuth under a CA passes; the CA’s own EKUs do not matter', () => {
    expect(verifyClientCertificate(peer(cert({ O: 'os:reader', CN: 'n1' }, [CLIENT_AUTH], false, root)))).toEqual({
      ok: true,
      cn: 'n1',
      subject: 'CN=n1,O=os:reader',
    });
  });

  test('a non-CA certificate anywhere in the chain must have exactly clientAuth', () => {
    const badIntermediate = cert({ CN: 'intermediate' }, [SERVER_AUTH], false, root);
    const verdict = verifyClientCertificate(peer(cert({ O: 'os:admin', CN: 'n2' }, [CLIENT_AUTH], false, badIntermediate)));
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toBe('certificate "CN=intermediate" is missing the client auth extended key usage');
  });

  test('duplicates and extra known EKUs fail; EKUs Go does not know are invisible to the comparison', () => {
    expect(verifyClientCertificate(peer(cert({ CN: 'a' }, [CLIENT_AUTH, CLIENT_AUTH], false, root))).ok).toBe(false);
    expect(verifyClientCertificate(peer(cert({ CN: 'b' }, [CLIENT_AUTH, '2.5.29.37.0'], false, root))).ok).toBe(false);
    expect(verifyClientCertificate(peer(cert({ CN: 'c' }, [CLIENT_AUTH, '1.2.3.4.5'], false, root))).ok).toBe(true);
    expect(verifyClientCertificate(peer(cert({ CN: 'd' }, undefined, false, root))).ok).toBe(false);
  });

  test('no certificate, an unverified chain and an expired certificate are refused with Go-like reasons', () => {
    const none = verifyClientCertificate(peer({}));
    expect(none.ok === false && none.reason).toBe("tls: client didn't provide a certificate");
    const unknown = verifyClientCertificate(peer(cert({ CN: 'e' }, [CLIENT_AUTH], false), false, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'));
    expect(unknown.ok === false && unknown.reason).toContain('x509: certificate signed by unknown authority');
    const expired = verifyClientCertificate(peer(cert({ CN: 'f' }, [CLIENT_AUTH], false, root), false, 'CERT_HAS_EXPIRED'));
    expect(expired.ok === false && expired.reason).toContain('x509: certificate has expired or is not yet valid');
  });

  test('subjects print as Go does: most specific first, multi-valued RDNs joined by +', () => {
    expect(goSubjectString(cert({ O: ['os:admin', 'os:reader'], CN: 'x' }, [], false))).toBe('CN=x,O=os:admin+O=os:reader');
  });
});
