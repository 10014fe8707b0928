// The real daemons (dist/autobootstrap) on simulated control planes that hold Talos-generated configs: the
// oldest contract the extension supports (v1.7, one v1alpha1 document) and the newest (v1.14, with
// DiscoveryServiceConfig, DiscoveryIdentityConfig, KubeClusterConfig and two dozen other documents). Each
// cluster forms exactly one etcd cluster with every control plane, from exactly one Bootstrap.
// Binds 127.0.175.0/24 and 127.0.176.0/24: run inside a private network namespace.
import { afterEach, describe, expect, test } from 'bun:test';
import { startCluster, type Harness } from '../e2e/cluster-harness.ts';
import { generatedConfig } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const CASES = [
  { contract: 'v1.7', talosVersion: 'v1.7.7', subnet: '127.0.175' },
  { contract: 'v1.14', talosVersion: 'v1.14.1', subnet: '127.0.176' },
];

describe('daemons on Talos-generated configs', () => {
  for (const k of CASES) {
    test(`${k.contract}: one Bootstrap, one etcd cluster of three`, async () => {
      const talosConfigs = { controlplane: generatedConfig(k.contract, 'controlplane').text, worker: generatedConfig(k.contract, 'worker').text };
      const now = Math.floor(Date.now() / 1000);
      h = await startCluster({
        subnet: k.subnet,
        quorum: 3,
        nodes: [
          { name: 'cp1', host: 1, type: 'controlplane', bootTime: now - 300, talosVersion: k.talosVersion },
          { name: 'cp2', host: 2, type: 'controlplane', bootTime: now - 200, talosVersion: k.talosVersion },
          { name: 'cp3', host: 3, type: 'controlplane', bootTime: now - 100, talosVersion: k.talosVersion },
          { name: 'w1', host: 11, type: 'worker', talosVersion: k.talosVersion, extensions: [] },
        ],
        sim: { clusters: { default: { talosConfigs } } },
      });
      const sim = h.sim;
      expect(sim.node('cp1').machineConfig).toContain('TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=3');
      for (const name of ['cp1', 'cp2', 'cp3']) h.daemon(name);
      await sim.waitUntil(() => sim.etcdClusters().some((c) => c.members.length === 3), 90_000, 'one etcd cluster of three');
      expect(sim.successfulBootstraps()).toHaveLength(1);
      expect(sim.etcdClusters()).toHaveLength(1);
    }, 120_000);
  }
});
