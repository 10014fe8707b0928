// Nodes that must not bootstrap: an existing cluster, and workers.
import { afterEach, describe, expect, test } from 'bun:test';
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, threeControlPlanes, type Harness } from './cluster-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('cluster already bootstrapped, daemons restarted', () => {
  test('no Bootstrap; every daemon confirms one cluster and exits 0', async () => {
    h = await startCluster({
      subnet: '127.0.77',
      quorum: 3,
      nodes: threeControlPlanes([1_700_000_300, 1_700_000_200, 1_700_000_100]),
      sim: { bootstrapped: 'cp2' },
    });
    for (const n of ['cp1', 'cp2', 'cp3']) h.daemon(n);
    const codes = await Promise.all(h.daemons.map((d) => d.exitWithin(30_000)));
    expect(codes).toEqual([0, 0, 0]);
    expect(h.sim.bootstrapCalls()).toHaveLength(0);
    expect(h.sim.etcdClusters()).toHaveLength(1);
    for (const d of h.daemons) {
      expect(d.events('decision')[0]?.decision).toBe('bootstrapped');
      expect(d.events('cluster-healthy')).toHaveLength(1);
    }
  }, 40_000);
});

describe('control plane whose etcd secrets are not written yet', () => {
  test('waits for them, saying why, then goes on', async () => {
    h = await startCluster({ subnet: '127.0.83', quorum: 1, nodes: [{ name: 'cp1', host: 1, type: 'controlplane' }] });
    const secrets = join(h.sim.hostRoot('cp1') as string, 'system/secrets/etcd');
    const parked = `${secrets}.parked`;
    renameSync(secrets, parked);
    const d = h.daemon('cp1');
    const waiting = await d.waitFor((l) => l.event === 'waiting-secrets', 5_000, 'waiting-secrets line');
    expect(waiting.msg).toContain('machine config says controlplane');
    await Bun.sleep(1_500);
    expect(h.sim.calls()).toHaveLength(0);
    renameSync(parked, secrets);
    expect(await d.exitWithin(30_000)).toBe(0);
    expect(h.sim.successfulBootstraps().map((b) => b.node)).toEqual(['cp1']);
  }, 40_000);
});

describe('a worker node', () => {
  test('exits 0 at once, having called nothing', async () => {
    h = await startCluster({
      subnet: '127.0.78',
      quorum: 3,
      nodes: [...threeControlPlanes([1, 2, 3]), { name: 'w1', host: 21, type: 'worker' }],
    });
    // "At once": before any discovery round (no call reached any node), not a wall-clock bound, which a
    // loaded machine would break.
    const w = h.daemon('w1');
    expect(await w.exitWithin(5_000)).toBe(0);
    expect(w.events('worker')).toHaveLength(1);
    expect(h.sim.calls()).toHaveLength(0);
    expect(h.sim.tlsRefusals()).toHaveLength(0);
  }, 20_000);
});

describe('a node whose machine config no source can read, before its etcd PKI exists', () => {
  test('is not taken for a worker: every source named with its reason, exit 1 so Talos restarts it', async () => {
    h = await startCluster({ subnet: '127.0.86', quorum: 1, nodes: [{ name: 'cp1', host: 1, type: 'controlplane' }] });
    const root = h.sim.hostRoot('cp1') as string;
    rmSync(join(root, 'system/state/config.yaml'));
    renameSync(join(root, 'system/secrets/etcd'), join(root, 'system/secrets/etcd.parked'));
    const d = h.daemon('cp1', { TALOS_AUTO_BOOTSTRAP_CA_SOURCE: 'state' });
    expect(await d.exitWithin(20_000)).toBe(1);
    expect(d.events('ca-source-failed').map((l) => l.source)).toEqual(['state-file', 'state-partition', 'luks-mapping']);
    expect(d.events('role-unknown')).toHaveLength(1);
    expect(d.events('worker')).toHaveLength(0);
    expect(h.sim.calls()).toHaveLength(0);
  }, 30_000);
});
