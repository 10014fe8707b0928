// A node whose state flaps while verify looks: cp2's etcd service goes Running -> not running -> Running
// between looks (it flips after the last call of each look at it). Any single look may be healthy;
// verify must not report success on it: success needs two looks in a row that agree on every node, and a
// node that changed is named with both states and the next step. Binds 127.0.239.0/24: run inside a
// private network namespace.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startOperatorCluster, type OperatorCluster } from './operator-harness.ts';

const SUBNET = '127.0.239';
const CPS = [1, 2, 3].map((n) => `${SUBNET}.${n}`);
const ALL = CPS.join(',');
let c: OperatorCluster;
let flapping = false;
let flips = 0;

beforeAll(async () => {
  c = await startOperatorCluster(
    SUBNET,
    CPS.map((ip, i) => ({ name: `cp${i + 1}`, ip, type: 'controlplane' as const })),
    { bootstrapped: 'cp1' },
  );
  await c.sim.waitUntil(() => ['cp1', 'cp2', 'cp3'].every((n) => c.sim.node(n).etcd.running), 10_000, 'etcd on every control plane');
  // A look at cp2 ends with its member list while etcd runs, with its service list while it does not: each
  // flips etcd after the look's last call, so consecutive looks disagree.
  c.sim.onEvent((e) => {
    if (!flapping || e.kind !== 'call' || e.record.node !== 'cp2') return;
    const etcd = c.sim.node('cp2').etcd;
    const last = etcd.running ? '/EtcdMemberList' : '/ServiceList';
    if (!e.record.method.endsWith(last)) return;
    etcd.running = !etcd.running;
    flips++;
  });
});
afterAll(async () => {
  flapping = false;
  await c.close();
});

interface VerifyJson {
  ok: boolean;
  unconfirmed?: boolean;
  cluster: { kind: string };
  stuck: { name: string; state: string; next: string }[];
}

describe('a node flapping during verify', () => {
  test('etcd flaps on cp2 between looks: never verified, cp2 named with both states and the next step; exit 1', async () => {
    flapping = true;
    try {
      const r = await c.run(['verify', '--nodes', ALL, '--timeout', '3s', '--interval', '400ms']);
      expect(flips).toBeGreaterThanOrEqual(3);
      expect(r.code).toBe(1);
      expect(r.stdout).not.toContain('verified after');
      expect(r.stdout).toContain('verify FAILED after');
      expect(r.stdout).toContain('--timeout 3s passed; raise --timeout to wait longer');
      // Whichever look came last, cp2 is named: stuck waiting for etcd, or changed between the looks.
      expect(r.stdout).toMatch(new RegExp(`${CPS[1]} \\(${CPS[1]}\\) is stuck: (waiting for etcd|etcd running, membership unreadable|changed between the last two looks \\(running, controlplane, etcd \\w+)`));
      // Progress showed cp2 in both states as it happened.
      expect(r.stderr).toContain(`${CPS[1]}: running, etcd Preparing`);
      expect(r.stderr.split('\n').filter((l) => l.includes(`${CPS[1]}: running, etcd Running`)).length).toBeGreaterThanOrEqual(1);
      // Some look was healthy (usually the first): a verify that trusted one look would have exited 0 there.
      expect(r.stderr).toContain('cluster: healthy single cluster');

      const j = await c.run(['verify', '--nodes', ALL, '--timeout', '2s', '--interval', '400ms', '-o', 'json']);
      expect(j.code).toBe(1);
      const v = JSON.parse(j.stdout) as VerifyJson;
      expect(v.ok).toBe(false);
      expect(v.stuck.some((s) => s.name === CPS[1])).toBe(true);
    } finally {
      flapping = false;
    }
    // Nothing was called that changes a node.
    expect(c.sim.bootstrapCalls()).toHaveLength(0);
    expect(c.sim.etcdClusters('default')).toHaveLength(1);
  });

  test('once cp2 is steady, verify passes after two agreeing looks; exit 0', async () => {
    c.sim.node('cp2').etcd.running = true;
    const r = await c.run(['verify', '--nodes', ALL, '--timeout', '20s', '--interval', '300ms']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/verified after .*: every node configured, one healthy etcd cluster, steady over two looks/);
  });
});
