// The claim that matters: exactly one Bootstrap in the whole cluster, on the elected leader.
import { afterEach, describe, expect, test } from 'bun:test';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, threeControlPlanes, type Harness } from './cluster-harness.ts';

let h: Harness | undefined;

/**
 * Every path under dir with its size and modification time, except the agreement's state directory
 * (var/lib/autobootstrap and its parents), the one host path the daemon writes (the spec mounts it read-write).
 */
function treeOf(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((p) => p !== 'var' && p !== 'var/lib' && !p.startsWith('var/lib/autobootstrap'))
    .sort()
    .map((p) => {
      const st = statSync(join(dir, p));
      return `${p} ${st.size} ${st.mtimeMs}`;
    });
}
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function allExitZero(hh: Harness): Promise<void> {
  const codes = await Promise.all(hh.daemons.map((d) => d.exitWithin(45_000)));
  expect(codes).toEqual(hh.daemons.map(() => 0));
}

describe('three control planes started together', () => {
  test('one Bootstrap, on the oldest boot time; all exit 0; one cluster', async () => {
    h = await startCluster({ subnet: '127.0.71', quorum: 3, nodes: threeControlPlanes([1_700_000_300, 1_700_000_100, 1_700_000_200]) });
    const hostRoots = ['cp1', 'cp2', 'cp3'].map((n) => h!.sim.hostRoot(n) as string);
    const before = hostRoots.map(treeOf);
    for (const n of ['cp1', 'cp2', 'cp3']) h.daemon(n);
    await allExitZero(h);
    // Nothing was written where the daemons could: keys (and everything else) stayed in memory.
    expect(hostRoots.map(treeOf)).toEqual(before);
    expect(hostRoots.map((r) => readdirSync(join(r, 'var/lib/autobootstrap')).sort())).toEqual(hostRoots.map(() => ['acceptor.created', 'acceptor.json']));
    expect(h.sim.bootstrapCalls().map((b) => b.node)).toEqual(['cp2']);
    expect(h.sim.successfulBootstraps()).toHaveLength(1);
    expect(h.sim.etcdClusters()).toHaveLength(1);
    expect(h.sim.etcdClusters()[0]?.members.map((m) => m.node).sort()).toEqual(['cp1', 'cp2', 'cp3']);
    // The Bootstrap came from the leader's own daemon, with its admin certificate.
    expect(h.sim.bootstrapCalls()[0]?.callerCn).toBe(h.cn('cp2'));
    const leader = h.daemons[1]!;
    expect(leader.events('bootstrap-done')).toHaveLength(1);
    expect(leader.events('cluster-healthy')[0]?.msg).toContain('one etcd cluster with 3 member(s)');
    for (const follower of [h.daemons[0]!, h.daemons[2]!]) {
      expect(follower.events('bootstrap-call')).toHaveLength(0);
      expect(follower.lines.some((l) => l.msg.includes(`leader is ${h!.ip('cp2')}`))).toBe(true);
    }
    // No key material in any output: neither PEM armour nor the CA key's body.
    const ca = h.sim.identity().osCa;
    const keyBody = ca.keyPem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    const talosKeyB64 = Buffer.from(ca.talosKeyPem).toString('base64');
    for (const d of h.daemons) {
      const everything = JSON.stringify(d.lines) + d.stderr.join('\n');
      expect(everything).not.toContain('PRIVATE KEY');
      expect(everything).not.toContain(keyBody.slice(0, 40));
      expect(everything).not.toContain(talosKeyB64.slice(0, 40));
    }
  }, 60_000);

  test('equal boot times: the lowest address leads', async () => {
    h = await startCluster({ subnet: '127.0.72', quorum: 3, nodes: threeControlPlanes([1_700_000_500, 1_700_000_400, 1_700_000_400]) });
    // Start the higher address first so the order of starting cannot be what decides.
    for (const n of ['cp3', 'cp1', 'cp2']) h.daemon(n);
    await allExitZero(h);
    expect(h.sim.bootstrapCalls().map((b) => b.node)).toEqual(['cp2']);
    expect(h.sim.etcdClusters()).toHaveLength(1);
  }, 60_000);
});

describe('staggered start', () => {
  test('no Bootstrap before the third control plane is verified; then exactly one', async () => {
    const nodes = threeControlPlanes([1_700_000_100, 1_700_000_200, 1_700_000_300]);
    nodes[2]!.up = false;
    h = await startCluster({ subnet: '127.0.73', quorum: 3, nodes });
    h.daemon('cp1');
    h.daemon('cp2');
    await h.daemons[0]!.waitFor((l) => l.msg.startsWith('quorum 2/3'), 10_000, 'quorum 2/3 line');
    await Bun.sleep(5_000);
    expect(h.sim.bootstrapCalls()).toHaveLength(0);
    const upAt = new Date();
    await h.sim.up('cp3');
    h.daemon('cp3');
    await allExitZero(h);
    const calls = h.sim.bootstrapCalls();
    expect(calls.map((b) => b.node)).toEqual(['cp1']);
    expect(calls[0]!.at.getTime()).toBeGreaterThan(upAt.getTime());
    expect(h.sim.etcdClusters()).toHaveLength(1);
    expect(h.daemons[0]!.lines.some((l) => l.msg.startsWith('quorum 3/3 reached'))).toBe(true);
  }, 60_000);
});

describe('leader killed between election and Bootstrap', () => {
  test('restarted, it still forms exactly one cluster', async () => {
    h = await startCluster({ subnet: '127.0.74', quorum: 3, nodes: threeControlPlanes([1_700_000_100, 1_700_000_200, 1_700_000_300]) });
    const env = { TALOS_AUTO_BOOTSTRAP_PRE_BOOTSTRAP_DELAY: '3s' };
    const first = h.daemon('cp1', env);
    h.daemon('cp2', env);
    h.daemon('cp3', env);
    await first.waitFor((l) => l.event === 'settle', 20_000, 'settle (armed) line');
    first.kill('SIGKILL');
    await first.exited;
    await Bun.sleep(1_500);
    expect(h.sim.bootstrapCalls()).toHaveLength(0);
    const again = h.daemon('cp1', env);
    const codes = await Promise.all([again, h.daemons[1]!, h.daemons[2]!].map((d) => d.exitWithin(45_000)));
    expect(codes).toEqual([0, 0, 0]);
    expect(h.sim.bootstrapCalls().map((b) => b.node)).toEqual(['cp1']);
    expect(h.sim.etcdClusters()).toHaveLength(1);
  }, 90_000);
});
