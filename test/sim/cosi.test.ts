// COSI resources as machined serves them: full type names, Talos's YAML spec fields, metadata, and a
// Watch that starts with the current state and follows changes.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { status } from '@grpc/grpc-js';
import { parse } from 'yaml';
import { expectError, SimClient, yamlSpecOf } from './client.ts';
import { TalosSimulator } from './simulator.ts';

const SUBNET = '127.0.67';
let sim: TalosSimulator;
const clients: SimClient[] = [];

beforeAll(async () => {
  sim = await TalosSimulator.start({
    joinDelayMs: 150,
    etcdStartDelayMs: 50,
    clusters: { default: { clusterName: 'lab' } },
    nodes: [
      { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane' },
      { name: 'cp2', ip: `${SUBNET}.2`, type: 'controlplane' },
      { name: 'w1', ip: `${SUBNET}.3`, type: 'worker', extensions: ['autobootstrap', 'iscsi-tools'] },
      { name: 'stranger', ip: `${SUBNET}.9`, type: 'controlplane', cluster: 'elsewhere' },
    ],
  });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await sim.stop();
});

function reader(node: string, roles = ['os:reader']): SimClient {
  const group = sim.node(node).group;
  const c = new SimClient(sim.node(node), { caPem: sim.osCaPem(group), cert: sim.clientCertificate({ group, roles, cn: 'cosi' }) });
  clients.push(c);
  return c;
}

type Resource = { metadata: Record<string, unknown>; spec: { yaml_spec: string } };

describe('Get and List', () => {
  test('machine type is a bare YAML string; metadata is namespace/type/id/version/phase', async () => {
    const reply = (await reader('w1').cosiGet('config', 'MachineTypes.config.talos.dev', 'machine-type')) as { resource: Resource };
    expect(reply.resource.spec.yaml_spec).toBe('worker\n');
    expect(reply.resource.metadata).toMatchObject({
      namespace: 'config',
      type: 'MachineTypes.config.talos.dev',
      id: 'machine-type',
      version: '1',
      phase: 'running',
    });
  });

  test('Members lists every node of the same cluster including itself; control planes carry controlPlane.port', async () => {
    const list = (await reader('cp1').cosiList('cluster', 'Members.cluster.talos.dev')) as { resource: Resource }[];
    const specs = list.map((r) => parse(r.resource.spec.yaml_spec));
    expect(list.map((r) => r.resource.metadata.id)).toEqual(['cp1', 'cp2', 'w1']);
    expect(specs[0]).toMatchObject({ hostname: 'cp1', addresses: [`${SUBNET}.1`], machineType: 'controlplane', controlPlane: { port: 6443 } });
    expect(specs[0].operatingSystem).toBe('Talos (v1.13.0)');
    expect(specs[0].nodeId).toMatch(/^[0-9A-Za-z]{43}$/);
    expect(specs[2].machineType).toBe('worker');
    expect('controlPlane' in specs[2]).toBe(false);
    // The other cluster sees only itself.
    const other = (await reader('stranger').cosiList('cluster', 'Members.cluster.talos.dev')) as { resource: Resource }[];
    expect(other.map((r) => r.resource.metadata.id)).toEqual(['stranger']);
  });

  test('cluster identity, time status and extension services', async () => {
    const c = reader('w1');
    expect(parse(yamlSpecOf(await c.cosiGet('cluster', 'Infos.cluster.talos.dev', 'current')))).toEqual({
      clusterId: sim.identity().clusterId,
      clusterName: 'lab',
    });
    expect(parse(yamlSpecOf(await c.cosiGet('runtime', 'TimeStatuses.v1alpha1.talos.dev', 'node')))).toEqual({ synced: true, epoch: 1, syncDisabled: false });
    const services = (await c.cosiList('runtime', 'Services.v1alpha1.talos.dev')) as { resource: Resource }[];
    const ids = services.map((r) => r.resource.metadata.id);
    expect(ids).toContain('ext-autobootstrap');
    expect(ids).toContain('ext-iscsi-tools');
    expect(ids).not.toContain('etcd');
    expect(parse(yamlSpecOf(await c.cosiGet('runtime', 'Services.v1alpha1.talos.dev', 'ext-autobootstrap')))).toEqual({
      running: true,
      healthy: false,
      unknown: true,
    });
  });

  test('a missing resource is NotFound with COSI’s message; a List of an empty kind is empty', async () => {
    const err = await expectError(reader('cp1').cosiGet('runtime', 'Services.v1alpha1.talos.dev', 'ext-nope'));
    expect(err.code).toBe(status.NOT_FOUND);
    expect(err.details).toBe("resource Services.v1alpha1.talos.dev(runtime/ext-nope@undefined) doesn't exist");
    expect(await reader('cp1').cosiList('cluster', 'Affiliates.cluster.talos.dev')).toEqual([]);
  });

  test('resource definitions carry the aliases talosctl resolves client-side', async () => {
    const def = parse(yamlSpecOf(await reader('cp1').cosiGet('meta', 'ResourceDefinitions.meta.cosi.dev', 'machinetypes.config.talos.dev')));
    expect(def.type).toBe('MachineTypes.config.talos.dev');
    expect(def.allAliases).toContain('machinetype');
  });
});

describe('Watch', () => {
  test('a single-resource watch: ready signal, current state, then updates with growing versions', async () => {
    const c = reader('cp2');
    const stream = c.cosiWatch({ namespace: 'runtime', type: 'MachineStatuses.runtime.talos.dev', id: 'machine', api_version: 1 });
    const events: { event_type: string; resource: Resource }[][] = [];
    stream.on('data', (m: { event: { event_type: string; resource: Resource }[] }) => events.push(m.event));
    stream.on('error', () => undefined);
    await sim.waitUntil(() => events.length >= 2, 2000, 'initial watch events');
    expect(events[0]).toEqual([]);
    expect(events[1]?.[0]?.event_type).toBe('CREATED');
    expect(parse(events[1]?.[0]?.resource.spec.yaml_spec ?? '').stage).toBe('booting');

    const admin = reader('cp1', ['os:admin']);
    await admin.call('Bootstrap');
    await sim.waitUntil(
      () => events.some((e) => e[0]?.event_type === 'UPDATED' && parse(e[0].resource.spec.yaml_spec).stage === 'running'),
      3000,
      'cp2 to reach stage running',
    );
    const last = events.at(-1)?.[0];
    expect(Number(last?.resource.metadata.version)).toBeGreaterThan(1);
    stream.cancel();
  });

  test('a kind watch with bootstrap_contents sends every resource, then BOOTSTRAPPED; a missing id starts DESTROYED', async () => {
    const c = reader('cp1');
    const kind = c.cosiWatch({ namespace: 'cluster', type: 'Members.cluster.talos.dev', options: { bootstrap_contents: true }, api_version: 1 });
    const got: string[] = [];
    kind.on('data', (m: { event: { event_type: string; resource: Resource }[] }) => {
      for (const e of m.event) got.push(`${e.event_type}:${String(e.resource.metadata.id)}`);
    });
    kind.on('error', () => undefined);
    await sim.waitUntil(() => got.includes('BOOTSTRAPPED:'), 2000, 'bootstrap contents');
    expect(got).toEqual(['CREATED:cp1', 'CREATED:cp2', 'CREATED:w1', 'BOOTSTRAPPED:']);
    kind.cancel();

    const single = c.cosiWatch({ namespace: 'etcd', type: 'EtcdMembers.etcd.talos.dev', id: 'nothing-here' });
    const first: string[] = [];
    single.on('data', (m: { event: { event_type: string }[] }) => {
      for (const e of m.event) first.push(e.event_type);
    });
    single.on('error', () => undefined);
    await sim.waitUntil(() => first.length > 0, 2000, 'single watch');
    expect(first[0]).toBe('DESTROYED');
    single.cancel();
  });
});
