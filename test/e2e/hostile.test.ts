// Things going wrong around the daemons: a foreign node, a Bootstrap that is not ready, bad configuration.
import { afterEach, describe, expect, test } from 'bun:test';
import { status } from '@grpc/grpc-js';
import { startCluster, threeControlPlanes, type Harness } from './cluster-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("a node with another cluster's CA inside SCAN_CIDR", () => {
  test('never counted, logged once per daemon; exactly one Bootstrap among the real peers', async () => {
    h = await startCluster({
      subnet: '127.0.79',
      quorum: 3,
      nodes: [
        ...threeControlPlanes([1_700_000_200, 1_700_000_300, 1_700_000_400]),
        // Oldest boot time of all: if it were counted it would be elected.
        { name: 'intruder', host: 9, type: 'controlplane', bootTime: 1_600_000_000, cluster: 'other' },
      ],
    });
    for (const n of ['cp1', 'cp2', 'cp3']) h.daemon(n);
    const codes = await Promise.all(h.daemons.map((d) => d.exitWithin(45_000)));
    expect(codes).toEqual([0, 0, 0]);
    expect(h.sim.bootstrapCalls().map((b) => b.node)).toEqual(['cp1']);
    expect(h.sim.etcdClusters()).toHaveLength(1);
    const intruder = h.ip('intruder');
    for (const d of h.daemons) {
      const ignored = d.events('peer-ignored');
      expect(ignored.map((l) => l.peer)).toEqual([intruder]);
      expect(String(ignored[0]?.reason)).toContain("does not chain to this cluster's OS CA");
      expect(d.lines.some((l) => l.event === 'decision' && l.msg.includes(intruder))).toBe(false);
      // It took more than one round, so "once" was tested.
      expect(d.events('decision').length).toBeGreaterThan(1);
    }
    expect(h.sim.calls().filter((c) => c.node === 'intruder')).toHaveLength(0);
  }, 60_000);
});

describe('Bootstrap answers FailedPrecondition twice', () => {
  test('retried with backoff, then succeeds; exactly one cluster', async () => {
    h = await startCluster({ subnet: '127.0.80', quorum: 3, nodes: threeControlPlanes([1_700_000_100, 1_700_000_200, 1_700_000_300]) });
    h.sim.failMethod('cp1', 'Bootstrap', status.FAILED_PRECONDITION, 2, 'bootstrap is not available yet');
    for (const n of ['cp1', 'cp2', 'cp3']) h.daemon(n);
    const codes = await Promise.all(h.daemons.map((d) => d.exitWithin(45_000)));
    expect(codes).toEqual([0, 0, 0]);
    const calls = h.sim.bootstrapCalls();
    expect(calls.map((c) => [c.node, c.codeName])).toEqual([
      ['cp1', 'FAILED_PRECONDITION'],
      ['cp1', 'FAILED_PRECONDITION'],
      ['cp1', 'OK'],
    ]);
    expect(h.sim.etcdClusters()).toHaveLength(1);
    const errors = h.daemons[0]!.events('bootstrap-error');
    expect(errors.map((e) => e.outcome)).toEqual(['retry', 'retry']);
    // Jittered exponential: attempt 0 in [0.5s, 1s], attempt 1 in [1s, 2s] (MAX_BACKOFF=2s).
    const [d0, d1] = errors.map((e) => Number(e.retryInMs));
    expect(d0).toBeGreaterThanOrEqual(500);
    expect(d0).toBeLessThanOrEqual(1_000);
    expect(d1).toBeGreaterThanOrEqual(1_000);
    expect(d1).toBeLessThanOrEqual(2_000);
    // The calls really were spaced by the backoff, not fired back to back.
    expect(calls[1]!.at.getTime() - calls[0]!.at.getTime()).toBeGreaterThanOrEqual(d0!);
  }, 60_000);
});

describe('invalid environment', () => {
  test('several bad variables: exit 2, every one named, nothing called', async () => {
    h = await startCluster({ subnet: '127.0.81', quorum: 3, nodes: threeControlPlanes([1, 2, 3]) });
    const d = h.daemon('cp1', {
      TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: 'three',
      TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '30',
      TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: '10.0.0.0/33',
      TALOS_AUTO_BOOTSTRAP_CA_SOURCE: 'floppy',
    });
    expect(await d.exitWithin(5_000)).toBe(2);
    const named = d.events('config-invalid').map((l) => l.variable).sort();
    expect(named).toEqual([
      'TALOS_AUTO_BOOTSTRAP_CA_SOURCE',
      'TALOS_AUTO_BOOTSTRAP_QUORUM_NODES',
      'TALOS_AUTO_BOOTSTRAP_SCAN_CIDR',
      'TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL',
    ]);
    for (const l of d.events('config-invalid')) expect(l.level).toBe('error');
    expect(h.sim.calls()).toHaveLength(0);
    expect(h.sim.tlsRefusals()).toHaveLength(0);
  }, 20_000);

  test('the failing exit is paused so a restart cannot loop; SIGTERM ends the pause', async () => {
    h = await startCluster({ subnet: '127.0.84', quorum: 3, nodes: threeControlPlanes([1, 2, 3]) });
    const d = h.daemon('cp1', { TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '0', TALOS_AUTO_BOOTSTRAP_FAILURE_PAUSE: '5m' });
    const pause = await d.waitFor((l) => l.event === 'pause-before-exit', 5_000, 'pause line');
    expect(pause.msg).toContain('exiting with code 2 in 5m');
    await Bun.sleep(1_000);
    expect(d.events('exit')).toHaveLength(0);
    d.kill('SIGTERM');
    expect(await d.exitWithin(3_000)).toBe(2);
  }, 20_000);

  test('--version prints the version; an unknown command exits 2', async () => {
    const v = Bun.spawnSync([`${import.meta.dir}/../../dist/autobootstrap`, '--version']);
    expect(v.exitCode).toBe(0);
    // The same form as the extension manifest (scripts/extension/version.ts), e.g. v0.1.0-g51a6de6.
    expect(v.stdout.toString()).toMatch(/^autobootstrap v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?\n$/);
    const u = Bun.spawnSync([`${import.meta.dir}/../../dist/autobootstrap`, 'frobnicate']);
    expect(u.exitCode).toBe(2);
    expect(u.stderr.toString()).toContain('unknown command');
  });
});
