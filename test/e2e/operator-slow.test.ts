// A slow network for the operator commands: every apid call on every node takes 2 s (the simulator's
// latency, applied in test/sim/rpc.ts; through an endpoint a call pays it twice). preflight, apply, status and
// verify reach the right verdict; a per-call deadline shorter than the network needs is named with the node
// and --call-timeout, and a verify whose --timeout is shorter than a look names --timeout; neither ever
// reports success. Binds 127.0.238.0/24 (two clusters, one after the other): run inside a private network
// namespace.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { FAST_RETRY, startOperatorCluster, type OperatorCluster } from './operator-harness.ts';

const SUBNET = '127.0.238';
const LATENCY_MS = 2_000;
let c: OperatorCluster;

const slow = (ms: number) => {
  for (const n of c.nodes) c.sim.setFlags(n.name, { latencyMs: ms });
};

const PLAN_NODES = [
  { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane' as const },
  { name: 'cp2', ip: `${SUBNET}.2`, type: 'controlplane' as const },
  { name: 'cp3', ip: `${SUBNET}.3`, type: 'controlplane' as const },
  { name: 'w1', ip: `${SUBNET}.11`, type: 'worker' as const },
];

async function start(bootstrapped: boolean): Promise<void> {
  c = await startOperatorCluster(SUBNET, PLAN_NODES.map((n) => ({ ...n, maintenance: !bootstrapped })), bootstrapped ? { bootstrapped: 'cp1' } : {});
  writeFileSync(join(c.dir, 'plan.yaml'), stringify({ nodes: PLAN_NODES.map((n) => ({ address: n.ip, file: `clusterconfig/${n.name}.yaml`, name: n.name })) }));
  if (bootstrapped) await c.sim.waitUntil(() => ['cp1', 'cp2', 'cp3'].every((n) => c.sim.node(n).etcd.running), 20_000, 'etcd on every control plane');
  slow(LATENCY_MS);
}

describe('every apid call takes 2 s, nodes in maintenance', () => {
  beforeAll(() => start(false));
  afterAll(() => c.close());

  test('preflight: every node passes, in spite of the latency; exit 0', async () => {
    const r = await c.run(['preflight', '--plan', 'plan.yaml', ...FAST_RETRY]);
    expect(r.code).toBe(0);
    for (const n of c.nodes) expect(r.stdout).toMatch(new RegExp(`^${n.name}\\s+${n.ip.replace(/\./g, '\\.')}\\s+ok\\s+ok\\s+ok\\s+ok`, 'm'));
  }, 120_000);

  test('apply: every node configured once, no retry needed; exit 0', async () => {
    const r = await c.run(['apply', '--plan', 'plan.yaml', '--parallel', '4', '--output', 'json', ...FAST_RETRY]);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { ok: boolean; nodes: { name: string; ok: boolean; attempts: unknown[] }[] };
    expect(result.ok).toBe(true);
    expect(result.nodes.map((n) => [n.name, n.ok, n.attempts.length])).toEqual(c.nodes.map((n) => [n.name, true, 1]));
    for (const n of c.nodes) expect(c.sim.node(n.name).appliedConfigs).toHaveLength(1);
    expect(c.sim.bootstrapCalls()).toHaveLength(0);
  }, 120_000);

  test('status before etcd, with a call timeout that fits: not bootstrapped, every node read; exit 1', async () => {
    await c.sim.waitUntil(() => c.sim.nodes().every((n) => !n.maintenance), 30_000, 'every node configured');
    const r = await c.run(['status', '--plan', 'plan.yaml', '--call-timeout', '20s', '--output', 'json']);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout) as { cluster: { kind: string }; nodes: { name: string; servicesRead?: boolean }[] };
    expect(s.cluster.kind).toBe('not-bootstrapped');
    expect(s.nodes.map((n) => [n.name, n.servicesRead])).toEqual(c.nodes.map((n) => [n.name, true]));
  }, 120_000);

  test('a call timeout shorter than the network needs: each node named as slow with the flag to raise, not as refusing; exit 1', async () => {
    const r = await c.run(['status', '--plan', 'plan.yaml', '--call-timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('healthy');
    expect(r.stdout).not.toContain('refused');
    for (const n of c.nodes) {
      expect(r.stdout).toContain(`  ${n.name} (${n.ip}): did not answer within the call timeout of 1s through endpoint ${SUBNET}.1,${SUBNET}.2,${SUBNET}.3 (`);
    }
    expect(r.stdout).toContain(`fix: on a slow network raise --call-timeout (now 1s); else check the node: talosctl -n ${SUBNET}.11 version`);
    const v = await c.run(['verify', '--plan', 'plan.yaml', '--call-timeout', '1s', '--timeout', '1s']);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(`cp1 (${SUBNET}.1) is stuck: has its config, but did not answer within the call timeout of 1s`);
    expect(v.stdout).toContain('  next: on a slow network raise --call-timeout (now 1s)');
  }, 120_000);
});

describe('every apid call takes 2 s, a bootstrapped cluster', () => {
  beforeAll(() => start(true));
  afterAll(() => c.close());

  test('status and verify: healthy and verified; exit 0', async () => {
    const s = await c.run(['status', '--plan', 'plan.yaml', '--call-timeout', '20s']);
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('healthy single cluster: 3 control planes, all voting members of one etcd cluster of 3 members');
    const v = await c.run(['verify', '--plan', 'plan.yaml', '--call-timeout', '20s', '--timeout', '90s', '--interval', '500ms']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/verified after .*: every node configured, one healthy etcd cluster, steady over two looks/);
  }, 120_000);

  test('a verify --timeout shorter than one look: stops after it without success and names --timeout; exit 1', async () => {
    const short = await c.run(['verify', '--plan', 'plan.yaml', '--call-timeout', '20s', '--timeout', '1s', '--interval', '500ms']);
    expect(short.code).toBe(1);
    expect(short.stdout).not.toContain('verified after');
    expect(short.stdout).toContain('healthy on the last look only: verify reports success when two looks in a row agree on every node');
    expect(short.stdout).toMatch(/verify FAILED after \S+: --timeout 1s passed; raise --timeout to wait longer/);
    // Read-only: still the one cluster the simulator started with.
    expect(c.sim.bootstrapCalls()).toHaveLength(0);
    expect(c.sim.etcdClusters('default')).toHaveLength(1);
  }, 120_000);
});
