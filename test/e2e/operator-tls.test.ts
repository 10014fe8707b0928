// TLS failures of the operator's own credentials, against a bootstrapped simulated cluster: a talosconfig whose
// client certificate expired or is not yet valid (clock skew), whose crt is another cluster's, whose extended key usage is not exactly
// clientAuth (apid's rule), whose CA is another cluster's (every node's server certificate fails
// verification), and one listed node of another cluster. status and verify name each node with the reason
// and the fix, exit non-zero, and never say healthy. Binds 127.0.237.0/24: run inside a private network
// namespace.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startOperatorCluster, type OperatorCluster } from './operator-harness.ts';

const SUBNET = '127.0.237';
const CPS = [1, 2, 3].map((n) => `${SUBNET}.${n}`);
const ALL = CPS.join(',');
let c: OperatorCluster;
const b64 = (s: string) => Buffer.from(s).toString('base64');

function writeTalosconfig(file: string, ca: string, crt: { certPem: string; keyPem: string }): void {
  writeFileSync(join(c.dir, file), stringify({ context: 't', contexts: { t: { endpoints: [], nodes: [], ca: b64(ca), crt: b64(crt.certPem), key: b64(crt.keyPem) } } }));
}

beforeAll(async () => {
  c = await startOperatorCluster(
    SUBNET,
    [
      { name: 'cp1', ip: CPS[0] as string, type: 'controlplane' },
      { name: 'cp2', ip: CPS[1] as string, type: 'controlplane' },
      { name: 'cp3', ip: CPS[2] as string, type: 'controlplane' },
      // Another cluster's node, listed by mistake: its apid certificate fails verification against our CA.
      { name: 'x1', ip: `${SUBNET}.9`, type: 'controlplane', cluster: 'other' },
    ],
    { bootstrapped: 'cp1' },
  );
  await c.sim.waitUntil(() => ['cp1', 'cp2', 'cp3'].every((n) => c.sim.node(n).etcd.running), 10_000, 'etcd on every control plane');
  const ca = c.sim.osCaPem();
  const admin = { roles: ['os:admin'], cn: 'operator' };
  writeTalosconfig('good', ca, c.sim.clientCertificate(admin));
  // Issued three days ago for one hour.
  writeTalosconfig('expired', ca, c.sim.clientCertificate({ ...admin, notBefore: new Date(Date.now() - 3 * 86_400_000), validForMs: 3_600_000 }));
  // Clock skew: issued on a machine whose clock is a day ahead (valid from tomorrow).
  writeTalosconfig('not-yet-valid', ca, c.sim.clientCertificate({ ...admin, notBefore: new Date(Date.now() + 86_400_000) }));
  const other = c.sim.clientCertificate({ ...admin, group: 'other' });
  writeTalosconfig('foreign', c.sim.osCaPem('other'), other);
  writeTalosconfig('foreign-crt', ca, other);
  writeTalosconfig('eku-both', ca, c.sim.clientCertificate({ ...admin, extKeyUsage: ['serverAuth', 'clientAuth'] }));
  writeTalosconfig('eku-server', ca, c.sim.clientCertificate({ ...admin, extKeyUsage: ['serverAuth'] }));
  writeTalosconfig('wrong-ca', c.sim.osCaPem('other'), c.sim.clientCertificate(admin));
});
afterAll(async () => {
  await c.close();
});

const statusWith = (talosconfig: string, nodes = ALL) => c.run(['status', '--nodes', nodes, '--talosconfig', talosconfig]);
const verifyWith = (talosconfig: string, nodes = ALL) => c.run(['verify', '--nodes', nodes, '--talosconfig', talosconfig, '--timeout', '1s', '--interval', '400ms']);

