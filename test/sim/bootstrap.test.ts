// Bootstrap's preconditions in Talos's order and codes, and the split brain Talos allows: the only guard
// is the node's own etcd data directory.
import { afterEach, describe, expect, test } from 'bun:test';
import { status } from '@grpc/grpc-js';
import { expectError, SimClient } from './client.ts';
import { TalosSimulator } from './simulator.ts';
import type { NodeSpec } from './types.ts';

const SUBNET = '127.0.63';
let sim: TalosSimulator | undefined;
const clients: SimClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await sim?.stop();
  sim = undefined;
});

async function start(nodes: NodeSpec[], extra: { timeSyncWaitMs?: number; joinDelayMs?: number } = {}): Promise<TalosSimulator> {
  sim = await TalosSimulator.start({ nodes, timeSyncWaitMs: extra.timeSyncWaitMs ?? 150, joinDelayMs: extra.joinDelayMs ?? 400, etcdStartDelayMs: 50 });
  return sim;
}

function admin(s: TalosSimulator, node: string, cn = 'operator'): SimClient {
  const c = new SimClient(s.node(node), { caPem: s.osCaPem(), cert: s.clientCertificate({ roles: ['os:admin'], cn }) });
  clients.push(c);
  return c;
}

async function bootstrapError(s: TalosSimulator, node: string): Promise<[string, string]> {
  const err = await expectError(admin(s, node).call('Bootstrap'));
  return [status[err.code] ?? String(err.code), err.details];
}

