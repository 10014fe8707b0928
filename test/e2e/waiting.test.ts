// Situations where the right thing is to wait, say why, and never call Bootstrap.
import { afterEach, describe, expect, test } from 'bun:test';
import { startCluster, threeControlPlanes, type Harness } from './cluster-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('quorum never reached', () => {
  test('one node down: no Bootstrap ever; logs name who is seen and who is missing; SIGTERM exits 0', async () => {
    const nodes = threeControlPlanes([1_700_000_100, 1_700_000_200, 1_700_000_300]);
    nodes[2]!.up = false;
    h = await startCluster({ subnet: '127.0.75', quorum: 3, nodes });
    const peers = { TALOS_AUTO_BOOTSTRAP_PEERS: `${h.ip('cp1')},${h.ip('cp2')},${h.ip('cp3')}` };
    const a = h.daemon('cp1', { ...peers, LOG_LEVEL: 'debug' });
    const b = h.daemon('cp2', peers);
    const expected = `quorum 2/3: have ${h.ip('cp1')}, ${h.ip('cp2')}; waiting for 1 more control plane; not counted: ${h.ip('cp3')} (unreachable: ECONNREFUSED)`;
    for (const d of [a, b]) await d.waitFor((l) => l.msg === expected, 10_000, 'quorum line naming the missing node');
    // Several more rounds: the decision is logged at info once; every repeat goes to debug.
    const repeats = () => a.lines.filter((l) => l.msg === expected && l.level === 'debug').length;
    await a.waitFor(() => repeats() >= 2, 15_000, 'the decision repeated at debug in two later rounds');
    const same = a.lines.filter((l) => l.msg === expected);
    expect(same.filter((l) => l.level === 'info')).toHaveLength(1);
    expect(same.filter((l) => l.level === 'debug').length).toBeGreaterThanOrEqual(2);
    expect(b.lines.filter((l) => l.msg === expected && l.level === 'info')).toHaveLength(1);
    expect(h.sim.bootstrapCalls()).toHaveLength(0);
    expect(h.sim.etcdClusters()).toHaveLength(0);
    a.kill('SIGTERM');
    b.kill('SIGTERM');
    expect(await a.exitWithin(5_000)).toBe(0);
    expect(await b.exitWithin(5_000)).toBe(0);
    expect(a.lines.at(-2)?.msg).toContain('stopped on request');
  }, 40_000);
});

describe('dry run', () => {
  test('decisions are logged, Bootstrap is never called', async () => {
    h = await startCluster({ subnet: '127.0.76', quorum: 3, nodes: threeControlPlanes([1_700_000_100, 1_700_000_200, 1_700_000_300]) });
    const env = { TALOS_AUTO_BOOTSTRAP_DRY_RUN: 'true' };
    const leader = h.daemon('cp1', env);
    const f1 = h.daemon('cp2', env);
    const f2 = h.daemon('cp3', env);
    expect(await leader.exitWithin(30_000)).toBe(0);
    expect(leader.events('dry-run')).toHaveLength(1);
    expect(leader.events('decision').map((l) => l.decision)).toContain('bootstrap');
    for (const f of [f1, f2]) await f.waitFor((l) => l.msg.includes(`leader is ${h!.ip('cp1')}`), 5_000, 'follower line');
    expect(h.sim.bootstrapCalls()).toHaveLength(0);
    expect(h.sim.etcdClusters()).toHaveLength(0);
  }, 40_000);
});
