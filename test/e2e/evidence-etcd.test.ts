// "Not bootstrapped" needs positive evidence from every control plane: an empty etcd data directory AND
// etcd not running. With the compiled daemon against the simulator; each case bootstrapped a second
// cluster, or never bootstrapped, before the data-directory evidence (AUTOBOOTSTRAP_BINARY=older build).
import { afterEach, describe, expect, test } from 'bun:test';
import { status } from '@grpc/grpc-js';
import { mutualTlsCredentials } from '../../src/talos/channel.ts';
import { NodeClient } from '../../src/talos/node-client.ts';
import { startCluster, threeControlPlanes, type Harness } from './cluster-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function bootstrapDirectly(hh: Harness, name: string): Promise<void> {
  const cert = hh.sim.clientCertificate({ roles: ['os:admin'], cn: 'operator' });
  const c = new NodeClient(hh.ip(name), 50000, mutualTlsCredentials(hh.ip(name), { caPem: hh.sim.osCaPem(), certPem: cert.certPem, keyPem: cert.keyPem }), 5_000);
  try {
    await c.bootstrap();
  } finally {
    c.close();
  }
}

describe('Preparing proves nothing', () => {
  test('a control plane holding etcd data while its etcd is Preparing (image pull): nobody bootstraps', async () => {
    // The others' joins are slow enough that only cp1 holds data when the daemons start.
    h = await startCluster({ subnet: '127.0.221', quorum: 3, nodes: threeControlPlanes([1_700_000_300, 1_700_000_100, 1_700_000_200]), sim: { joinDelayMs: 120_000, etcdStartDelayMs: 50 } });
    await bootstrapDirectly(h, 'cp1');
    await h.sim.waitUntil(() => h!.sim.node('cp1').etcd.running, 3_000, 'cp1 etcd');
    // cp1 reboots; its etcd comes back only after a long image pull: Preparing, with its data on disk.
    h.sim.setFlags('cp1', { etcdStartDelayMs: 120_000 });
    await h.sim.reboot('cp1', 50, 1_700_000_900);
    const before = h.sim.successfulBootstraps().length;
    const d2 = h.daemon('cp2');
    h.daemon('cp1');
    h.daemon('cp3');
    // Long enough for the leader (cp2, oldest boot) to arm, settle and call.
    await h.sim.waitUntil(() => h!.sim.successfulBootstraps().length > before, 8_000, 'a second Bootstrap').catch(() => undefined);
    expect(h.sim.successfulBootstraps().length).toBe(before);
    expect(h.sim.etcdClusters()).toHaveLength(1);
    const seen = await d2.waitFor((l) => l.event === 'decision' && l.decision === 'bootstrapped', 5_000, 'the cluster seen as existing');
    expect(seen.msg).toContain('/var/lib/etcd holds member');
    expect(seen.msg).toContain('Preparing');
  }, 90_000);
});

describe('Failed after the join timeout, with an empty data directory', () => {
  test('counts as not bootstrapped: exactly one Bootstrap instead of waiting for a reboot', async () => {
    h = await startCluster({ subnet: '127.0.222', quorum: 3, nodes: threeControlPlanes([1_700_000_300, 1_700_000_100, 1_700_000_200]), sim: { joinTimeoutMs: 200 } });
    await Bun.sleep(400);
    for (const n of ['cp1', 'cp2', 'cp3']) h.daemon(n);
    await h.sim.waitUntil(() => h!.sim.successfulBootstraps().length >= 1, 20_000, 'a Bootstrap');
    await Bun.sleep(2_000);
    expect(h.sim.successfulBootstraps().map((b) => b.node)).toEqual(['cp2']);
    expect(h.sim.etcdClusters()).toHaveLength(1);
    // Only the chosen node ever called Bootstrap, before and after its reboot.
    expect(new Set(h.sim.bootstrapCalls().map((b) => b.node))).toEqual(new Set(['cp2']));
  }, 90_000);
});

describe('errors stay unknown', () => {
  test.each([
    ['INTERNAL', status.INTERNAL],
    ['RESOURCE_EXHAUSTED', status.RESOURCE_EXHAUSTED],
    ['UNIMPLEMENTED', status.UNIMPLEMENTED],
  ])('a peer whose data-directory listing fails with %s: no Bootstrap while it fails; once it answers, exactly one', async (name, code) => {
    h = await startCluster({ subnet: '127.0.223', quorum: 3, nodes: threeControlPlanes([1_700_000_300, 1_700_000_100, 1_700_000_200]) });
    h.sim.failMethod('cp3', '/machine.MachineService/List', code, 1_000_000, `${name} for the test`);
    const d2 = h.daemon('cp2');
    h.daemon('cp1');
    h.daemon('cp3');
    await h.sim.waitUntil(() => h!.sim.bootstrapCalls().length > 0, 8_000, 'a Bootstrap call').catch(() => undefined);
    expect(h.sim.bootstrapCalls()).toHaveLength(0);
    const waiting = await d2.waitFor((l) => l.event === 'decision' && l.reason === 'unknown' && String(l.msg).includes('cp3'), 5_000, 'cp3 named as unknown');
    expect(waiting.msg).toContain(name);
    h.sim.node('cp3').faults.clear();
    await h.sim.waitUntil(() => h!.sim.successfulBootstraps().length >= 1, 40_000, 'a Bootstrap once cp3 answers');
    await Bun.sleep(1_000);
    expect(h.sim.successfulBootstraps().map((b) => b.node)).toEqual(['cp2']);
  }, 90_000);
});

describe('a reboot between an accepted Bootstrap and etcd starting', () => {
  test('the Bootstrap is lost with the reboot; the daemons still end with exactly one etcd cluster', async () => {
    h = await startCluster({ subnet: '127.0.224', quorum: 3, nodes: threeControlPlanes([1_700_000_300, 1_700_000_100, 1_700_000_200]), sim: { etcdStartDelayMs: 4_000 } });
    // The chosen node re-issues a lost Bootstrap only after TALOS_AUTO_BOOTSTRAP_REISSUE_DELAY (5 min by
    // default): short here. h.reboot restarts the daemon with the same environment.
    for (const n of ['cp1', 'cp2', 'cp3']) h.daemon(n, { TALOS_AUTO_BOOTSTRAP_REISSUE_DELAY: '2s' });
    await h.sim.waitUntil(() => h!.sim.successfulBootstraps().length >= 1, 20_000, 'the first Bootstrap');
    expect(h.sim.successfulBootstraps()[0]?.node).toBe('cp2');
    // cp2 reboots before its etcd started: the request was only in machined's memory.
    h.sim.setFlags('cp2', { etcdStartDelayMs: 200 });
    await h.reboot('cp2', 200);
    expect(h.sim.timeline().some((e) => e.kind === 'node-rebooted' && e.node === 'cp2' && e.lostBootstrap)).toBe(true);
    await h.sim.waitUntil(() => h!.sim.nodes().every((n) => n.etcd.running), 60_000, 'every etcd running');
    expect(h.sim.etcdClusters()).toHaveLength(1);
  }, 90_000);
});
