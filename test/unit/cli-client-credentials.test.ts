// Why apid would refuse the talosconfig's client certificate, read from the talosconfig alone
// (src/cli/rules/client-credentials.ts), and verify's comparison of two looks (src/cli/rules/steady.ts).
import { describe, expect, test } from 'bun:test';
import { createClusterIdentity } from '../sim/cluster-identity.ts';
import { issueClientCertificate } from '../sim/pki.ts';
import { clientCertificateProblem } from '../../src/cli/rules/client-credentials.ts';
import { changedNodes } from '../../src/cli/rules/steady.ts';
import type { NodeObservation } from '../../src/cli/rules/verdict.ts';

const ours = createClusterIdentity('default');
const theirs = createClusterIdentity('other');
const NOW = new Date();
const identity = (cert: { certPem: string; keyPem: string }, caPem = ours.osCa.certPem) => ({ caPem, certPem: cert.certPem, keyPem: cert.keyPem });
const admin = { roles: ['os:admin'] };

describe('clientCertificateProblem', () => {
  test('a talosctl-style certificate: nothing to say', () => {
    expect(clientCertificateProblem(identity(issueClientCertificate(ours.osCa, admin)), NOW)).toBeUndefined();
  });
  test('expired: the date and how to get a new talosconfig', () => {
    const p = clientCertificateProblem(identity(issueClientCertificate(ours.osCa, { ...admin, notBefore: new Date(NOW.getTime() - 3 * 86_400_000), validForMs: 3_600_000 })), NOW);
    expect(p?.problem).toMatch(/^the talosconfig's client certificate expired at \d{4}-/);
    expect(p?.fix).toContain('talosctl gen config --with-secrets');
  });
  test('not yet valid: the clock is named first', () => {
    const p = clientCertificateProblem(identity(issueClientCertificate(ours.osCa, { ...admin, notBefore: new Date(NOW.getTime() + 86_400_000) })), NOW);
    expect(p?.problem).toMatch(/is not yet valid \(not until \S+; this machine's clock says \S+\): clock skew$/);
    expect(p?.fix).toMatch(/^set the clocks right \(NTP\)/);
  });
  test("another cluster's crt under our ca", () => {
    expect(clientCertificateProblem(identity(issueClientCertificate(theirs.osCa, admin)), NOW)?.problem).toMatch(/not signed by the talosconfig's CA .*another cluster/);
  });
  test('EKU other than exactly clientAuth', () => {
    for (const [eku, named] of [
      [['serverAuth', 'clientAuth'], 'serverAuth, clientAuth'],
      [['serverAuth'], 'serverAuth'],
    ] as const) {
      const p = clientCertificateProblem(identity(issueClientCertificate(ours.osCa, { ...admin, extKeyUsage: [...eku] })), NOW);
      expect(p?.problem).toBe(`the talosconfig's client certificate has extended key usage ${named}; apid accepts exactly clientAuth`);
    }
  });
  test('unreadable PEM: said, not thrown', () => {
    expect(clientCertificateProblem({ caPem: 'x', certPem: 'y', keyPem: 'z' }, NOW)?.problem).toMatch(/cannot be read/);
  });
});

describe('changedNodes', () => {
  const cp = (etcdState: string, members?: string[]): NodeObservation => ({ name: 'cp2', address: '10.0.0.2', reach: 'configured', role: 'controlplane', stage: 'running', etcdState, ...(members ? { etcdMembers: members } : {}) });
  test('no previous look: nothing changed', () => expect(changedNodes(undefined, [cp('Running', ['1'])])).toEqual([]));
  test('the same look twice: nothing changed', () => expect(changedNodes([cp('Running', ['1', '2'])], [cp('Running', ['1', '2'])])).toEqual([]));
  test('etcd flapping: named with both states', () => {
    expect(changedNodes([cp('Preparing')], [cp('Running', ['1'])])).toEqual([
      { name: 'cp2', address: '10.0.0.2', before: 'running, controlplane, etcd Preparing', after: 'running, controlplane, etcd Running, members 1' },
    ]);
  });
  test('a member list that changed is a change', () => expect(changedNodes([cp('Running', ['1', '2'])], [cp('Running', ['1', '3'])])).toHaveLength(1));
  test('a stage that changed is a change', () => expect(changedNodes([{ ...cp('Running', ['1']), stage: 'booting' }], [cp('Running', ['1'])])).toHaveLength(1));
});
