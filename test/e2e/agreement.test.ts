// Majority bootstrap with the compiled daemons against the simulator: the control planes agree on one
// bootstrapper over their own port (real gRPC and mutual TLS on loopback), so a majority quorum is safe.
import { afterEach, describe, expect, test } from 'bun:test';
import { clusterIdOf, mintAgreementClient } from '../../src/agreement/transport/certificates.ts';
import { AgreementClient } from '../../src/agreement/transport/client.ts';
import { DEFAULT_AGREEMENT_PORT } from '../../src/config.ts';
import { loadMachineCA } from '../../src/pki/machine-ca.ts';
import { startCluster, threeControlPlanes, type Harness } from './cluster-harness.ts';

let h: Harness | undefined;
const extra: { close(): void }[] = [];
afterEach(async () => {
  for (const c of extra.splice(0)) c.close();
  await h?.close();
  h = undefined;
});

const MAJORITY = { TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES: '3' };

describe('majority bootstrap', () => {
  test('N=3, q=2, one control plane down: exactly one Bootstrap; the third joins later', async () => {
    const nodes = threeControlPlanes([1_700_000_100, 1_700_000_200, 1_700_000_300]);
    nodes[2]!.up = false;
    h = await startCluster({ subnet: '127.0.191', quorum: 2, nodes });
    const cp1 = h.daemon('cp1', MAJORITY);
    const cp2 = h.daemon('cp2', MAJORITY);
    expect(await Promise.all([cp1.exitWithin(45_000), cp2.exitWithin(45_000)])).toEqual([0, 0]);
    expect(h.sim.bootstrapCalls().map((b) => b.node)).toEqual(['cp1']);
    expect(cp1.events('chosen-learned')[0]?.chosen).toBe(h.sim.node('cp1').nodeId);
    expect(cp2.events('chosen-learned')[0]?.chosen).toBe(h.sim.node('cp1').nodeId);

    await h.sim.up('cp3');
    const cp3 = h.daemon('cp3', MAJORITY);
    expect(await cp3.exitWithin(45_000)).toBe(0);
    expect(h.sim.bootstrapCalls().map((b) => b.node)).toEqual(['cp1']);
    expect(h.sim.etcdClusters()).toHaveLength(1);
    expect(h.sim.etcdClusters()[0]?.members.map((m) => m.node).sort()).toEqual(['cp1', 'cp2', 'cp3']);
  }, 120_000);

  test('cp1 and cp3 cannot reach each other, both reach cp2: both lead their own view, exactly one Bootstrap', async () => {
    // cp1 is oldest; cp3 is older than cp2: without cp1 in its view, cp3 leads.
    h = await startCluster({ subnet: '127.0.192', quorum: 2, nodes: threeControlPlanes([1_700_000_100, 1_700_000_300, 1_700_000_200]) });
    h.sim.partition([h.cn('cp1')], ['cp3']);
    h.sim.partition([h.cn('cp3')], ['cp1']);
    const ds = ['cp1', 'cp2', 'cp3'].map((n) => h!.daemon(n, MAJORITY));
    expect(await Promise.all(ds.map((d) => d.exitWithin(60_000)))).toEqual([0, 0, 0]);
    // The partition really made two leaders: each reached the final check.
    expect(ds[0]!.events('settle').length).toBeGreaterThan(0);
    expect(ds[2]!.events('settle').length).toBeGreaterThan(0);
    expect(h.sim.successfulBootstraps()).toHaveLength(1);
    expect(h.sim.bootstrapCalls()).toHaveLength(1);
    expect(h.sim.etcdClusters()).toHaveLength(1);
    const chosen = new Set(ds.flatMap((d) => d.events('chosen-learned').map((l) => l.chosen)));
    expect(chosen.size).toBe(1);
    expect(h.sim.node(h.sim.bootstrapCalls()[0]!.node).nodeId).toBe([...chosen][0] as string);
  }, 120_000);

  test('an acceptor killed after promising, then restarted, keeps its promise', async () => {
    h = await startCluster({ subnet: '127.0.193', quorum: 2, nodes: threeControlPlanes([1_700_000_100, 1_700_000_200, 1_700_000_300]) });
    const osCa = h.sim.identity().osCa;
    const ca = loadMachineCA(osCa.certPem, osCa.keyPem);
    const params = { quorum: 2, controlPlanes: 3, clusterId: clusterIdOf(osCa.certPem) };
    const proposer = (id: string) => {
      const cert = mintAgreementClient(ca, id);
      const c = new AgreementClient(h!.ip('cp2'), DEFAULT_AGREEMENT_PORT, { caPem: osCa.certPem, certPem: cert.certPem, keyPem: cert.keyPem });
      extra.push(c);
      return c;
    };
    // Only cp2's daemon runs: nobody else proposes.
    const first = h.daemon('cp2', MAJORITY);
    await first.waitFor((l) => l.event === 'agreement-ready', 20_000, 'agreement-ready');
    const high = { round: 7, proposer: '127.0.193.9' };
    const replies = await proposer('127.0.193.9').deliver({ from: '127.0.193.9', params, body: { type: 'prepare', ballot: high } }, 5_000);
    expect(replies.map((r) => r.body)).toEqual([{ type: 'promise', ballot: high, accepted: undefined }]);

    first.kill('SIGKILL');
    await first.exited;
    const again = h.daemon('cp2', MAJORITY);
    await again.waitFor((l) => l.event === 'agreement-ready', 20_000, 'agreement-ready after restart');
    const low = { round: 3, proposer: '127.0.193.1' };
    const after = await proposer('127.0.193.1').deliver({ from: '127.0.193.1', params, body: { type: 'prepare', ballot: low } }, 5_000);
    expect(after.map((r) => r.body)).toEqual([{ type: 'nack', ballot: low, promised: high }]);
    const status = await proposer('127.0.193.1').status(5_000);
    expect(status.promised).toEqual(high);
    expect(h.sim.bootstrapCalls()).toEqual([]);
  }, 90_000);

  test('q=2 with five control planes visible: refused with the clear error, no Bootstrap, still running', async () => {
    const nodes = [100, 200, 300, 400, 500].map((t, i) => ({ name: `cp${i + 1}`, host: i + 1, type: 'controlplane' as const, bootTime: 1_700_000_000 + t }));
    h = await startCluster({ subnet: '127.0.194', quorum: 2, nodes });
    // Five daemons on two shared cores: the static list instead of a /24 scan, and patient probes.
    const env = {
      TALOS_AUTO_BOOTSTRAP_DISCOVERY: 'static',
      TALOS_AUTO_BOOTSTRAP_PEERS: nodes.map((n) => h!.ip(n.name)).join(','),
      TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: '3s',
      TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '4s',
    };
    const ds = nodes.map((n) => h!.daemon(n.name, env));
    await Promise.all(ds.map((d) => d.waitFor((l) => l.event === 'quorum-not-majority', 60_000, 'quorum error')));
    await Bun.sleep(3_000);
    expect(h.sim.bootstrapCalls()).toEqual([]);
    const line = ds[0]!.events('quorum-not-majority')[0]!;
    expect(line.level).toBe('error');
    expect(line.msg).toContain('5 distinct control planes');
    expect(line.msg).toContain('TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=2');
    expect(line.msg).toContain('at least 3');
    // Still running: nobody exited.
    for (const d of ds) expect(await Promise.race([d.exited.then(() => 'exited'), Bun.sleep(100).then(() => 'running')])).toBe('running');
  }, 120_000);

  test('the agreement port blocked on one node: nothing unsafe, and the logs name the node', async () => {
    h = await startCluster({ subnet: '127.0.195', quorum: 2, nodes: threeControlPlanes([1_700_000_100, 1_700_000_200, 1_700_000_300]) });
    // cp3 listens elsewhere: every connection to its agreement port is refused, as a firewall REJECT would.
    const ds = [h.daemon('cp1', MAJORITY), h.daemon('cp2', MAJORITY), h.daemon('cp3', { ...MAJORITY, TALOS_AUTO_BOOTSTRAP_AGREEMENT_PORT: '24451' })];
    expect(await Promise.all(ds.map((d) => d.exitWithin(60_000)))).toEqual([0, 0, 0]);
    expect(h.sim.bootstrapCalls().map((b) => b.node)).toEqual(['cp1']);
    expect(h.sim.etcdClusters()).toHaveLength(1);
    const unreachable = ds[0]!.events('agreement-peer-unreachable');
    const cp3 = h.sim.node('cp3').nodeId;
    expect(unreachable.map((l) => l.peer)).toContain(cp3);
    const line = unreachable.find((l) => l.peer === cp3)?.msg ?? '';
    expect(line).toContain(`${h.ip('cp3')} (node id ${cp3})`);
    expect(line).toContain('is its agreement port open?');
  }, 120_000);

  test('the chosen node rebooted before its etcd started: it re-issues Bootstrap, and nobody else does', async () => {
    // etcd takes a while to start after a Bootstrap (its image pull); the re-issue delay is short here.
    h = await startCluster({ subnet: '127.0.196', quorum: 2, nodes: threeControlPlanes([1_700_000_100, 1_700_000_200, 1_700_000_300]), sim: { etcdStartDelayMs: 6_000 } });
    const env = { ...MAJORITY, TALOS_AUTO_BOOTSTRAP_REISSUE_DELAY: '3s' };
    const ds = ['cp1', 'cp2', 'cp3'].map((n) => h!.daemon(n, env));
    await h.sim.waitUntil(() => h!.sim.successfulBootstraps().length === 1, 30_000, 'the first Bootstrap');
    expect(h.sim.bootstrapCalls().map((b) => b.node)).toEqual(['cp1']);
    // The reboot: the daemon stops with the node; the accepted Bootstrap is lost; cp1 now boots last.
    ds[0]!.kill('SIGKILL');
    await ds[0]!.exited;
    await h.sim.reboot('cp1', 300, 1_700_000_900);
    expect(h.sim.timeline().some((e) => e.kind === 'node-rebooted' && e.lostBootstrap)).toBe(true);
    const again = h.daemon('cp1', env);
    const codes = await Promise.all([again, ds[1]!, ds[2]!].map((d) => d.exitWithin(90_000)));
    expect(codes).toEqual([0, 0, 0]);
    expect(h.sim.bootstrapCalls().map((b) => b.node)).toEqual(['cp1', 'cp1']);
    expect(again.events('agreement-call')[0]?.reissue).toBe(true);
    expect(h.sim.etcdClusters()).toHaveLength(1);
    expect(h.sim.etcdClusters()[0]?.members.map((m) => m.node).sort()).toEqual(['cp1', 'cp2', 'cp3']);
  }, 150_000);

  test('the chosen node\'s daemon restarts (no reboot) while its etcd still pulls its image: Talos still holds the Bootstrap, so it is not called again', async () => {
    // Same boot: Talos keeps the accepted Bootstrap until etcd starts; a second call gains nothing and, landing
    // as etcd writes its data directory, would stop that etcd. The re-issue delay alone would allow it here.
    h = await startCluster({ subnet: '127.0.199', quorum: 2, nodes: threeControlPlanes([1_700_000_100, 1_700_000_200, 1_700_000_300]), sim: { etcdStartDelayMs: 12_000 } });
    const env = { ...MAJORITY, TALOS_AUTO_BOOTSTRAP_REISSUE_DELAY: '2s' };
    const ds = ['cp1', 'cp2', 'cp3'].map((n) => h!.daemon(n, env));
    // Killed once it has heard Talos accept (the success is recorded before that line is logged).
    await ds[0]!.waitFor((l) => l.event === 'local-etcd-healthy' || l.event === 'waiting-local-etcd', 30_000, 'the wait for its etcd');
    expect(h.sim.bootstrapCalls().map((b) => b.node)).toEqual(['cp1']);
    ds[0]!.kill('SIGKILL');
    await ds[0]!.exited;
    const again = h.daemon('cp1', env);
    const codes = await Promise.all([again, ds[1]!, ds[2]!].map((d) => d.exitWithin(90_000)));
    expect(codes).toEqual([0, 0, 0]);
    expect(h.sim.bootstrapCalls().map((b) => b.node)).toEqual(['cp1']);
    const waited = again.events('gate-wait').map((l) => String(l.reason));
    expect(waited.some((r) => r.includes('accepted this node\'s Bootstrap in this boot'))).toBe(true);
    expect(h.sim.etcdClusters()).toHaveLength(1);
  }, 150_000);

  test("the chosen node's boot time moves after its Bootstrap while etcd still pulls its image: nobody else bootstraps", async () => {
    // Talos shows the accepted Bootstrap ("Bootstrap requested") only briefly, then Preparing with an empty
    // data directory until etcd starts: the evidence alone then reads "not bootstrapped" everywhere.
    h = await startCluster({
      subnet: '127.0.197',
      quorum: 2,
      nodes: threeControlPlanes([1_700_000_100, 1_700_000_200, 1_700_000_300]),
      sim: { etcdStartDelayMs: 15_000, bootstrapStopVisibleMs: 200 },
    });
    const ds = ['cp1', 'cp2', 'cp3'].map((n) => h!.daemon(n, MAJORITY));
    await h.sim.waitUntil(() => h!.sim.successfulBootstraps().length === 1, 30_000, 'the first Bootstrap');
    expect(h.sim.bootstrapCalls().map((b) => b.node)).toEqual(['cp1']);
    // A clock step after "synced" moves cp1's boot time past the others'; cp2 now boots first.
    h.sim.setFlags('cp1', { bootTime: 1_700_000_900 });
    // cp2 and cp3 decide afresh (restarted daemons), while cp1's etcd is still Preparing, its directory empty.
    for (const d of [ds[1]!, ds[2]!]) {
      d.kill('SIGKILL');
      await d.exited;
    }
    const cp2 = h.daemon('cp2', MAJORITY);
    const cp3 = h.daemon('cp3', MAJORITY);
    const codes = await Promise.all([ds[0]!, cp2, cp3].map((d) => d.exitWithin(90_000)));
    expect(codes).toEqual([0, 0, 0]);
    expect(h.sim.bootstrapCalls().map((b) => b.node)).toEqual(['cp1']);
    expect(h.sim.etcdClusters()).toHaveLength(1);
    // cp2 led by boot time, but followed the chosen node.
    expect(cp2.lines.some((l) => l.event === 'agreement-chosen' || String(l.msg).includes('leader is 127.0.197.1'))).toBe(true);
  }, 150_000);
});
