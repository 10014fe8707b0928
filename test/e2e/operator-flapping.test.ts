// A node whose state flaps while verify looks: cp2's etcd service goes Running -> not running -> Running
// between looks, and cp3's machine stage goes running -> booting -> running with etcd Running throughout
// (each flips after the last call of each look at the node). Any single look may be healthy; verify must
// not report success on it: success needs two looks in a row that agree on every node
// (src/cli/rules/steady.ts), and a node that changed is named with both states and the next step. Binds
// 127.0.239.0/24: run inside a private network namespace.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startOperatorCluster, type OperatorCluster } from './operator-harness.ts';

const SUBNET = '127.0.239';
const CPS = [1, 2, 3].map((n) => `${SUBNET}.${n}`);
const ALL = CPS.join(',');
let c: OperatorCluster;
let flapping = false;
let flips = 0;
let stageFlapping = false;
let stageFlips = 0;

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
  // cp3's machine stage: Talos's MachineStatusController says `booting` from the boot sequence's start and
  // `running` once it ends without error (internal/app/machined/pkg/controllers/runtime/machine_status.go,
  // watchEvents: SequenceEvent_START of boot/initialize, SequenceEvent_STOP of boot). A control plane shows
  // `booting` with etcd Running between etcd's start and the end of its boot sequence; a node whose boot
  // sequence starts over and over (a boot loop) flaps between the two. The reboot's down window is left
  // out here so that only the stage differs between looks. A look at cp3 ends with its member list (etcd
  // runs throughout); the stage is flipped after it.
  c.sim.onEvent((e) => {
    if (!stageFlapping || e.kind !== 'call' || e.record.node !== 'cp3' || !e.record.method.endsWith('/EtcdMemberList')) return;
    const node = c.sim.node('cp3');
    node.bootCompleted = !node.bootCompleted;
    stageFlips++;
  });
});
afterAll(async () => {
  flapping = false;
  stageFlapping = false;
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

  test('the machine stage of cp3 flaps running <-> booting between looks: never verified, cp3 named with both stages; exit 1', async () => {
    stageFlapping = true;
    try {
      const r = await c.run(['verify', '--nodes', ALL, '--timeout', '3s', '--interval', '400ms']);
      expect(stageFlips).toBeGreaterThanOrEqual(3);
      expect(r.code).toBe(1);
      expect(r.stdout).not.toContain('verified after');
      expect(r.stdout).toContain('--timeout 3s passed; raise --timeout to wait longer');
      // Every look alone is healthy (etcd runs on all three, one cluster): only the comparison of two looks
      // catches it, and names cp3 with both of its stages.
      const ip = (CPS[2] as string).replace(/\./g, '\\.');
      const changed = new RegExp(`${ip} \\(${ip}\\) is stuck: changed between the last two looks \\((running|booting), controlplane, etcd Running, members [^>]* -> (running|booting), controlplane, etcd Running, members `);
      const m = changed.exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      expect(m?.[1]).not.toBe(m?.[2]);
      expect(r.stdout).toContain(`next: not steady: watch it (talosctl -n ${CPS[2]} services`);
      expect(r.stderr).toContain(`${CPS[2]}: running, etcd Running`);
      expect(r.stderr).toContain(`${CPS[2]}: booting, etcd Running`);
      expect(r.stderr).toContain('cluster: healthy single cluster');
      // The other nodes did not change: only cp3 is named.
      expect(r.stdout).not.toContain(`${CPS[0]} (${CPS[0]}) is stuck`);
      expect(r.stdout).not.toContain(`${CPS[1]} (${CPS[1]}) is stuck`);
    } finally {
      stageFlapping = false;
    }
    expect(c.sim.bootstrapCalls()).toHaveLength(0);
    expect(c.sim.etcdClusters('default')).toHaveLength(1);
  });

  test('once the stage of cp3 is steady (running), verify passes after two agreeing looks; exit 0', async () => {
    c.sim.node('cp3').bootCompleted = true;
    const r = await c.run(['verify', '--nodes', ALL, '--timeout', '20s', '--interval', '300ms']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/verified after .*: every node configured, one healthy etcd cluster, steady over two looks/);
  });
});
