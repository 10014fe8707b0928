// Roles from the client certificate's O values and machined's rule table, including the COSI access
// policy (sensitive types admin-only, unregistered types and namespaces refused).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { X509Certificate } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { expectError, SimClient, yamlSpecOf } from './client.ts';
import { loadTalosKey } from './pki.ts';
import { TalosSimulator } from './simulator.ts';

const SUBNET = '127.0.62';
let sim: TalosSimulator;
const clients: SimClient[] = [];

beforeAll(async () => {
  sim = await TalosSimulator.start({
    nodes: [
      { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane' },
      { name: 'cp2', ip: `${SUBNET}.2`, type: 'controlplane' },
    ],
  });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await sim.stop();
});

function as(roles: string[], cn: string, node = 'cp1'): SimClient {
  const c = new SimClient(sim.node(node), { caPem: sim.osCaPem(), cert: sim.clientCertificate({ roles, cn }) });
  clients.push(c);
  return c;
}

describe('machine API rules', () => {
  test('os:reader gets PermissionDenied "not authorized" on Bootstrap, recorded as a Bootstrap call', async () => {
    const err = await expectError(as(['os:reader'], 'r1').call('Bootstrap'));
    expect(err.code).toBe(status.PERMISSION_DENIED);
    expect(err.details).toBe('not authorized');
    const recorded = sim.bootstrapCalls().find((b) => b.callerCn === 'r1');
    expect(recorded?.code).toBe(status.PERMISSION_DENIED);
    expect(sim.successfulBootstraps()).toHaveLength(0);
    expect(sim.etcdClusters()).toHaveLength(0);
  });

  test('os:admin can Bootstrap', async () => {
    await as(['os:admin'], 'a1', 'cp2').call('Bootstrap');
    expect(sim.successfulBootstraps().map((b) => [b.node, b.callerCn])).toEqual([['cp2', 'a1']]);
  });

  test('os:etcd:backup may list etcd members but not read Version', async () => {
    const c = as(['os:etcd:backup'], 'backup');
    const err = await expectError(c.call('Version'));
    expect(err.code).toBe(status.PERMISSION_DENIED);
    // Passes RBAC: what it gets is etcd's answer (here: cp2's cluster), not a refusal.
    await sim.waitUntil(() => sim.node('cp2').etcd.running, 2000, 'cp2 etcd');
    const members = (await c.call('EtcdMemberList', { query_local: false })) as { messages: { members: unknown[] }[] };
    expect(members.messages[0]?.members.length).toBeGreaterThanOrEqual(1);
  });

  test('unknown O values give no role; any known role among them counts', async () => {
    expect((await expectError(as(['admin', 'os:superuser'], 'nobody').call('Hostname'))).code).toBe(status.PERMISSION_DENIED);
    expect(await as(['ops', 'os:operator'], 'op').call('Hostname')).toEqual({ messages: [{ metadata: null, hostname: 'cp1' }] });
  });

  test('operator may read but not bootstrap or generate client configuration', async () => {
    const c = as(['os:operator'], 'op2');
    await c.call('ServiceList');
    expect((await expectError(c.call('Bootstrap'))).code).toBe(status.PERMISSION_DENIED);
    expect((await expectError(c.call('GenerateClientConfiguration', { roles: ['os:reader'], crt_ttl: { seconds: 60 } }))).code).toBe(
      status.PERMISSION_DENIED,
    );
  });

  test('ApplyConfiguration outside maintenance is admin only', async () => {
    const err = await expectError(as(['os:reader'], 'r2').call('ApplyConfiguration', { data: Buffer.from('version: v1alpha1\n'), mode: 'AUTO' }));
    expect(err.code).toBe(status.PERMISSION_DENIED);
    expect(err.details).toBe('not authorized');
    const reply = (await as(['os:admin'], 'a2').call('ApplyConfiguration', { data: Buffer.from('version: v1alpha1\n'), mode: 'AUTO' })) as {
      messages: { mode: string }[];
    };
    expect(reply.messages[0]?.mode).toBe('NO_REBOOT');
  });

  test('GenerateClientConfiguration mints a Talos-shaped client certificate that works', async () => {
    const reply = (await as(['os:admin'], 'a3').call('GenerateClientConfiguration', { roles: ['os:reader', 'bogus'], crt_ttl: { seconds: 600 } })) as {
      messages: { ca: Buffer; crt: Buffer; key: Buffer; talosconfig: Buffer }[];
    };
    const m = reply.messages[0];
    if (!m) throw new Error('no message');
    expect(m.key.toString()).toContain('-----BEGIN ED25519 PRIVATE KEY-----');
    const cert = new X509Certificate(m.crt);
    expect(cert.subject).toBe('O=os:reader');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    const keyPem = loadTalosKey(m.key.toString()).export({ type: 'pkcs8', format: 'pem' }) as string;
    const c = new SimClient(sim.node('cp1'), { caPem: m.ca.toString(), cert: { certPem: m.crt.toString(), keyPem } });
    clients.push(c);
    expect(await c.call('Hostname')).toEqual({ messages: [{ metadata: null, hostname: 'cp1' }] });
    expect((await expectError(as(['os:admin'], 'a4').call('GenerateClientConfiguration', { roles: ['os:reader'] }))).details).toBe(
      'crt_ttl should be positive',
    );
  });
});

describe('COSI access policy', () => {
  test('reader reads non-sensitive resources but not MachineConfigs or OSRootSecrets', async () => {
    const reader = as(['os:reader'], 'cosi-reader');
    expect(yamlSpecOf(await reader.cosiGet('config', 'MachineTypes.config.talos.dev', 'machine-type'))).toBe('controlplane\n');
    for (const [ns, type, id] of [
      ['config', 'MachineConfigs.config.talos.dev', 'v1alpha1'],
      ['secrets', 'OSRootSecrets.secrets.talos.dev', 'os'],
    ] as const) {
      const err = await expectError(reader.cosiGet(ns, type, id));
      expect(err.code).toBe(status.PERMISSION_DENIED);
      expect(err.details).toBe('not authorized');
    }
  });

  test('admin reads the sensitive ones', async () => {
    const admin = as(['os:admin'], 'cosi-admin');
    expect(yamlSpecOf(await admin.cosiGet('config', 'MachineConfigs.config.talos.dev', 'v1alpha1'))).toContain('version: v1alpha1');
    const root = yamlSpecOf(await admin.cosiGet('secrets', 'OSRootSecrets.secrets.talos.dev', 'os'));
    expect(root).toContain('issuingCA:');
  });

  test('a talosctl alias is not a type: PermissionDenied "not supported"; so is an unknown namespace', async () => {
    const reader = as(['os:reader'], 'alias');
    const alias = await expectError(reader.cosiGet('config', 'machinetype', 'machine-type'));
    expect(alias.code).toBe(status.PERMISSION_DENIED);
    expect(alias.details).toBe('resource type "machinetype" is not supported');
    const ns = await expectError(reader.cosiGet('nowhere', 'MachineTypes.config.talos.dev', 'machine-type'));
    expect(ns.details).toBe('namespace "nowhere" is not supported');
    // Lower-case full name passes the policy (Talos lower-cases for the lookup) but names no stored resource.
    const lower = await expectError(reader.cosiGet('config', 'machinetypes.config.talos.dev', 'machine-type'));
    expect(lower.code).toBe(status.NOT_FOUND);
  });

  test('COSI reads need one of admin, operator, reader', async () => {
    const err = await expectError(as(['os:etcd:backup'], 'backup-cosi').cosiList('cluster', 'Members.cluster.talos.dev'));
    expect(err.code).toBe(status.PERMISSION_DENIED);
  });
});
