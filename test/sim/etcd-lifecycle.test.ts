// The etcd lifecycle as Talos runs it, seen through the daemon's own client: service states with their
// events, the data directory over MachineService List, a Bootstrap held in memory until etcd starts,
// reboots, the join timeout, several addresses per node.
import { afterEach, describe, expect, test } from 'bun:test';
import { status } from '@grpc/grpc-js';
import { mutualTlsCredentials } from '../../src/talos/channel.ts';
import { NodeClient, TalosCallError } from '../../src/talos/node-client.ts';
import { NODE_DEFAULT_ADDRESS, NODE_IDENTITY } from '../../src/talos/resources.ts';
import { TalosSimulator } from './simulator.ts';
import type { NodeSpec, SimulatorOptions } from './types.ts';

const SUBNET = '127.0.201';
let sim: TalosSimulator | undefined;
const clients: NodeClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await sim?.stop();
  sim = undefined;
});

async function start(nodes: NodeSpec[], options: Partial<SimulatorOptions> = {}): Promise<TalosSimulator> {
  sim = await TalosSimulator.start({ nodes, joinDelayMs: 100, etcdStartDelayMs: 150, ...options });
  return sim;
}

function client(s: TalosSimulator, address: string, roles = ['os:reader']): NodeClient {
  const cert = s.clientCertificate({ roles, cn: 'test' });
  const c = new NodeClient(address, 50000, mutualTlsCredentials(address, { caPem: s.osCaPem(), certPem: cert.certPem, keyPem: cert.keyPem }), 2_000);
  clients.push(c);
  return c;
}

const etcdOf = async (c: NodeClient) => (await c.services()).find((x) => x.id === 'etcd');
const dataDir = async (c: NodeClient) => (await c.listDirectory('/var/lib/etcd')).map((f) => f.relativeName);
const cp = (n: number, extra: Partial<NodeSpec> = {}): NodeSpec => ({ name: `cp${n}`, ip: `${SUBNET}.${n}`, type: 'controlplane', ...extra });

describe('etcd data directory over MachineService List (os:reader)', () => {
  test('before a bootstrap: the directory itself and nothing in it; etcd Preparing "Running pre state"', async () => {
    const s = await start([cp(1)]);
    const c = client(s, `${SUBNET}.1`);
    expect(await dataDir(c)).toEqual(['.']);
    expect(await etcdOf(c)).toMatchObject({ state: 'Preparing', lastEvent: 'Running pre state' });
  });
  test('a node holding etcd data shows it while its etcd is still Preparing (image pull)', async () => {
    const s = await start([cp(1), cp(2, { up: false })], { bootstrapped: 'cp1', etcdStartDelayMs: 400 });
    await s.up('cp2');
    const c = client(s, `${SUBNET}.2`);
    expect(await etcdOf(c)).toMatchObject({ state: 'Preparing' });
    expect(await dataDir(c)).toEqual(['.', 'member']);
  });
  test('a path that does not exist fails the call; a worker has no etcd directory', async () => {
    const s = await start([cp(1), { name: 'w1', ip: `${SUBNET}.9`, type: 'worker' }]);
    const err = await client(s, `${SUBNET}.9`).listDirectory('/var/lib/etcd').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TalosCallError);
  });
});

