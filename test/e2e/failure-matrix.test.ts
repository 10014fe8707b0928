// The failures RELIABILITY.md lists that no other end-to-end test shows for the daemon: a node whose calls
// time out, transient RPC errors (including a Bootstrap whose reply is lost), every call taking 2 s, the
// leader dying after Bootstrap before etcd is healthy, and a node whose state flaps. Each ends with exactly
// one Bootstrap and one etcd cluster, and the log names the node and what happens next.
import { afterEach, describe, expect, test } from 'bun:test';
import { status } from '@grpc/grpc-js';
import { startCluster, threeControlPlanes, type Harness } from './cluster-harness.ts';
import type { DaemonProcess, LogLine } from './daemon-process.ts';

const SUBNET = '127.0.133';
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const BOOTS: [number, number, number] = [1_700_000_100, 1_700_000_200, 1_700_000_300];

async function threeNodes(env: Record<string, string> = {}, sim: Parameters<typeof startCluster>[0]['sim'] = {}): Promise<{ h: Harness; ds: DaemonProcess[] }> {
  const harness = await startCluster({ subnet: SUBNET, quorum: 3, nodes: threeControlPlanes(BOOTS), sim });
  h = harness;
  const peers = { TALOS_AUTO_BOOTSTRAP_PEERS: ['cp1', 'cp2', 'cp3'].map((n) => harness.ip(n)).join(','), ...env };
  return { h: harness, ds: ['cp1', 'cp2', 'cp3'].map((n) => harness.daemon(n, peers)) };
}

/**
 * One etcd cluster of all three, formed by the oldest node (cp1): every Bootstrap call went to cp1, at most
 * one was answered OK (a lost reply is recorded with the error the caller saw), every daemon exits 0.
 */
async function expectOneCluster(harness: Harness, ds: DaemonProcess[], withinMs = 60_000): Promise<void> {
  const codes = await Promise.all(ds.map((d) => d.exitWithin(withinMs)));
  expect(codes).toEqual(ds.map(() => 0));
  expect(harness.sim.bootstrapCalls().every((b) => b.node === 'cp1')).toBe(true);
  expect(harness.sim.successfulBootstraps().length).toBeLessThanOrEqual(1);
  expect(harness.sim.etcdClusters()).toHaveLength(1);
  expect(harness.sim.etcdClusters()[0]?.members.map((m) => m.node).sort()).toEqual(['cp1', 'cp2', 'cp3']);
}

const msgs = (d: DaemonProcess, pred: (l: LogLine) => boolean = () => true) => d.lines.filter(pred).map((l) => l.msg);

