// A node booted without a machine config: apid asks for no client certificate, everyone is os:reader,
// the server certificate chains to a per-boot CA; ApplyConfiguration moves the node out of maintenance.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { parse } from 'yaml';
import { expectError, SimClient, yamlSpecOf } from './client.ts';
import { TalosSimulator } from './simulator.ts';

const SUBNET = '127.0.68';
let sim: TalosSimulator;
let dir: string;
const clients: SimClient[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'talos-sim-maint-'));
  sim = await TalosSimulator.start({
    hostRootDir: dir,
    applyRebootMs: 100,
    nodes: [{ name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane', maintenance: true }],
  });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

function insecure(): SimClient {
  const c = new SimClient(sim.node('cp1'), { caPem: '' });
  clients.push(c);
  return c;
}

function verified(): SimClient {
  const c = new SimClient(sim.node('cp1'), { caPem: sim.osCaPem(), cert: sim.clientCertificate({ roles: ['os:admin'], cn: 'op' }) });
  clients.push(c);
  return c;
}

describe('maintenance mode', () => {
  test('serves insecure clients as os:reader: stage maintenance, type unknown, no features, no Bootstrap', async () => {
    const c = insecure();
    const version = (await c.call('Version')) as { messages: { features: unknown }[] };
    expect(version.messages[0]?.features).toBeNull();
    expect(parse(yamlSpecOf(await c.cosiGet('runtime', 'MachineStatuses.runtime.talos.dev', 'machine'))).stage).toBe('maintenance');
    expect(yamlSpecOf(await c.cosiGet('config', 'MachineTypes.config.talos.dev', 'machine-type'))).toBe('unknown\n');
    const boot = await expectError(c.call('Bootstrap'));
    expect(boot.code).toBe(status.PERMISSION_DENIED);
    expect((await expectError(c.cosiGet('config', 'MachineConfigs.config.talos.dev', 'v1alpha1'))).code).toBe(status.PERMISSION_DENIED);
    expect((await expectError(c.call('EtcdMemberList', { query_local: false }))).code).toBe(status.UNIMPLEMENTED);
    expect(sim.calls().every((r) => r.roles.join() === 'os:reader')).toBe(true);
    expect(existsSync(join(dir, 'cp1/system/state/config.yaml'))).toBe(false);
    expect(existsSync(join(dir, 'cp1/system/secrets/etcd'))).toBe(false);
  });

  test('its certificate does not chain to the cluster OS CA', async () => {
    expect((await expectError(verified().call('Version'))).code).toBe(status.UNAVAILABLE);
  });

  test('ApplyConfiguration ends maintenance: the node comes back with mutual TLS and its config', async () => {
    const reply = (await insecure().call('ApplyConfiguration', { data: Buffer.from(sim.node('cp1').machineConfig), mode: 'AUTO' })) as {
      messages: { mode: string; mode_details: string }[];
    };
    expect(reply.messages[0]).toMatchObject({ mode: 'NO_REBOOT', mode_details: 'Applied configuration without a reboot' });
    expect(sim.node('cp1').appliedConfigs).toHaveLength(1);
    await sim.waitUntil(() => !sim.node('cp1').maintenance && sim.node('cp1').isUp, 3000, 'the node to leave maintenance');
    const c = verified();
    expect(parse(yamlSpecOf(await c.cosiGet('runtime', 'MachineStatuses.runtime.talos.dev', 'machine'))).stage).toBe('booting');
    expect(existsSync(join(dir, 'cp1/system/state/config.yaml'))).toBe(true);
    expect(existsSync(join(dir, 'cp1/system/secrets/etcd/ca.crt'))).toBe(true);
    expect((await expectError(insecure().call('Version', {}, 1000))).code).toBe(status.UNAVAILABLE);
  });
});
