// Before bootstrap every control plane waits (stage booting, etcd Preparing, no local member); after a
// bootstrap the others join after joinDelayMs and every control plane reports the same member list.
import { afterEach, describe, expect, test } from 'bun:test';
import { status } from '@grpc/grpc-js';
import { parse } from 'yaml';
import { expectError, SimClient, yamlSpecOf } from './client.ts';
import { TalosSimulator } from './simulator.ts';
import type { SimulatorOptions } from './types.ts';

const SUBNET = '127.0.64';
const JOIN_MS = 300;
let sim: TalosSimulator | undefined;
const clients: SimClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await sim?.stop();
  sim = undefined;
});

const NODES: SimulatorOptions['nodes'] = [
  { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane' },
  { name: 'cp2', ip: `${SUBNET}.2`, type: 'controlplane' },
  { name: 'cp3', ip: `${SUBNET}.3`, type: 'controlplane' },
  { name: 'w1', ip: `${SUBNET}.4`, type: 'worker' },
];

async function start(options: Partial<SimulatorOptions> = {}): Promise<TalosSimulator> {
  sim = await TalosSimulator.start({ nodes: NODES, joinDelayMs: JOIN_MS, etcdStartDelayMs: 50, ...options });
  return sim;
}

function reader(s: TalosSimulator, node: string): SimClient {
  const c = new SimClient(s.node(node), { caPem: s.osCaPem(), cert: s.clientCertificate({ roles: ['os:reader'], cn: 'observer' }) });
  clients.push(c);
  return c;
}

type Members = { messages: { members: { id: string; hostname: string; peer_urls: string[] }[] }[] };

async function memberIds(s: TalosSimulator, node: string, queryLocal = false): Promise<string[]> {
  const reply = (await reader(s, node).call('EtcdMemberList', { query_local: queryLocal }, 1000)) as Members;
  return (reply.messages[0]?.members ?? []).map((m) => m.id).sort();
}

describe('before bootstrap', () => {
  test('control planes boot, etcd is Preparing, no Services/etcd and no EtcdMembers/local', async () => {
    const s = await start();
    const c = reader(s, 'cp2');
    const stage = parse(yamlSpecOf(await c.cosiGet('runtime', 'MachineStatuses.runtime.talos.dev', 'machine')));
    expect(stage.stage).toBe('booting');
    expect(stage.status.ready).toBe(false);
    const services = (await c.call('ServiceList')) as { messages: { services: { id: string; state: string; health: { healthy: boolean } }[] }[] };
    const etcd = services.messages[0]?.services.find((x) => x.id === 'etcd');
    expect(etcd?.state).toBe('Preparing');
    expect((await expectError(c.cosiGet('runtime', 'Services.v1alpha1.talos.dev', 'etcd'))).code).toBe(status.NOT_FOUND);
    // apid runs, so its Services resource exists.
    expect(parse(yamlSpecOf(await c.cosiGet('runtime', 'Services.v1alpha1.talos.dev', 'apid')))).toEqual({ running: true, healthy: true, unknown: false });
    const missing = await expectError(c.cosiGet('etcd', 'EtcdMembers.etcd.talos.dev', 'local'));
    expect(missing.code).toBe(status.NOT_FOUND);
    expect(missing.details).toBe("resource EtcdMembers.etcd.talos.dev(etcd/local@undefined) doesn't exist");
    // Workers never have an etcd service.
    const wServices = (await reader(s, 'w1').call('ServiceList')) as { messages: { services: { id: string }[] }[] };
    expect(wServices.messages[0]?.services.some((x) => x.id === 'etcd')).toBe(false);
  });

  test('without discovery, EtcdMemberList(query_local=false) fails UNKNOWN "no controlplane endpoints discovered yet"', async () => {
    const s = await start({ clusters: { default: { discovery: false } } });
    for (const node of ['cp1', 'cp2', 'cp3']) {
      const err = await expectError(reader(s, node).call('EtcdMemberList', { query_local: false }));
      expect(err.code).toBe(status.UNKNOWN);
      expect(err.details).toBe('no controlplane endpoints discovered yet');
    }
    expect((await reader(s, 'cp1').cosiList('cluster', 'Members.cluster.talos.dev')).length).toBe(0);

    // Once etcd (and with it kube-apiserver) runs somewhere, its endpoints are known: the query succeeds
    // from every control plane, joined or not.
    const admin = new SimClient(s.node('cp3'), { caPem: s.osCaPem(), cert: s.clientCertificate({ roles: ['os:admin'], cn: 'cp3' }) });
    clients.push(admin);
    await admin.call('Bootstrap');
    await s.waitUntil(() => s.node('cp3').etcd.running, 1000, 'cp3 etcd');
    const founder = s.node('cp3').etcd.memberId;
    for (const node of ['cp1', 'cp2', 'cp3']) expect(await memberIds(s, node)).toEqual([founder ?? 'missing']);
  });

  test('with discovery (Talos default) the etcd queries wait for an etcd that never answers: only the deadline ends them', async () => {
    const s = await start();
    const c = reader(s, 'cp1');
    for (const request of [{ query_local: false }, { query_local: true }]) {
      const started = Date.now();
      const err = await expectError(c.call('EtcdMemberList', request, 250));
      expect(err.code).toBe(status.DEADLINE_EXCEEDED);
      expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    }
    expect((await expectError(c.call('EtcdStatus', {}, 250))).code).toBe(status.DEADLINE_EXCEEDED);
    await s.waitUntil(() => s.calls().filter((r) => r.code === status.DEADLINE_EXCEEDED).length === 3, 1000, 'abandoned calls recorded');
  });

  test('on a worker the etcd methods are Unimplemented', async () => {
    const s = await start();
    const err = await expectError(reader(s, 'w1').call('EtcdMemberList', { query_local: false }));
    expect(err.code).toBe(status.UNIMPLEMENTED);
    expect(err.details).toBe('member list is only available on control plane nodes');
    expect((await expectError(reader(s, 'w1').call('EtcdStatus'))).details).toBe('etcd status is only available on control plane nodes');
  });
});

describe('after bootstrap', () => {
  test('the others join after joinDelayMs and every control plane lists the same members', async () => {
    const s = await start();
    const admin = new SimClient(s.node('cp1'), { caPem: s.osCaPem(), cert: s.clientCertificate({ roles: ['os:admin'], cn: 'cp1' }) });
    clients.push(admin);
    const bootstrappedAt = Date.now();
    await admin.call('Bootstrap');
    await s.waitUntil(() => s.node('cp1').etcd.running, 1000, 'cp1 etcd');

    // cp2 has not joined yet, but its member-list query reaches cp1's etcd: the cluster it would join.
    expect(s.node('cp2').etcd.running).toBe(false);
    expect(await memberIds(s, 'cp2')).toEqual(await memberIds(s, 'cp1', true));
    expect((await expectError(reader(s, 'cp2').cosiGet('etcd', 'EtcdMembers.etcd.talos.dev', 'local'))).code).toBe(status.NOT_FOUND);

    await s.waitUntil(() => ['cp2', 'cp3'].every((n) => s.node(n).etcd.running), 3000, 'joins');
    expect(Date.now() - bootstrappedAt).toBeGreaterThanOrEqual(JOIN_MS);

    const cluster = s.etcdClusters();
    expect(cluster).toHaveLength(1);
    const expected = (cluster[0]?.members ?? []).map((m) => m.id).sort();
    expect(expected).toHaveLength(3);
    for (const node of ['cp1', 'cp2', 'cp3']) {
      expect(await memberIds(s, node)).toEqual(expected);
      expect(await memberIds(s, node, true)).toEqual(expected);
      const c = reader(s, node);
      const local = parse(yamlSpecOf(await c.cosiGet('etcd', 'EtcdMembers.etcd.talos.dev', 'local')));
      expect(BigInt(`0x${local.memberID}`).toString()).toBe(s.node(node).etcd.memberId ?? '');
      expect(String(local.memberID)).toMatch(/^[0-9a-f]{16}$/);
      expect(parse(yamlSpecOf(await c.cosiGet('runtime', 'Services.v1alpha1.talos.dev', 'etcd')))).toEqual({ running: true, healthy: true, unknown: false });
      expect(parse(yamlSpecOf(await c.cosiGet('runtime', 'MachineStatuses.runtime.talos.dev', 'machine'))).stage).toBe('running');
      const st = (await c.call('EtcdStatus')) as { messages: { member_status: { member_id: string; leader: string } }[] };
      expect(st.messages[0]?.member_status.member_id).toBe(s.node(node).etcd.memberId ?? 'missing');
      expect(st.messages[0]?.member_status.leader).toBe(s.node('cp1').etcd.memberId ?? 'missing');
    }
    expect(s.successfulBootstraps()).toHaveLength(1);
  });

  test('a control plane that is down when the cluster forms joins joinDelayMs after it comes back', async () => {
    const s = await start({ nodes: NODES.map((n) => (n.name === 'cp3' ? { ...n, up: false } : n)) });
    expect((await expectError(reader(s, 'cp3').call('Version', {}, 500))).code).toBe(status.UNAVAILABLE);
    const admin = new SimClient(s.node('cp1'), { caPem: s.osCaPem(), cert: s.clientCertificate({ roles: ['os:admin'], cn: 'x' }) });
    clients.push(admin);
    await admin.call('Bootstrap');
    await s.waitUntil(() => s.node('cp2').etcd.running, 2000, 'cp2 to join');
    await new Promise((r) => setTimeout(r, JOIN_MS));
    expect(s.node('cp3').etcd.clusterId).toBeNull();
    await s.up('cp3');
    const upAt = Date.now();
    await s.waitUntil(() => s.node('cp3').etcd.running, 3000, 'cp3 to join');
    expect(Date.now() - upAt).toBeGreaterThanOrEqual(JOIN_MS - 50);
    expect(s.etcdClusters()[0]?.members.map((m) => m.node)).toEqual(['cp1', 'cp2', 'cp3']);
  });

  test('"bootstrapped" start: the cluster exists with every control plane joined, and no Bootstrap was called', async () => {
    const s = await start({ bootstrapped: 'cp2' });
    const clusters = s.etcdClusters();
    expect(clusters).toHaveLength(1);
    expect(clusters[0]?.origin).toBe('preset');
    expect(clusters[0]?.founder).toBe('cp2');
    const ids = (clusters[0]?.members ?? []).map((m) => m.id).sort();
    expect(await memberIds(s, 'cp1')).toEqual(ids);
    expect(await memberIds(s, 'cp3', true)).toEqual(ids);
    expect(s.bootstrapCalls()).toHaveLength(0);
    const late = new SimClient(s.node('cp1'), { caPem: s.osCaPem(), cert: s.clientCertificate({ roles: ['os:admin'], cn: 'late' }) });
    clients.push(late);
    const err = await expectError(late.call('Bootstrap'));
    expect(err.code).toBe(status.ALREADY_EXISTS);
  });
});
