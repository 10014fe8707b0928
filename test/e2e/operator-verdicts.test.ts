// Verdicts that never flatter, against the simulator: a bootstrapped cluster whose control plane came back in
// maintenance, a learner, a member nobody accounts for, a talosconfig of another cluster, nothing reachable.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { startOperatorCluster, type OperatorCluster } from './operator-harness.ts';

const SUBNET = '127.0.150';
const ALL = [1, 2, 3].map((n) => `${SUBNET}.${n}`).join(',');
let c: OperatorCluster;

interface Verdict {
  ok: boolean;
  cluster: { kind: string; text: string; problems: { node: string; address?: string; problem: string }[] };
}

beforeAll(async () => {
  c = await startOperatorCluster(
    SUBNET,
    [
      { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane' },
      { name: 'cp2', ip: `${SUBNET}.2`, type: 'controlplane' },
      { name: 'cp3', ip: `${SUBNET}.3`, type: 'controlplane' },
      // Another cluster's node: its OS CA signs the foreign talosconfig below.
      { name: 'x1', ip: `${SUBNET}.9`, type: 'controlplane', cluster: 'other' },
    ],
    { bootstrapped: 'cp1' },
  );
  await c.sim.waitUntil(() => ['cp1', 'cp2', 'cp3'].every((n) => c.sim.node(n).etcd.running), 10_000, 'etcd on every control plane');
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const other = c.sim.clientCertificate({ roles: ['os:admin'], cn: 'operator', group: 'other' });
  writeFileSync(
    join(c.dir, 'other-talosconfig'),
    stringify({ context: 'other', contexts: { other: { endpoints: [], nodes: [], ca: b64(c.sim.osCaPem('other')), crt: b64(other.certPem), key: b64(other.keyPem) } } }),
  );
});
afterAll(async () => {
  await c.close();
});

const status = async (...args: string[]) => {
  const r = await c.run(['status', '--nodes', ALL, ...args]);
  return { ...r, json: args.includes('json') ? (JSON.parse(r.stdout) as Verdict) : undefined };
};

describe('verdicts against the simulator', () => {
  test('healthy: exit 0, and json says the same', async () => {
    const t = await status();
    expect(t.code).toBe(0);
    expect(t.stdout).toContain('healthy single cluster: 3 control planes, all voting members of one etcd cluster of 3 members');
    const j = await status('-o', 'json');
    expect(j.json?.cluster.kind).toBe('healthy');
    expect(j.json?.ok).toBe(true);
    const y = await status('-o', 'yaml');
    expect((parse(y.stdout) as Verdict).cluster.kind).toBe('healthy');
  });

  test('a learner: degraded, the learner named; exit 1', async () => {
    const id = c.sim.node('cp3').etcd.clusterId as string;
    const m = c.sim.etcdCluster(id)?.members.find((x) => x.node === 'cp3');
    if (!m) throw new Error('cp3 is no member');
    m.isLearner = true;
    try {
      const t = await status();
      expect(t.code).toBe(1);
      expect(t.stdout).toMatch(/^degraded: 2\/3 control planes healthy members of one etcd cluster; 127\.0\.150\.3: etcd learner/m);
      expect(t.stdout).toMatch(new RegExp(`^${SUBNET.replace(/\./g, '\\.')}\\.3\\s+${SUBNET.replace(/\./g, '\\.')}\\.3\\s+controlplane\\s+running\\s+Running \\(learner\\)`, 'm'));
    } finally {
      m.isLearner = false;
    }
  });

  test('a member no visible control plane accounts for: named with its peer URL; exit 1', async () => {
    const id = c.sim.node('cp1').etcd.clusterId as string;
    const cluster = c.sim.etcdCluster(id);
    if (!cluster) throw new Error('no cluster');
    cluster.members.push({ id: '48879', node: 'gone', hostname: 'old-cp', peerUrls: [`https://${SUBNET}.99:2380`], clientUrls: [], isLearner: false, joinedAt: new Date() });
    try {
      const j = await status('-o', 'json');
      expect(j.code).toBe(1);
      expect(j.json?.cluster.kind).toBe('degraded');
      expect(j.json?.cluster.problems).toContainEqual({
        node: 'member 000000000000beef',
        problem: `etcd member "old-cp" (peer https://${SUBNET}.99:2380) is not any visible control plane: a node missing from the node list, or a stale member (talosctl etcd remove-member)`,
      });
    } finally {
      cluster.members.pop();
    }
  });

  test('a talosconfig of another cluster: status and verify both say so, neither exits 0', async () => {
    const s = await c.run(['status', '--nodes', ALL, '--talosconfig', 'other-talosconfig']);
    expect(s.code).toBe(1);
    expect(s.stdout).toContain("wrong cluster: cp1, cp2, cp3 answer with certificates of another CA than the talosconfig's; the talosconfig (or its context) is for another cluster".replace(/cp(\d)/g, `${SUBNET}.$1`));
    const v = await c.run(['verify', '--nodes', ALL, '--talosconfig', 'other-talosconfig', '--timeout', '30s', '-o', 'json']);
    expect(v.code).toBe(1);
    expect((JSON.parse(v.stdout) as Verdict).cluster.kind).toBe('wrong-cluster');
    // With the config files at hand too, the nodes prove their config's CA; the talosconfig's is another.
    const f = await c.run(['status', '--nodes', `${SUBNET}.1`, '--file', 'clusterconfig/cp1.yaml', '--talosconfig', 'other-talosconfig', '-o', 'json']);
    expect(f.code).toBe(1);
    const fj = JSON.parse(f.stdout) as Verdict;
    expect(fj.cluster.kind).toBe('wrong-cluster');
    expect(fj.cluster.problems[0]?.problem).toContain('the talosconfig is for another cluster');
  });

  test('every node unreachable: could not see the cluster, the reason in the text, exit 1', async () => {
    const r = await c.run(['status', '--nodes', `${SUBNET}.201,${SUBNET}.202`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`could not see the cluster: no node answered (${SUBNET}.201: unreachable (`);
    expect(r.stdout).toContain('ECONNREFUSED');
    const j = await c.run(['status', '--nodes', `${SUBNET}.201,${SUBNET}.202`, '-o', 'json']);
    expect(j.code).toBe(1);
    expect((JSON.parse(j.stdout) as Verdict).cluster.kind).toBe('unreachable');
  });

  // Last: it changes the cluster for good.
  test('a control plane rebooted into maintenance: status and verify say degraded, name it, exit 1', async () => {
    c.sim.down('cp2');
    c.sim.node('cp2').maintenance = true;
    await c.sim.up('cp2');
    const s = await status();
    expect(s.code).toBe(1);
    expect(s.stdout).not.toContain('healthy single cluster');
    expect(s.stdout).toMatch(/^degraded: /m);
    expect(s.stdout).toContain(`  ${SUBNET}.2: in maintenance mode (no config)`);
    const v = await c.run(['verify', '--nodes', ALL, '--timeout', '1s', '--interval', '500ms']);
    expect(v.code).toBe(1);
    expect(v.stdout).not.toContain('healthy single cluster');
    expect(v.stdout).toMatch(/^cluster: degraded: /m);
    expect(v.stdout).toContain(`${SUBNET}.2 (${SUBNET}.2) is stuck: still in maintenance (no config)`);
  });
});
