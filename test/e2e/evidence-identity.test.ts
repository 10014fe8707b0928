// One identity per node in every view, with the compiled daemon against the simulator. Each case made two
// etcd clusters, or none, or bootstrapped through the wrong address before node identity and NODE_IP
// checks (run with AUTOBOOTSTRAP_BINARY set to an older build to see it fail there).
import { afterEach, describe, expect, test } from 'bun:test';
import { startCluster, type Harness } from './cluster-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const SAME_SECOND = 1_700_000_000;

/** Waits `ms`, then the number of successful Bootstraps; or earlier if a second one happens. */
async function bootstrapsWithin(hh: Harness, ms: number, atLeast = 2): Promise<number> {
  await hh.sim.waitUntil(() => hh.sim.successfulBootstraps().length >= atLeast, ms, 'bootstraps').catch(() => undefined);
  return hh.sim.successfulBootstraps().length;
}

describe('multi-homed control planes booted in the same second', () => {
  test('public default-route address closed to peers, private address on PEERS and SCAN_CIDR: exactly one Bootstrap', async () => {
    // NODE_IP (and Talos's default address) is each node's public address, lower than the private ones.
    h = await startCluster({
      subnet: '127.0.213',
      quorum: 2,
      nodes: [
        { name: 'cpa', host: 1, type: 'controlplane', bootTime: SAME_SECOND, addresses: [{ ip: '127.0.214.1' }] },
        { name: 'cpb', host: 2, type: 'controlplane', bootTime: SAME_SECOND, addresses: [{ ip: '127.0.214.2' }] },
      ],
    });
    // :50000 on the public address is closed to the other node (a firewall); the node itself reaches it.
    h.sim.partitionAddress('cpa', '127.0.213.1', [h.cn('cpb')]);
    h.sim.partitionAddress('cpb', '127.0.213.2', [h.cn('cpa')]);
    const env = { TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: '127.0.214.0/24', TALOS_AUTO_BOOTSTRAP_PEERS: '127.0.214.1,127.0.214.2' };
    const a = h.daemon('cpa', env);
    h.daemon('cpb', env);
    await a.waitFor((l) => l.event === 'bootstrap-call', 20_000, 'a Bootstrap call');
    expect(await bootstrapsWithin(h, 4_000)).toBe(1);
    expect(h.sim.successfulBootstraps().map((b) => b.node)).toEqual(['cpa']);
    expect(h.sim.etcdClusters()).toHaveLength(1);
  }, 60_000);

  test('every address reachable, NODE_IP not the lowest: the tie is still broken, once', async () => {
    h = await startCluster({
      subnet: '127.0.216',
      quorum: 2,
      nodes: [
        { name: 'cpa', host: 1, type: 'controlplane', bootTime: SAME_SECOND, addresses: [{ ip: '127.0.215.1' }] },
        { name: 'cpb', host: 2, type: 'controlplane', bootTime: SAME_SECOND, addresses: [{ ip: '127.0.215.2' }] },
      ],
    });
    const env = { TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: '127.0.215.0/24', TALOS_AUTO_BOOTSTRAP_PEERS: '127.0.215.1,127.0.215.2' };
    h.daemon('cpa', env);
    h.daemon('cpb', env);
    expect(await bootstrapsWithin(h, 20_000, 1)).toBe(1);
    expect(await bootstrapsWithin(h, 3_000)).toBe(1);
    expect(h.sim.etcdClusters()).toHaveLength(1);
  }, 60_000);
});

describe('NODE_IP must be this node', () => {
  test('NODE_IP of another node: a clear error (exit 2), never a Bootstrap through it', async () => {
    h = await startCluster({
      subnet: '127.0.217',
      quorum: 2,
      nodes: [
        { name: 'cp1', host: 1, type: 'controlplane', bootTime: SAME_SECOND + 10 },
        { name: 'cp2', host: 2, type: 'controlplane', bootTime: SAME_SECOND },
      ],
    });
    // cp1's daemon is told cp2's address; its own apid is still its own.
    const wrong = h.daemon('cp1', { TALOS_AUTO_BOOTSTRAP_NODE_IP: h.ip('cp2'), TALOS_AUTO_BOOTSTRAP_LOCAL_APID: h.ip('cp1') });
    expect(await wrong.exitWithin(20_000)).toBe(2);
    const line = wrong.events('node-ip-invalid')[0];
    expect(line?.msg).toContain(`TALOS_AUTO_BOOTSTRAP_NODE_IP ${h.ip('cp2')}`);
    // Every simulated node's address is loopback, local to every host (127.0.0.0/8 in fib_trie): here the
    // local apid's certificate is what tells; the host-address check has its unit tests on fib_trie fixtures.
    expect(line?.msg).toContain("is not in this node's apid certificate");
    expect(h.sim.bootstrapCalls()).toHaveLength(0);
  }, 60_000);

  test('NODE_IP of a VIP that this node holds and another node\'s certificate carries: never a Bootstrap target', async () => {
    const vip = '127.0.218.100';
    h = await startCluster({
      subnet: '127.0.218',
      quorum: 2,
      nodes: [
        // cp1 holds the VIP (an address on its interface); both certificates carry it (machine.certSANs).
        { name: 'cp1', host: 1, type: 'controlplane', bootTime: SAME_SECOND, addresses: [{ ip: vip }] },
        { name: 'cp2', host: 2, type: 'controlplane', bootTime: SAME_SECOND + 10, certSANs: [vip] },
      ],
    });
    const viaVip = h.daemon('cp1', { TALOS_AUTO_BOOTSTRAP_NODE_IP: vip, TALOS_AUTO_BOOTSTRAP_LOCAL_APID: h.ip('cp1'), TALOS_AUTO_BOOTSTRAP_PEERS: h.ip('cp2') });
    h.daemon('cp2');
    await h.sim.waitUntil(() => h!.sim.bootstrapCalls().length > 0, 8_000, 'a Bootstrap call').catch(() => undefined);
    expect(h.sim.bootstrapCalls()).toHaveLength(0);
    const line = await viaVip.waitFor((l) => l.event === 'decision' && l.reason === 'self-mismatch', 5_000, 'the VIP named as the problem');
    expect(line.msg).toContain('a VIP or shared certSAN names no single node');
  }, 60_000);
});

describe('apid certificates regenerated during the run', () => {
  test('nodes stay one identity each across new certificates: exactly one Bootstrap, one cluster', async () => {
    h = await startCluster({
      subnet: '127.0.219',
      quorum: 3,
      nodes: [
        { name: 'cp1', host: 1, type: 'controlplane', bootTime: SAME_SECOND + 20 },
        { name: 'cp2', host: 2, type: 'controlplane', bootTime: SAME_SECOND },
        { name: 'cp3', host: 3, type: 'controlplane', bootTime: SAME_SECOND + 10 },
      ],
      sim: { apidCertRotationMs: 1_500 },
    });
    for (const n of ['cp1', 'cp2', 'cp3']) h.daemon(n);
    await h.sim.waitUntil(() => h!.sim.nodes().every((n) => n.etcd.running), 45_000, 'every etcd running');
    expect(h.sim.timeline().filter((e) => e.kind === 'apid-cert-regenerated').length).toBeGreaterThan(2);
    expect(h.sim.successfulBootstraps().map((b) => b.node)).toEqual(['cp2']);
    expect(h.sim.etcdClusters()).toHaveLength(1);
  }, 60_000);
});