describe('network timeout on one node', () => {
  test('cp3 answers after the scan timeout: not counted, named with the timeout; once it answers in time, one Bootstrap', async () => {
    const harness = await startCluster({ subnet: SUBNET, quorum: 3, nodes: threeControlPlanes(BOOTS) });
    h = harness;
    harness.sim.setFlags('cp3', { latencyMs: 3_000 });
    const peers = { TALOS_AUTO_BOOTSTRAP_PEERS: ['cp1', 'cp2', 'cp3'].map((n) => harness.ip(n)).join(',') };
    const ds = ['cp1', 'cp2'].map((n) => harness.daemon(n, peers));
    const waiting = await ds[0]!.waitFor((l) => l.event === 'decision' && /quorum 2\/3/.test(l.msg) && l.msg.includes(harness.ip('cp3')), 20_000, 'quorum 2/3 naming cp3');
    expect(waiting.msg).toMatch(/not counted: 127\.0\.133\.3 \(/);
    await Bun.sleep(2_000);
    expect(harness.sim.bootstrapCalls()).toHaveLength(0);
    harness.sim.setFlags('cp3', { latencyMs: 0 });
    ds.push(harness.daemon('cp3', peers));
    await expectOneCluster(harness, ds);
  }, 90_000);
});

describe('transient RPC errors', () => {
  test('every read fails UNAVAILABLE twice on every node: retried, still exactly one Bootstrap', async () => {
    const harness = await startCluster({ subnet: SUBNET, quorum: 3, nodes: threeControlPlanes(BOOTS) });
    h = harness;
    for (const n of ['cp1', 'cp2', 'cp3']) {
      for (const m of ['SystemStat', 'Hostname', 'ServiceList', 'EtcdMemberList', 'Get']) harness.sim.failMethod(n, m, status.UNAVAILABLE, 2, 'connection error: desc = "transport is closing"');
    }
    const peers = { TALOS_AUTO_BOOTSTRAP_PEERS: ['cp1', 'cp2', 'cp3'].map((n) => harness.ip(n)).join(',') };
    const ds = ['cp1', 'cp2', 'cp3'].map((n) => harness.daemon(n, peers));
    await expectOneCluster(harness, ds);
    // The failures were seen and named, not hidden.
    expect(ds.some((d) => msgs(d).some((m) => /UNAVAILABLE|stopped answering|transport is closing/.test(m)))).toBe(true);
  }, 90_000);

  test('Bootstrap runs but its reply is lost: the retry is refused by Talos, the leader sees etcd formed; one cluster', async () => {
    const { h: harness, ds } = await threeNodes();
    harness.sim.loseReply('cp1', 'Bootstrap', status.UNAVAILABLE, 1, 'connection error: desc = "transport is closing"');
    await expectOneCluster(harness, ds);
    // The first call did its work; Talos refuses every later one (etcd data directory is not empty).
    const calls = harness.sim.bootstrapCalls();
    expect(calls[0]?.codeName).toBe('UNAVAILABLE');
    for (const later of calls.slice(1)) expect(later.codeName).not.toBe('OK');
  }, 90_000);
});

describe('a slow network: 2 s per call', () => {
  test('every apid reply takes 2 s: the daemons bootstrap once, with a scan timeout above the latency', async () => {
    const env = { TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: '8s', TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '10s', TALOS_AUTO_BOOTSTRAP_FOLLOWER_CHECK_INTERVAL: '2s', TALOS_AUTO_BOOTSTRAP_MAX_BACKOFF: '4s' };
    const harness = await startCluster({ subnet: SUBNET, quorum: 3, nodes: threeControlPlanes(BOOTS).map((n) => ({ ...n, latencyMs: 2_000 })) });
    h = harness;
    const peers = { TALOS_AUTO_BOOTSTRAP_PEERS: ['cp1', 'cp2', 'cp3'].map((n) => harness.ip(n)).join(','), ...env };
    const ds = ['cp1', 'cp2', 'cp3'].map((n) => harness.daemon(n, peers));
    await expectOneCluster(harness, ds, 150_000);
  }, 180_000);
});

describe('partial bootstrap recovery', () => {
  test('the leader dies right after Bootstrap, before etcd runs; restarted, a second Bootstrap is refused by Talos and it joins; one cluster', async () => {
    const { h: harness, ds } = await threeNodes({}, { etcdStartDelayMs: 4_000 });
    const leader = ds[0]!;
    await new Promise<void>((resolve) => {
      const off = harness.sim.onEvent((e) => {
        if (e.kind === 'bootstrap' && e.record.codeName === 'OK') {
          leader.kill('SIGKILL');
          off();
          resolve();
        }
      });
    });
    await leader.exited;
    expect(harness.sim.etcdClusters().every((c) => c.members.length <= 1)).toBe(true);
    // Talos restarts the service (untilSuccess): the new daemon finds etcd forming and waits for it.
    const again = harness.daemon('cp1', { TALOS_AUTO_BOOTSTRAP_PEERS: ['cp1', 'cp2', 'cp3'].map((n) => harness.ip(n)).join(',') });
    await expectOneCluster(harness, [again, ds[1]!, ds[2]!]);
    // While etcd is still starting, nothing proves the cluster exists, so the restarted leader may ask
    // again; Talos answers ALREADY_EXISTS (etcd data directory is not empty) and the daemon re-checks.
    const calls = harness.sim.bootstrapCalls();
    expect(calls[0]?.codeName).toBe('OK');
    for (const later of calls.slice(1)) expect(later.codeName).toBe('ALREADY_EXISTS');
    if (calls.length > 1) expect(msgs(again).some((m) => m.includes('this node already holds etcd data'))).toBe(true);
  }, 90_000);
});

describe('node state inconsistency', () => {
  test('cp3 not time-synced, then flapping for 4 s: not counted while unsynced, named with the reason; one Bootstrap', async () => {
    const harness = await startCluster({ subnet: SUBNET, quorum: 3, nodes: threeControlPlanes(BOOTS) });
    h = harness;
    const peers = { TALOS_AUTO_BOOTSTRAP_PEERS: ['cp1', 'cp2', 'cp3'].map((n) => harness.ip(n)).join(','), TALOS_AUTO_BOOTSTRAP_PRE_BOOTSTRAP_DELAY: '2s' };
    harness.sim.setFlags('cp3', { timeSynced: false });
    const ds = ['cp1', 'cp2', 'cp3'].map((n) => harness.daemon(n, peers));
    const named = await ds[0]!.waitFor((l) => l.event === 'decision' && l.msg.includes(`${harness.ip('cp3')} (time not synced yet`), 20_000, 'cp3 named as not synced');
    expect(named.msg).toContain('quorum 2/3');
    expect(harness.sim.bootstrapCalls()).toHaveLength(0);
    let synced = false;
    const flap = setInterval(() => {
      synced = !synced;
      harness.sim.setFlags('cp3', { timeSynced: synced });
    }, 350);
    await Bun.sleep(4_000);
    clearInterval(flap);
    harness.sim.setFlags('cp3', { timeSynced: true });
    await expectOneCluster(harness, ds);
  }, 90_000);

  test('cp2 goes down and up every 700 ms: quorum is lost and found again; exactly one Bootstrap once it stays up', async () => {
    const { h: harness, ds } = await threeNodes({ TALOS_AUTO_BOOTSTRAP_PRE_BOOTSTRAP_DELAY: '2s' });
    for (const until = Date.now() + 6_000; Date.now() < until; ) {
      await Bun.sleep(700);
      harness.sim.down('cp2');
      await Bun.sleep(700);
      await harness.sim.up('cp2');
    }
    await expectOneCluster(harness, ds);
  }, 90_000);
});
