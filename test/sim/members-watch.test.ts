// Members as cluster discovery produces them: a node becomes a member once it has run with its config,
// and a kind Watch on every other node reports it the moment it does.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { parse } from 'yaml';
import { SimClient } from './client.ts';
import { TalosSimulator } from './simulator.ts';

const SUBNET = '127.0.112';
let sim: TalosSimulator;
const clients: SimClient[] = [];

beforeAll(async () => {
  sim = await TalosSimulator.start({
    etcdStartDelayMs: 50,
    nodes: [
      { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane' },
      { name: 'cp2', ip: `${SUBNET}.2`, type: 'controlplane', up: false },
      { name: 'w1', ip: `${SUBNET}.3`, type: 'worker' },
    ],
  });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await sim.stop();
});

function reader(node: string): SimClient {
  const c = new SimClient(sim.node(node), { caPem: sim.osCaPem(), cert: sim.clientCertificate({ roles: ['os:reader'], cn: 'members' }) });
  clients.push(c);
  return c;
}

type Event = { event_type: string; resource: { metadata: { id: string; version: string }; spec: { yaml_spec: string } } };

test('a node that never ran with its config is no member; when it comes up, an open Watch gets CREATED; going down keeps it', async () => {
  const c = reader('cp1');
  const listed = (await c.cosiList('cluster', 'Members.cluster.talos.dev')) as { resource: Event['resource'] }[];
  expect(listed.map((r) => r.resource.metadata.id)).toEqual(['cp1', 'w1']);

  const stream = c.cosiWatch({ namespace: 'cluster', type: 'Members.cluster.talos.dev', options: { bootstrap_contents: true }, api_version: 1 });
  const got: Event[] = [];
  stream.on('data', (m: { event: Event[] }) => got.push(...m.event));
  stream.on('error', () => undefined);
  await sim.waitUntil(() => got.some((e) => e.event_type === 'BOOTSTRAPPED'), 2000, 'bootstrap contents');
  expect(got.map((e) => `${e.event_type}:${e.resource.metadata.id}`)).toEqual(['CREATED:cp1', 'CREATED:w1', 'BOOTSTRAPPED:']);

  await sim.up('cp2');
  await sim.waitUntil(() => got.some((e) => e.event_type === 'CREATED' && e.resource.metadata.id === 'cp2'), 2000, 'cp2 CREATED');
  const created = got.find((e) => e.resource.metadata.id === 'cp2') as Event;
  expect(parse(created.resource.spec.yaml_spec)).toMatchObject({ addresses: [`${SUBNET}.2`], machineType: 'controlplane', hostname: 'cp2' });

  const before = got.length;
  sim.down('cp2');
  await Bun.sleep(100);
  // Affiliates outlive a reboot: no DESTROYED for cp2.
  expect(got.slice(before).filter((e) => e.resource.metadata.id === 'cp2' && e.event_type === 'DESTROYED')).toEqual([]);
  stream.cancel();
});
