// Two etcd clusters among the control planes: verify stops at once with exit 3 and says so; status too.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { startOperatorCluster, type OperatorCluster } from './operator-harness.ts';

const SUBNET = '127.0.146';
let c: OperatorCluster;

beforeAll(async () => {
  c = await startOperatorCluster(SUBNET, [
    { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane' },
    { name: 'cp2', ip: `${SUBNET}.2`, type: 'controlplane' },
  ], { clusters: { default: { discovery: false } } });
  // What Talos allows when Bootstrap is called on two control planes: two one-member clusters.
  c.sim.formCluster(c.sim.node('cp1'));
  c.sim.formCluster(c.sim.node('cp2'));
  await c.sim.waitUntil(() => c.sim.nodes().every((n) => n.etcd.running), 5000, 'both etcds to run');
});
afterAll(async () => {
  await c.close();
});

test('verify: split brain, exit 3, no waiting for the timeout', async () => {
  const started = Date.now();
  const r = await c.run(['verify', '--nodes', `${SUBNET}.1,${SUBNET}.2`, '--timeout', '5m']);
  expect(r.code).toBe(3);
  expect(Date.now() - started).toBeLessThan(60_000);
  expect(r.stdout).toContain(`cluster: SPLIT BRAIN: 2 etcd clusters (${SUBNET}.1 vs ${SUBNET}.2); stop here and recover etcd`);
  expect(r.stdout).toContain('verify FAILED: split brain');
});

test('status: the verdict line says split; exit 3', async () => {
  const r = await c.run(['status', '--output', 'json']);
  expect(r.code).toBe(3);
  const j = JSON.parse(r.stdout) as { cluster: { kind: string; sides: string[][] } };
  expect(j.cluster.kind).toBe('split');
  expect(j.cluster.sides).toEqual([[`${SUBNET}.1`], [`${SUBNET}.2`]]);
});
