// The compiled daemon reading the OS CA over machined's socket (simulated: gRPC on a unix socket that
// refuses calls without talos-role os:admin) and bootstrapping with it.
import { afterEach, describe, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, type Harness } from './cluster-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function cluster(subnet: string): Promise<string> {
  h = await startCluster({ subnet, quorum: 1, nodes: [{ name: 'cp1', host: 1, type: 'controlplane' }], sim: { machinedSockets: true } });
  return h.sim.hostRoot('cp1') as string;
}

describe('CA from machined socket', () => {
  test('CA_SOURCE=socket: the STATE sources are not touched; the CA comes over the socket; the cluster bootstraps', async () => {
    await cluster('127.0.101');
    const d = h!.daemon('cp1', { TALOS_AUTO_BOOTSTRAP_CA_SOURCE: 'socket' });
    expect(await d.exitWithin(40_000)).toBe(0);
    expect(h!.sim.successfulBootstraps().map((b) => b.node)).toEqual(['cp1']);
    expect(d.events('ca-source-skipped')).toEqual([]);
    expect(d.events('ca-source-used')[0]?.source).toBe('machined-socket');
    const calls = h!.sim.machinedSocket('cp1').calls;
    expect(calls.length).toBeGreaterThanOrEqual(1);
    for (const c of calls) {
      expect(c.roles).toEqual(['os:admin']);
      expect(c.code).toBe(0);
    }
  }, 60_000);

  test('auto on a node with no readable STATE: each STATE source skipped with its reason, then the socket', async () => {
    const root = await cluster('127.0.106');
    rmSync(join(root, 'system/state/config.yaml'));
    const d = h!.daemon('cp1');
    expect(await d.exitWithin(40_000)).toBe(0);
    expect(d.events('ca-source-skipped').map((l) => [l.source, l.reason])).toEqual([
      ['state-file', `${join(root, 'system/state/config.yaml')} does not exist (STATE is not kept mounted on Talos v1.12+)`],
      ['state-partition', `no partition labelled STATE: ${join(root, 'dev/disk/by-partlabel/STATE')} does not exist`],
      ['luks-mapping', `no partition labelled STATE: ${join(root, 'dev/disk/by-partlabel/STATE')} does not exist`],
    ]);
    const used = d.events('ca-source-used')[0];
    expect(used?.source).toBe('machined-socket');
    expect(used?.msg).toContain('(after state-file, state-partition, luks-mapping)');
    expect(h!.sim.successfulBootstraps()).toHaveLength(1);
  }, 60_000);
});
