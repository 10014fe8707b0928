// Failures the operator must be told about: an ApplyConfiguration that fails twice before it works, a
// node that never answers, a node left in maintenance, control planes waiting for etcd.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { stringify } from 'yaml';
import { FAST_RETRY, sixNodes, startOperatorCluster, type OperatorCluster } from './operator-harness.ts';

const SUBNET = '127.0.144';
let c: OperatorCluster;

beforeAll(async () => {
  // w3 is powered off; cp2's first two ApplyConfiguration calls fail with Unavailable.
  c = await startOperatorCluster(SUBNET, sixNodes(SUBNET, { w3: { up: false } }));
  c.sim.failMethod('cp2', 'ApplyConfiguration', status.UNAVAILABLE, 2, 'connection error: desc = "transport is closing"');
  writeFileSync(join(c.dir, 'plan.yaml'), stringify({ nodes: c.nodes.map((n) => ({ address: n.ip, file: `clusterconfig/${n.name}.yaml`, name: n.name })) }));
});
afterAll(async () => {
  await c.close();
});

interface ApplyJson {
  ok: boolean;
  failed: string[];
  policy: { scheduleMs: number[] };
  nodes: { name: string; ok: boolean; attempts: { attempt: number; ok: boolean; code?: string; retryInMs?: number }[]; reason?: string; fix?: string }[];
}