describe('the operator credentials refused: named per node with the fix, never healthy', () => {
  test('control: the good talosconfig says healthy, exit 0', async () => {
    const s = await statusWith('good');
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('healthy single cluster');
  });

  const refused: [string, string, RegExp][] = [
    ['expired', "the talosconfig's client certificate expired at ", /generate a new talosconfig from this cluster's secrets \(talosctl gen config --with-secrets/],
    ['not-yet-valid', "the talosconfig's client certificate is not yet valid (not until ", /set the clocks right \(NTP\): the clock of the machine that generated the talosconfig was ahead/],
    ['foreign-crt', "the talosconfig's client certificate is not signed by the talosconfig's CA (issuer O=talos): its crt is from another cluster", /use this cluster's talosconfig/],
    ['eku-both', "the talosconfig's client certificate has extended key usage serverAuth, clientAuth; apid accepts exactly clientAuth", /issue a client certificate with extended key usage clientAuth only/],
    ['eku-server', "the talosconfig's client certificate has extended key usage serverAuth; apid accepts exactly clientAuth", /issue a client certificate with extended key usage clientAuth only/],
  ];
  for (const [file, problem, fix] of refused) {
    test(`${file}: status and verify name every node, the reason and the fix; exit 1`, async () => {
      const s = await statusWith(file);
      expect(s.code).toBe(1);
      expect(s.stdout).not.toContain('healthy');
      for (const ip of CPS) {
        expect(s.stdout).toContain(`  ${ip}: refused the talosconfig's credentials: ${problem}`);
      }
      expect(s.stdout).toMatch(fix);
      const v = await verifyWith(file);
      expect(v.code).toBe(1);
      expect(v.stdout).not.toContain('verified');
      for (const ip of CPS) {
        expect(v.stdout).toContain(`${ip} (${ip}) is stuck: has its config, but refused the talosconfig's credentials: ${problem}`);
      }
      expect(v.stdout).toMatch(new RegExp(`\\n  next: ${fix.source}`));
      expect(v.stdout).toContain('verify FAILED after');
      // Only reads: nothing bootstrapped, applied or reset; still the one cluster the simulator started with.
      expect(c.sim.bootstrapCalls()).toHaveLength(0);
      expect(c.sim.nodes().filter((n) => n.appliedConfigs.length > 0)).toHaveLength(0);
      expect(c.sim.etcdClusters('default')).toHaveLength(1);
      expect(c.sim.etcdClusters('default')[0]?.members).toHaveLength(3);
    });
  }

  test('a talosconfig of another cluster (ca and crt): every node fails server verification; wrong cluster, exit 1', async () => {
    for (const file of ['foreign', 'wrong-ca']) {
      const s = await statusWith(file);
      expect(s.code).toBe(1);
      expect(s.stdout).toContain(`wrong cluster: ${ALL.split(',').join(', ')} answer with certificates of another CA than the talosconfig's; the talosconfig (or its context) is for another cluster`);
      const v = await verifyWith(file);
      expect(v.code).toBe(1);
      expect(v.stdout).toContain(`${CPS[0]} (${CPS[0]}) is stuck: cannot tell what it is (neither in maintenance nor known to be configured: its certificate (issuer O=talos) chains to none of: the CA of talosconfig ${file}`);
      expect(v.stdout).toContain(`next: check that ${CPS[0]} is a node of this cluster and that the talosconfig is this cluster's: talosctl -n ${CPS[0]} version`);
    }
  });

  test("one listed node's server certificate fails verification (another cluster's node): named, the rest read; exit 1", async () => {
    const nodes = `${ALL},${SUBNET}.9`;
    const s = await statusWith('good', nodes);
    expect(s.code).toBe(1);
    expect(s.stdout).not.toContain('healthy single cluster');
    expect(s.stdout).toMatch(new RegExp(`^  ${SUBNET.replace(/\./g, '\\.')}\\.9: answers with a certificate of another CA than the talosconfig's`, 'm'));
    const v = await verifyWith('good', nodes);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(`${SUBNET}.9 (${SUBNET}.9) is stuck: cannot tell what it is (`);
    expect(v.stdout).toContain(`next: check that ${SUBNET}.9 is a node of this cluster and that the talosconfig is this cluster's`);
    // The other cluster's node was never asked for anything with our credentials beyond the handshake.
    expect(c.sim.callsFrom('operator').filter((r) => r.node === 'x1' && r.codeName === 'OK')).toHaveLength(0);
  });
});
