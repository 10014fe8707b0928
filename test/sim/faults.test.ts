// Injected faults: per-method failures, nodes going down and up, latency, and partitions by caller CN.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { status } from '@grpc/grpc-js';
import { expectError, SimClient } from './client.ts';
import { TalosSimulator } from './simulator.ts';

const SUBNET = '127.0.65';
let sim: TalosSimulator;
const clients: SimClient[] = [];

beforeAll(async () => {
  sim = await TalosSimulator.start({
    nodes: [
      { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane' },
      { name: 'cp2', ip: `${SUBNET}.2`, type: 'controlplane' },
      { name: 'cp3', ip: `${SUBNET}.3`, type: 'controlplane' },
    ],
  });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await sim.stop();
});

function client(node: string, cn: string, roles = ['os:reader']): SimClient {
  const c = new SimClient(sim.node(node), { caPem: sim.osCaPem(), cert: sim.clientCertificate({ roles, cn }) });
  clients.push(c);
  return c;
}

describe('per-method failures', () => {
  test('fail Version with UNAVAILABLE twice, then answer normally; other methods unaffected', async () => {
    sim.failMethod('cp1', 'Version', status.UNAVAILABLE, 2, 'apid is restarting');
    const c = client('cp1', 'f1');
    const first = await expectError(c.call('Version'));
    expect(first.code).toBe(status.UNAVAILABLE);
    expect(first.details).toBe('apid is restarting');
    await c.call('Hostname');
    expect((await expectError(c.call('Version'))).code).toBe(status.UNAVAILABLE);
    await c.call('Version');
    await c.call('Version');
    expect(sim.callsFrom('f1').map((r) => [r.method.split('/').pop(), r.codeName])).toEqual([
      ['Version', 'UNAVAILABLE'],
      ['Hostname', 'OK'],
      ['Version', 'UNAVAILABLE'],
      ['Version', 'OK'],
      ['Version', 'OK'],
    ]);
  });

  test('an injected Bootstrap failure is recorded as a Bootstrap call and forms no cluster', async () => {
    sim.failMethod('cp2', '/machine.MachineService/Bootstrap', status.DEADLINE_EXCEEDED, 1);
    const c = client('cp2', 'f2', ['os:admin']);
    expect((await expectError(c.call('Bootstrap'))).code).toBe(status.DEADLINE_EXCEEDED);
    expect(sim.bootstrapCalls().filter((b) => b.callerCn === 'f2').map((b) => b.codeName)).toEqual(['DEADLINE_EXCEEDED']);
    expect(sim.etcdClusters()).toHaveLength(0);
  });

  test('COSI methods can fail too', async () => {
    sim.failMethod('cp3', 'Get', status.INTERNAL, 1);
    const c = client('cp3', 'f3');
    expect((await expectError(c.cosiGet('config', 'MachineTypes.config.talos.dev', 'machine-type'))).code).toBe(status.INTERNAL);
    await c.cosiGet('config', 'MachineTypes.config.talos.dev', 'machine-type');
  });
});

describe('node down and up', () => {
  test('a down node refuses connections (UNAVAILABLE) and serves again when up', async () => {
    const c = client('cp3', 'd1');
    await c.call('Hostname');
    sim.down('cp3');
    expect(sim.node('cp3').isUp).toBe(false);
    expect((await expectError(c.call('Hostname', {}, 1000))).code).toBe(status.UNAVAILABLE);
    const fresh = client('cp3', 'd2');
    expect((await expectError(fresh.call('Hostname', {}, 1000))).code).toBe(status.UNAVAILABLE);
    await sim.up('cp3');
    expect(await client('cp3', 'd3').call('Hostname')).toEqual({ messages: [{ metadata: null, hostname: 'cp3' }] });
  });
});

describe('latency', () => {
  test('every reply of a slow node takes at least its latency', async () => {
    sim.setFlags('cp2', { latencyMs: 150 });
    const c = client('cp2', 'l1');
    const started = Date.now();
    await c.call('Hostname');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    sim.setFlags('cp2', { latencyMs: 0 });
  });
});

describe('partitions by caller', () => {
  test('only the partitioned caller is refused, at connection level, and it is recorded', async () => {
    sim.partition(['cp-b'], ['cp1']);
    const b = client('cp1', 'cp-b');
    const a = client('cp1', 'cp-a');
    expect((await expectError(b.call('Hostname', {}, 1000))).code).toBe(status.UNAVAILABLE);
    expect(await a.call('Hostname')).toEqual({ messages: [{ metadata: null, hostname: 'cp1' }] });
    // cp-b still reaches the nodes it is not partitioned from.
    await client('cp2', 'cp-b').call('Hostname');
    expect(sim.tlsRefusals().some((r) => r.node === 'cp1' && r.cn === 'cp-b' && r.reason.startsWith('partitioned'))).toBe(true);
    expect(sim.callsFrom('cp-b').every((r) => r.node === 'cp2')).toBe(true);
    sim.heal(['cp-b']);
    expect(await client('cp1', 'cp-b').call('Hostname')).toEqual({ messages: [{ metadata: null, hostname: 'cp1' }] });
  });

  test('a partition fails the caller’s in-flight calls UNAVAILABLE', async () => {
    const c = client('cp1', 'cp-c');
    await c.call('Hostname'); // connection established
    sim.setFlags('cp1', { latencyMs: 400 });
    const inflight = c.call('Hostname', {}, 3000);
    await new Promise((r) => setTimeout(r, 100));
    sim.partition(['cp-c'], ['cp1']);
    expect((await expectError(inflight)).code).toBe(status.UNAVAILABLE);
    sim.setFlags('cp1', { latencyMs: 0 });
    sim.heal();
  });
});