describe('precondition order', () => {
  test('each failing precondition masks the ones after it, in Talos order', async () => {
    const s = await start([
      // Everything wrong: the first check (CRI) answers.
      { name: 'cp-all-bad', ip: `${SUBNET}.1`, type: 'controlplane', criReady: false, etcdConfigured: false, timeSynced: false },
      // A pending reboot is the same first check.
      { name: 'cp-reboot', ip: `${SUBNET}.2`, type: 'controlplane', pendingReboot: true, timeSynced: false },
      // A worker with CRI down: precondition 1 comes before "not a control plane".
      { name: 'w-cri', ip: `${SUBNET}.3`, type: 'worker', criReady: false },
      { name: 'w', ip: `${SUBNET}.4`, type: 'worker' },
      { name: 'w-legacy', ip: `${SUBNET}.5`, type: 'worker', legacyNonControlPlaneError: true },
      // No etcd CA and no time sync: InvalidArgument comes first.
      { name: 'cp-noetcd', ip: `${SUBNET}.6`, type: 'controlplane', etcdConfigured: false, timeSynced: false },
      { name: 'cp-notime', ip: `${SUBNET}.7`, type: 'controlplane', timeSynced: false },
    ]);
    expect(await bootstrapError(s, 'cp-all-bad')).toEqual(['FAILED_PRECONDITION', 'bootstrap is not available yet']);
    expect(await bootstrapError(s, 'cp-reboot')).toEqual(['FAILED_PRECONDITION', 'bootstrap is not available yet']);
    expect(await bootstrapError(s, 'w-cri')).toEqual(['FAILED_PRECONDITION', 'bootstrap is not available yet']);
    expect(await bootstrapError(s, 'w')).toEqual(['UNIMPLEMENTED', 'bootstrap is only available on control plane nodes']);
    expect(await bootstrapError(s, 'w-legacy')).toEqual(['FAILED_PRECONDITION', 'bootstrap can only be performed on a control plane node']);
    expect(await bootstrapError(s, 'cp-noetcd')).toEqual(['INVALID_ARGUMENT', 'etcd is not configured, bootstrap is not possible']);
    const before = Date.now();
    expect(await bootstrapError(s, 'cp-notime')).toEqual(['FAILED_PRECONDITION', 'time is not in sync yet']);
    // machined waits for the time-sync condition before giving up.
    expect(Date.now() - before).toBeGreaterThanOrEqual(140);
    expect(s.successfulBootstraps()).toHaveLength(0);
    expect(s.etcdClusters()).toHaveLength(0);
    expect(s.bootstrapCalls().map((b) => b.node)).toEqual(['cp-all-bad', 'cp-reboot', 'w-cri', 'w', 'w-legacy', 'cp-noetcd', 'cp-notime']);
  });

  test('time becoming synced during the wait lets Bootstrap proceed', async () => {
    const s = await start([{ name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane', timeSynced: false }], { timeSyncWaitMs: 2000 });
    setTimeout(() => s.setFlags('cp1', { timeSynced: true }), 100);
    await admin(s, 'cp1').call('Bootstrap');
    expect(s.successfulBootstraps()).toHaveLength(1);
  });

  test('time sync is checked before the data directory', async () => {
    const s = await start([{ name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane' }]);
    await admin(s, 'cp1').call('Bootstrap');
    s.setFlags('cp1', { timeSynced: false });
    expect(await bootstrapError(s, 'cp1')).toEqual(['FAILED_PRECONDITION', 'time is not in sync yet']);
    s.setFlags('cp1', { timeSynced: true });
    expect(await bootstrapError(s, 'cp1')).toEqual(['ALREADY_EXISTS', 'etcd data directory is not empty']);
  });
});

describe('etcd data directory as the only guard', () => {
  test('a second Bootstrap on the same node, once etcd wrote its data, is AlreadyExists; the one cluster stays', async () => {
    const s = await start([{ name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane' }]);
    expect(await admin(s, 'cp1', 'first').call('Bootstrap')).toEqual({ messages: [{ metadata: null }] });
    await s.waitUntil(() => s.node('cp1').etcd.running, 2000, 'etcd to start and write its data directory');
    expect(await bootstrapError(s, 'cp1')).toEqual(['ALREADY_EXISTS', 'etcd data directory is not empty']);
    expect(s.successfulBootstraps().map((b) => b.callerCn)).toEqual(['first']);
    expect(s.etcdClusters()).toHaveLength(1);
    expect(s.etcdClusters()[0]?.origin).toBe('bootstrap');
  });

  test('Bootstrap on a second control plane that has not joined yet succeeds: split brain, recorded', async () => {
    const s = await start(
      [
        { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane' },
        { name: 'cp2', ip: `${SUBNET}.2`, type: 'controlplane' },
        { name: 'cp3', ip: `${SUBNET}.3`, type: 'controlplane' },
      ],
      { joinDelayMs: 2000 },
    );
    await admin(s, 'cp1', 'daemon-cp1').call('Bootstrap');
    await admin(s, 'cp2', 'daemon-cp2').call('Bootstrap');
    expect(s.successfulBootstraps().map((b) => b.node)).toEqual(['cp1', 'cp2']);
    const clusters = s.etcdClusters();
    expect(clusters).toHaveLength(2);
    expect(clusters.map((c) => c.founder)).toEqual(['cp1', 'cp2']);
    expect(new Set(clusters.map((c) => c.id)).size).toBe(2);
    expect(clusters.every((c) => c.members.length === 1)).toBe(true);
    // Each node's own etcd answers with its own cluster.
    await s.waitUntil(() => s.node('cp1').etcd.running && s.node('cp2').etcd.running, 2000, 'both etcds');
    const local = async (node: string) =>
      ((await admin(s, node).call('EtcdMemberList', { query_local: true })) as { messages: { members: { id: string }[] }[] }).messages[0]?.members.map(
        (m) => m.id,
      );
    expect(await local('cp1')).toEqual([clusters[0]?.members[0]?.id ?? 'missing']);
    expect(await local('cp2')).toEqual([clusters[1]?.members[0]?.id ?? 'missing']);
  });

  test('a control plane that already joined refuses Bootstrap', async () => {
    const s = await start(
      [
        { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane' },
        { name: 'cp2', ip: `${SUBNET}.2`, type: 'controlplane' },
      ],
      { joinDelayMs: 100 },
    );
    await admin(s, 'cp1').call('Bootstrap');
    await s.waitUntil(() => s.node('cp2').etcd.running, 2000, 'cp2 to join');
    expect(await bootstrapError(s, 'cp2')).toEqual(['ALREADY_EXISTS', 'etcd data directory is not empty']);
    expect(s.etcdClusters()).toHaveLength(1);
  });
});
