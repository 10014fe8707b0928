// A slow network for the operator commands: every apid call on every node takes 2 s (the simulator's
// latency, applied in test/sim/rpc.ts; through an endpoint a call pays it twice). preflight, apply, status and
// verify reach the right verdict; a per-call deadline (--call-timeout, taken by every command) shorter than
// the network needs is named with the node and the flag, never as refusing, and raising it past the latency
// passes; a verify whose --timeout is shorter than a look names --timeout; none ever reports success on a
// node it could not read. Binds 127.0.238.0/24 (two clusters, one after the other): run inside a private
// network namespace.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { status } from '@grpc/grpc-js';
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

  test('preflight --call-timeout 1s, below the latency: every node named as slow with the flag and its value, nothing as unreachable; exit 1', async () => {
    const r = await c.run(['preflight', '--plan', 'plan.yaml', '--call-timeout', '1s', '--retries', '0']);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('preflight passed');
    expect(r.stdout).not.toContain('no answer on');
    for (const n of c.nodes) {
      expect(r.stdout).toContain(`${n.name} (${n.ip}) maintenance: slow: apid completed the TLS handshake, but MachineStatus did not answer within the call timeout of 1s (1 attempt)`);
    }
    expect(r.stdout).toContain('fix: on a slow network raise --call-timeout (now 1s); else check that the address is the node meant for this config');
    expect(r.stdout).toMatch(/preflight FAILED for cp1, cp2, cp3, w1/);
  }, 120_000);

  test('preflight --call-timeout 4s, above the latency: every node passes; exit 0', async () => {
    const r = await c.run(['preflight', '--plan', 'plan.yaml', '--call-timeout', '4s', '--retries', '0']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('preflight passed: 4 node(s) ready for apply');
  }, 120_000);

  test('a node slower than the default 5 s deadline: preflight names it slow, --call-timeout 8s passes it; exit 1, then 0', async () => {
    c.sim.setFlags('cp1', { latencyMs: 6_000 });
    try {
      const one = ['--nodes', `${SUBNET}.1`, '--file', 'clusterconfig/cp1.yaml', '--retries', '0'];
      const short = await c.run(['preflight', ...one]);
      expect(short.code).toBe(1);
      expect(short.stdout).toContain(`${SUBNET}.1 (${SUBNET}.1) maintenance: slow: apid completed the TLS handshake, but MachineStatus did not answer within the call timeout of 5s (1 attempt)`);
      expect(short.stdout).toContain('fix: on a slow network raise --call-timeout (now 5s)');
      const raised = await c.run(['preflight', ...one, '--call-timeout', '8s']);
      expect(raised.code).toBe(0);
      expect(raised.stdout).toContain('preflight passed: 1 node(s) ready for apply');
    } finally {
      slow(LATENCY_MS);
    }
  }, 120_000);

  test('apply --call-timeout 1s: a look at the node is bounded by it, named as slow with the flag when it runs out; nothing applied; exit 1', async () => {
    // ApplyConfiguration fails once (transiently), so apply looks at the node to tell what it is: that look
    // (insecure MachineStatus, 2 s here) runs out of the 1 s --call-timeout.
    c.sim.failMethod('w1', 'ApplyConfiguration', status.UNAVAILABLE, 1, 'connection error: desc = "transport is closing"');
    const r = await c.run(['apply', '--nodes', `${SUBNET}.11`, '--file', 'clusterconfig/w1.yaml', '--call-timeout', '1s', '--retries', '0']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('it did not answer MachineStatus within the call timeout (');
    expect(r.stdout).toContain('fix: on a slow network raise --call-timeout (each look at a node waits that long, ApplyConfiguration the longer of it and 30s)');
    expect(r.stderr).toContain('deadlines: 1s per look, 30s per ApplyConfiguration');
    expect(c.sim.node('w1').appliedConfigs).toHaveLength(0);
  }, 120_000);

  test('apply --call-timeout 1s: ApplyConfiguration keeps its 30 s floor, so every node is configured once, no retry needed; exit 0', async () => {
    const r = await c.run(['apply', '--plan', 'plan.yaml', '--parallel', '4', '--call-timeout', '1s', '--output', 'json', ...FAST_RETRY]);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { ok: boolean; deadlines: unknown; nodes: { name: string; ok: boolean; attempts: unknown[] }[] };
    expect(result.deadlines).toEqual({ probeMs: 1000, applyConfigurationMs: 30_000 });
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
