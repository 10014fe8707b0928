// Control planes whose daemons wait for a quorum that cannot come: verify names each one with
// ext-autobootstrap's own last words, and the powered-off control plane as unreachable.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { startOperatorCluster, type OperatorCluster } from './operator-harness.ts';

const SUBNET = '127.0.147';
let c: OperatorCluster;

beforeAll(async () => {
  c = await startOperatorCluster(SUBNET, [
    { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane' },
    { name: 'cp2', ip: `${SUBNET}.2`, type: 'controlplane' },
    { name: 'cp3', ip: `${SUBNET}.3`, type: 'controlplane', up: false },
  ]);
  const daemons = c.startDaemons(['cp1', 'cp2']);
  await Promise.all(daemons.map((d) => d.waitFor((l) => /quorum 2\/3/.test(l.msg), 30_000, 'a quorum 2/3 line')));
});
afterAll(async () => {
  await c.close();
});

test('verify: waiting control planes with the daemon\'s last lines, the missing one unreachable; exit 1', async () => {
  const r = await c.run(['verify', '--nodes', `${SUBNET}.1,${SUBNET}.2,${SUBNET}.3`, '--timeout', '1s', '--interval', '300ms', '--output', 'json']);
  expect(r.code).toBe(1);
  const j = JSON.parse(r.stdout) as { ok: boolean; cluster: { kind: string; text: string; problems: unknown[] }; stuck: { name: string; state: string; next: string }[] };
  expect(j.ok).toBe(false);
  expect(j.cluster).toMatchObject({ kind: 'unknown', text: `no etcd seen running; cannot see ${SUBNET}.3` });
  expect(j.cluster.problems).toEqual([{ node: `${SUBNET}.3`, address: `${SUBNET}.3`, problem: `unreachable (connect ECONNREFUSED ${SUBNET}.3:50000; through endpoint ${SUBNET}.1,${SUBNET}.2,${SUBNET}.3: Get: connection error: desc = "transport: Error while dialing: dial tcp ${SUBNET}.3:50000: connect: connection refused")` }]);
  const cp1 = j.stuck.find((s) => s.name === `${SUBNET}.1`);
  expect(cp1?.state).toBe('waiting for etcd (etcd Preparing)');
  expect(cp1?.next).toMatch(/^ext-autobootstrap is Running; its last lines: .*quorum 2\/3/);
  expect(cp1?.next).toContain(`see talosctl logs ext-autobootstrap -n ${SUBNET}.1`);
  expect(j.stuck.find((s) => s.name === `${SUBNET}.3`)?.state).toStartWith(`unreachable (connect ECONNREFUSED ${SUBNET}.3:50000; through endpoint`);
  expect(c.sim.bootstrapCalls()).toHaveLength(0);
});

test('status: each waiting control plane\'s agreement state, nothing chosen; the powered-off one unknown; exit 1', async () => {
  const r = await c.run(['status', '--nodes', `${SUBNET}.1,${SUBNET}.2,${SUBNET}.3`, '-o', 'json']);
  expect(r.code).toBe(1);
  const j = JSON.parse(r.stdout) as { agreement: { kind: string; text: string }; nodes: { address: string; agreement?: { phase?: string; chosen?: string; error?: string } }[] };
  expect(j.agreement.kind).toBe('undecided');
  expect(j.agreement.text).toStartWith(`agreement: no bootstrapper chosen yet (${SUBNET}.1 `);
  for (const a of [`${SUBNET}.1`, `${SUBNET}.2`]) {
    const n = j.nodes.find((x) => x.address === a);
    expect(typeof n?.agreement?.phase).toBe('string');
    expect(n?.agreement?.chosen).toBeUndefined();
  }
  // cp3 is not seen with its config, so it is not asked.
  expect(j.nodes.find((x) => x.address === `${SUBNET}.3`)?.agreement).toBeUndefined();
  expect(c.sim.bootstrapCalls()).toHaveLength(0);
});