describe('Bootstrap lives in memory until etcd starts', () => {
  test('accepted: "Bootstrap requested" only while the call runs, then Preparing with an empty directory until the process starts, then Running with data', async () => {
    const s = await start([cp(1)], { etcdStartDelayMs: 1_500, bootstrapStopVisibleMs: 600 });
    const reader = client(s, `${SUBNET}.1`);
    let returned = false;
    const call = client(s, `${SUBNET}.1`, ['os:admin'])
      .bootstrap()
      .then(() => {
        returned = true;
      });
    await s.waitUntil(() => s.node('cp1').etcd.bootstrapAcceptedAt !== null, 2000, 'Bootstrap accepted');
    // BootstrapEtcd (services/etcd.go:806-816): the stopped etcd, before the call replaces it and returns.
    expect(await etcdOf(reader)).toMatchObject({ state: 'Finished', lastEvent: 'Bootstrap requested' });
    expect(returned).toBe(false);
    await call;
    // The replacement runner's own history (service_runner.go:55-66): no "Bootstrap requested" once it returned.
    expect(await etcdOf(reader)).toMatchObject({ state: 'Preparing', lastEvent: 'Running pre state' });
    expect(await dataDir(reader)).toEqual(['.']);
    await s.waitUntil(() => s.node('cp1').etcd.running, 2000, 'etcd running');
    expect(await etcdOf(reader)).toMatchObject({ state: 'Running' });
    expect(await dataDir(reader)).toEqual(['.', 'member']);
  });
  test('a reboot before etcd starts loses it: new boot time, empty directory, no cluster', async () => {
    const s = await start([cp(1)], { etcdStartDelayMs: 5_000 });
    const before = s.node('cp1').bootTime;
    await client(s, `${SUBNET}.1`, ['os:admin']).bootstrap();
    expect(s.etcdClusters()).toHaveLength(1);
    await s.reboot('cp1', 50);
    expect(s.node('cp1').bootTime).toBeGreaterThan(before);
    expect(s.etcdClusters()).toHaveLength(0);
    expect(s.timeline().some((e) => e.kind === 'node-rebooted' && e.lostBootstrap)).toBe(true);
    const c = client(s, `${SUBNET}.1`);
    expect(await dataDir(c)).toEqual(['.']);
    expect(BigInt(await c.bootTime())).toBe(BigInt(s.node('cp1').bootTime));
  });
  test('a reboot after etcd started keeps its data: etcd comes back from it', async () => {
    const s = await start([cp(1)], { etcdStartDelayMs: 50 });
    await client(s, `${SUBNET}.1`, ['os:admin']).bootstrap();
    await s.waitUntil(() => s.node('cp1').etcd.running, 2000, 'etcd running');
    await s.reboot('cp1', 50);
    expect(s.etcdClusters()).toHaveLength(1);
    await s.waitUntil(() => s.node('cp1').etcd.running, 2000, 'etcd running again');
  });
});

describe('the join loop gives up (EtcdJoinTimeout, scaled)', () => {
  test('Failed with the pre-stage error, the directory still empty; no later join until a reboot', async () => {
    const s = await start([cp(1), cp(2)], { joinTimeoutMs: 200 });
    const c = client(s, `${SUBNET}.2`);
    await Bun.sleep(250);
    const etcd = await etcdOf(c);
    expect(etcd?.state).toBe('Failed');
    expect(etcd?.lastEvent).toContain('Failed to run pre stage');
    expect(await dataDir(c)).toEqual(['.']);
    // A Bootstrap elsewhere: the Failed node does not join until it reboots.
    await client(s, `${SUBNET}.1`, ['os:admin']).bootstrap().catch(() => undefined);
    await Bun.sleep(500);
    expect(s.node('cp2').etcd.running).toBe(false);
    await s.reboot('cp2', 20);
    await s.waitUntil(() => s.node('cp2').etcd.running, 3000, 'cp2 joins after its reboot');
  });
});

describe('several addresses per node', () => {
  test('every address in the certificate and Members; a closed one refuses; NodeAddresses/default and the identity', async () => {
    const s = await start([cp(1, { addresses: [{ ip: `${SUBNET}.101` }, { ip: `${SUBNET}.201`, listening: false }], defaultAddress: `${SUBNET}.201` })]);
    const open = client(s, `${SUBNET}.101`);
    expect(await open.hostname()).toBe('cp1');
    const closed = await client(s, `${SUBNET}.201`).hostname().catch((e: unknown) => e as TalosCallError);
    expect((closed as TalosCallError).code).toBe(status.UNAVAILABLE);
    const id = await open.getResource(NODE_IDENTITY);
    expect((id?.spec as { nodeId: string }).nodeId).toBe(s.node('cp1').nodeId);
    const def = await open.getResource(NODE_DEFAULT_ADDRESS);
    expect((def?.spec as { addresses: string[] }).addresses).toEqual([`${SUBNET}.201/24`]);
  });
});

describe('BootTimeout (70 min, scaled)', () => {
  test('a control plane whose etcd never ran reboots: new boot time, the join loop starts over', async () => {
    const s = await start([cp(1, { bootTime: 1_700_000_000 })], { joinTimeoutMs: 100, bootTimeoutMs: 300 });
    await s.waitUntil(() => s.timeline().some((e) => e.kind === 'node-rebooted'), 2000, 'the boot-timeout reboot');
    expect(s.node('cp1').bootTime).toBeGreaterThan(1_700_000_000);
    await s.waitUntil(() => s.node('cp1').isUp, 2000, 'back up');
    const etcd = await etcdOf(client(s, `${SUBNET}.1`));
    expect(etcd?.state).toBe('Preparing');
  });
  test('an accepted Bootstrap releases the boot wait: no reboot', async () => {
    const s = await start([cp(1)], { bootTimeoutMs: 300, etcdStartDelayMs: 1_000 });
    await client(s, `${SUBNET}.1`, ['os:admin']).bootstrap();
    await Bun.sleep(500);
    expect(s.timeline().some((e) => e.kind === 'node-rebooted')).toBe(false);
  });
});
