// Disks.block.talos.dev per node (readable in maintenance mode), and a config applied in maintenance
// becoming the node's own: its machine type and its STATE config.yaml.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { status } from '@grpc/grpc-js';
import { expectError, SimClient, yamlSpecOf } from './client.ts';
import { TalosSimulator } from './simulator.ts';

const SUBNET = '127.0.141';
let sim: TalosSimulator;
let dir: string;
const clients: SimClient[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'talos-sim-disks-'));
  sim = await TalosSimulator.start({
    hostRootDir: dir,
    applyRebootMs: 50,
    nodes: [
      { name: 'n1', ip: `${SUBNET}.1`, type: 'controlplane', maintenance: true },
      {
        name: 'n2',
        ip: `${SUBNET}.2`,
        type: 'controlplane',
        maintenance: true,
        disks: [
          { id: 'nvme0n1', size: 2_000_398_934_016, model: 'Samsung SSD 980 PRO 2TB', serial: 'S6B0', wwid: 'eui.0025', transport: 'nvme' },
          { id: 'sr0', size: 0, transport: 'ata', cdrom: true, readonly: true },
        ],
      },
    ],
  });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

const insecure = (name: string) => {
  const c = new SimClient(sim.node(name), { caPem: '' });
  clients.push(c);
  return c;
};

describe('Disks.block.talos.dev', () => {
  test('default: one virtio disk with every DiskSpec field Talos marshals', async () => {
    const list = await insecure('n1').cosiList('runtime', 'Disks.block.talos.dev');
    expect(list).toHaveLength(1);
    const spec = parse(yamlSpecOf(list[0] as Record<string, unknown>));
    expect(spec).toMatchObject({ dev_path: '/dev/sda', size: 21474836480, pretty_size: '21 GB', readonly: false, cdrom: false, transport: 'virtio', rotational: true });
  });
  test('per node, ids are device names; pretty_size as go-humanize renders it', async () => {
    const list = await insecure('n2').cosiList('runtime', 'Disks.block.talos.dev');
    const specs = list.map((r) => ({ id: ((r.resource as Record<string, unknown>).metadata as { id: string }).id, spec: parse(yamlSpecOf(r)) }));
    expect(specs.map((s) => s.id)).toEqual(['nvme0n1', 'sr0']);
    expect(specs[0]?.spec).toMatchObject({ dev_path: '/dev/nvme0n1', pretty_size: '2.0 TB', transport: 'nvme', wwid: 'eui.0025' });
    expect(specs[1]?.spec).toMatchObject({ cdrom: true, readonly: true, pretty_size: '0 B' });
  });
});

describe('a config applied in maintenance is the node\'s config', () => {
  test('a worker config sent to a node specified as control plane makes it a worker, with that exact config on STATE', async () => {
    const workerConfig = sim.node('n1').machineConfig.replace('type: controlplane', 'type: worker');
    await insecure('n2').call('ApplyConfiguration', { data: Buffer.from(workerConfig), mode: 'AUTO' });
    await sim.waitUntil(() => !sim.node('n2').maintenance && sim.node('n2').isUp, 3000, 'n2 to leave maintenance');
    expect(sim.node('n2').type).toBe('worker');
    expect(sim.node('n2').isControlPlane).toBe(false);
    expect(readFileSync(join(dir, 'n2/system/state/config.yaml'), 'utf8')).toBe(workerConfig);
  });

  test('a lost reply: the client gets the injected code, yet the node applied the config and reboots into it', async () => {
    sim.loseReply('n1', 'ApplyConfiguration', status.UNAVAILABLE, 1, 'connection reset');
    const err = await expectError(insecure('n1').call('ApplyConfiguration', { data: Buffer.from(sim.node('n1').machineConfig), mode: 'AUTO' }));
    expect([err.code, err.details]).toEqual([status.UNAVAILABLE, 'connection reset']);
    expect(sim.node('n1').appliedConfigs).toHaveLength(1);
    await sim.waitUntil(() => !sim.node('n1').maintenance && sim.node('n1').isUp, 3000, 'n1 to leave maintenance');
    expect(sim.calls().filter((c) => c.node === 'n1' && c.method.endsWith('/ApplyConfiguration')).map((c) => c.codeName)).toEqual(['UNAVAILABLE']);
  });
});