describe('one node flaky, one node unreachable', () => {
  test('preflight names the unreachable node with the reason and the fix; the others pass', async () => {
    const r = await c.run(['preflight', '--plan', 'plan.yaml', ...FAST_RETRY]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^w3\s+127\.0\.144\.13\s+FAIL\s+-\s+ok\s+ok\s+ok\s+-\s+ok$/m);
    expect(r.stdout).toMatch(/^cp2\s+127\.0\.144\.2\s+ok\s+ok\s+ok\s+ok\s+ok\s+ok\s+ok$/m);
    expect(r.stdout).toContain(`w3 (${SUBNET}.13) reachable: no answer on ${SUBNET}.13:50000 after 3 attempts (connect ECONNREFUSED ${SUBNET}.13:50000)`);
    expect(r.stdout).toContain('fix: power the node on, boot it from the Talos ISO/PXE');
    expect(r.stdout).toContain('preflight FAILED for w3');
  });

  test('apply: the flaky node is retried on the backoff schedule, the unreachable one fails after its retries, the rest are configured; exit 1', async () => {
    const r = await c.run(['apply', '--plan', 'plan.yaml', '--output', 'json', '--retries', '3', ...FAST_RETRY]);
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout) as ApplyJson;
    expect(result.ok).toBe(false);
    expect(result.policy.scheduleMs).toEqual([100, 200, 400]);
    const cp2 = result.nodes.find((n) => n.name === 'cp2');
    expect(cp2?.ok).toBe(true);
    expect(cp2?.attempts).toEqual([
      { attempt: 1, ok: false, code: 'UNAVAILABLE', error: 'connection error: desc = "transport is closing"', kind: 'transient', retryInMs: 100 },
      { attempt: 2, ok: false, code: 'UNAVAILABLE', error: 'connection error: desc = "transport is closing"', kind: 'transient', retryInMs: 200 },
      { attempt: 3, ok: true },
    ] as never);
    const w3 = result.nodes.find((n) => n.name === 'w3');
    expect(w3?.ok).toBe(false);
    expect(w3?.attempts.map((a) => a.retryInMs)).toEqual([100, 200, 400, undefined]);
    expect(w3?.reason).toBe(`still failing after 4 attempts (last: UNAVAILABLE: connect ECONNREFUSED ${SUBNET}.13:50000)`);
    expect(w3?.fix).toMatch(/powered on/);
    expect(result.failed).toEqual([`${SUBNET}.13`]);
    // Everyone else got their config, including the nodes listed after the failing one.
    expect(c.sim.nodes().filter((n) => !n.maintenance).map((n) => n.name)).toEqual(['cp1', 'cp2', 'cp3', 'w1', 'w2']);
    expect(c.sim.node('cp2').appliedConfigs).toHaveLength(1);
    // Progress said what happened as it happened.
    expect(r.stderr).toMatch(/cp2: attempt 1 failed \(UNAVAILABLE: connection error: desc = "transport is closing"\); retrying in 100ms/);
    expect(r.stderr).toMatch(/cp2: configured after 2 retries; left maintenance/);
  });

  test('text output names the failed node and the fix', async () => {
    const r = await c.run(['apply', '--nodes', `${SUBNET}.13`, '--file', 'clusterconfig/w3.yaml', '--retries', '1', ...FAST_RETRY]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^${SUBNET.replace(/\./g, '\\.')}\\.13\\s+${SUBNET.replace(/\./g, '\\.')}\\.13\\s+FAILED\\s+2$`, 'm'));
    expect(r.stdout).toContain(`apply FAILED for ${SUBNET}.13 (${SUBNET}.13); the other nodes were configured`);
    expect(r.stdout).toMatch(/fix: check that the node is powered on/);
  });

  test('applying again to a configured node is refused at once, not retried', async () => {
    const r = await c.run(['apply', '--nodes', `${SUBNET}.1`, '--file', 'clusterconfig/cp1.yaml', '--output', 'json', ...FAST_RETRY]);
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout) as ApplyJson;
    expect(result.nodes[0]?.attempts).toHaveLength(1);
    expect(result.nodes[0]?.reason).toMatch(/not in maintenance mode/);
    expect(result.nodes[0]?.fix).toMatch(/already has a config/);
  });

  test('verify names stuck nodes with their state and the next step', async () => {
    // No daemons yet: control planes wait for etcd; w3 is off.
    const down = await c.run(['verify', '--plan', 'plan.yaml', '--timeout', '1s', '--interval', '200ms']);
    expect(down.code).toBe(1);
    expect(down.stdout).toContain(`w3 (${SUBNET}.13) is stuck: unreachable (connect ECONNREFUSED ${SUBNET}.13:50000; through endpoint ${SUBNET}.1,${SUBNET}.2,${SUBNET}.3: Get: connection error: desc = "transport: Error while dialing: dial tcp ${SUBNET}.13:50000: connect: connection refused")`);
    expect(down.stdout).toContain('next: check power and network');
    expect(down.stdout).toContain(`cp1 (${SUBNET}.1) is stuck: waiting for etcd (etcd Preparing)`);
    expect(down.stdout).toContain(`next: ext-autobootstrap is Running; see talosctl logs ext-autobootstrap -n ${SUBNET}.1`);
    expect(down.stdout).toContain('cluster: not bootstrapped: no control plane runs etcd yet (3 waiting)');

    // Powered on, w3 boots into maintenance: verify says to re-run apply for it, with the command.
    await c.sim.up('w3');
    const maint = await c.run(['verify', '--plan', 'plan.yaml', '--timeout', '1s', '--interval', '200ms']);
    expect(maint.code).toBe(1);
    expect(maint.stdout).toContain(`w3 (${SUBNET}.13) is stuck: still in maintenance (no config)`);
    expect(maint.stdout).toContain(`next: re-run apply for it: autobootstrap apply --nodes ${SUBNET}.13 --file ${join(c.dir, 'clusterconfig/w3.yaml')}`);

    // Re-running apply for it alone, then the daemons: verify passes.
    expect((await c.run(['apply', '--nodes', `${SUBNET}.13`, '--file', 'clusterconfig/w3.yaml', ...FAST_RETRY])).code).toBe(0);
    c.startDaemons();
    const ok = await c.run(['verify', '--plan', 'plan.yaml', '--timeout', '60s', '--interval', '500ms', '--output', 'json']);
    expect(ok.code).toBe(0);
    expect((JSON.parse(ok.stdout) as { cluster: { kind: string } }).cluster.kind).toBe('healthy');
    expect(c.sim.successfulBootstraps()).toHaveLength(1);
  });
});
