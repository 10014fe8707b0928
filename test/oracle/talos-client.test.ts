// Talos's own Go client library (pkg/machinery/client, the one talosctl is built on) drives the simulator.
// A reply the client cannot decode, or decodes to something other than what the simulator meant, is a
// simulator bug (fixed in test/sim, listed in test/sim/README.md), never a reason to change this test.
// Binds 127.0.172.0/24: run inside a private network namespace, like every test that opens sockets.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { SimClient, yamlSpecOf } from '../sim/client.ts';
import { TYPES } from '../sim/resource-registry.ts';
import { TalosSimulator } from '../sim/simulator.ts';
import { goClient, result, type GoCall, type GoResource } from './client-harness.ts';
import { generatedConfig } from './harness.ts';

const SUBNET = '127.0.172';
const ip = (n: number) => `${SUBNET}.${n}`;
let sim: TalosSimulator;
let dir: string;
let admin: GoCall['auth'];
const clients: SimClient[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oracle-client-sim-'));
  sim = await TalosSimulator.start({
    hostRootDir: dir,
    applyRebootMs: 100,
    joinDelayMs: 300,
    etcdStartDelayMs: 50,
    timeSyncWaitMs: 100,
    nodes: [
      { name: 'cp1', ip: ip(1), type: 'controlplane', bootTime: 1_700_000_000 },
      { name: 'cp2', ip: ip(2), type: 'controlplane' },
      { name: 'w1', ip: ip(3), type: 'worker' },
      { name: 'w-cri', ip: ip(4), type: 'worker', criReady: false },
      { name: 'cp-noetcd', ip: ip(5), type: 'controlplane', etcdConfigured: false, timeSynced: false },
      { name: 'cp-notime', ip: ip(6), type: 'controlplane', timeSynced: false },
      { name: 'm1', ip: ip(7), type: 'controlplane', maintenance: true },
    ],
  });
  const cert = sim.clientCertificate({ roles: ['os:admin'], cn: 'oracle' });
  admin = { ca: sim.osCaPem(), crt: cert.certPem, key: cert.keyPem };
});

afterAll(async () => {
  for (const c of clients) c.close();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A spec's YAML as data, every document of it. MachineConfig's spec is the multi-document config itself;
 * the Go client's spec value marshals to one YAML string holding that text, which is read in turn.
 */
function parse(text: string): unknown[] {
  const docs = parseAllDocuments(text).map((d) => d.toJS() as unknown);
  return docs.length === 1 && typeof docs[0] === 'string' && docs[0].includes('\n') ? parse(docs[0]) : docs;
}

const call = (id: string, node: string, method: GoCall['method'], extra: Partial<GoCall> = {}): GoCall => ({
  id,
  endpoint: `${sim.node(node).ip}:50000`,
  auth: admin,
  method,
  ...extra,
});

function simClient(node: string): SimClient {
  const cert = sim.clientCertificate({ roles: ['os:admin'], cn: 'sim-view' });
  const c = new SimClient(sim.node(node), { caPem: sim.osCaPem(), cert });
  clients.push(c);
  return c;
}

describe('Talos\'s Go client against the simulator', () => {
  test('Bootstrap: Talos\'s error codes in Talos\'s order, then success, then AlreadyExists', async () => {
    const r = await goClient([
      call('cri', 'w-cri', 'Bootstrap'),
      call('worker', 'w1', 'Bootstrap'),
      call('noetcd', 'cp-noetcd', 'Bootstrap'),
      call('notime', 'cp-notime', 'Bootstrap'),
      call('ok', 'cp1', 'Bootstrap'),
    ]);
    expect([result(r, 'cri').code, result(r, 'cri').message]).toEqual(['FailedPrecondition', 'bootstrap is not available yet']);
    expect([result(r, 'worker').code, result(r, 'worker').message]).toEqual(['Unimplemented', 'bootstrap is only available on control plane nodes']);
    expect([result(r, 'noetcd').code, result(r, 'noetcd').message]).toEqual(['InvalidArgument', 'etcd is not configured, bootstrap is not possible']);
    expect([result(r, 'notime').code, result(r, 'notime').message]).toEqual(['FailedPrecondition', 'time is not in sync yet']);
    expect(result(r, 'ok').code).toBe('OK');
    await sim.waitUntil(() => sim.node('cp1').etcd.running && sim.node('cp2').etcd.running, 20_000);
    const again = await goClient([call('again', 'cp1', 'Bootstrap')]);
    expect([result(again, 'again').code, result(again, 'again').message]).toEqual(['AlreadyExists', 'etcd data directory is not empty']);
    expect(sim.successfulBootstraps()).toHaveLength(1);
  });

  test('Version, ServiceList and SystemStat decode to what the node holds', async () => {
    const r = await goClient([call('version', 'cp1', 'Version'), call('services', 'cp1', 'ServiceList'), call('stat', 'cp1', 'SystemStat')]);
    for (const id of ['version', 'services', 'stat']) expect(result(r, id).code, id).toBe('OK');
    const version = result(r, 'version').reply as { messages: { version: { tag: string; arch: string }; platform: { mode: string } }[] };
    expect(version.messages).toHaveLength(1);
    expect(version.messages[0]?.version.tag).toMatch(/^v1\.\d+\.\d+/);
    const services = result(r, 'services').reply as { messages: { services: { id: string; state: string; health?: { healthy?: boolean } }[] }[] };
    const etcd = services.messages[0]?.services.find((s) => s.id === 'etcd');
    expect(etcd?.state).toBe('Running');
    const stat = result(r, 'stat').reply as { messages: { boot_time: string }[] };
    expect(stat.messages[0]?.boot_time).toBe('1700000000');
  });

  test('EtcdMemberList, local and cluster-wide: one cluster, both control planes, no learner', async () => {
    const r = await goClient([
      call('local', 'cp1', 'EtcdMemberList', { queryLocal: true }),
      call('cluster', 'cp2', 'EtcdMemberList', { queryLocal: false }),
    ]);
    for (const id of ['local', 'cluster']) {
      expect(result(r, id).code, id).toBe('OK');
      const reply = result(r, id).reply as { messages: { members: { id: string; hostname: string; is_learner?: boolean; peer_urls: string[] }[] }[] };
      const members = reply.messages[0]?.members ?? [];
      expect(members.map((m) => m.hostname).sort(), id).toEqual(['cp1', 'cp2']);
      expect(members.every((m) => !m.is_learner && /^\d+$/.test(m.id) && m.peer_urls.length > 0), id).toBe(true);
    }
  });

  // Every resource the daemon and the operator commands read, by Get, List and Watch; the spec the Go client
  // decodes must be the spec the simulator serves.
  const READS: { ns: string; type: string; id: string }[] = [
    { ns: 'config', type: TYPES.machineType, id: 'machine-type' },
    { ns: 'runtime', type: TYPES.machineStatus, id: 'machine' },
    { ns: 'runtime', type: TYPES.service, id: 'etcd' },
    { ns: 'etcd', type: TYPES.etcdMember, id: 'local' },
    { ns: 'cluster', type: TYPES.member, id: 'cp1' },
    { ns: 'cluster', type: TYPES.info, id: 'current' },
    { ns: 'runtime', type: TYPES.timeStatus, id: 'node' },
    { ns: 'runtime', type: TYPES.disk, id: 'sda' },
    { ns: 'config', type: TYPES.machineConfig, id: 'v1alpha1' },
    { ns: 'secrets', type: TYPES.osRoot, id: 'os' },
  ];

  for (const read of READS) {
    test(`COSI Get, List and Watch of ${read.type}`, async () => {
      const key = { namespace: read.ns, type: read.type };
      const r = await goClient([
        call('get', 'cp1', 'Get', { ...key, resourceId: read.id }),
        call('list', 'cp1', 'List', key),
        call('watch-kind', 'cp1', 'Watch', key),
        call('watch-one', 'cp1', 'Watch', { ...key, resourceId: read.id }),
      ]);
      for (const id of ['get', 'list', 'watch-kind', 'watch-one']) expect({ id, code: result(r, id).code, message: result(r, id).message }).toEqual({ id, code: 'OK', message: '' });
      const served = parse(yamlSpecOf(await simClient('cp1').cosiGet(read.ns, read.type, read.id)));
      const got = result(r, 'get').reply as GoResource;
      expect(got.goType).not.toBe('*protobuf.Resource');
      expect(parse(got.spec)).toEqual(served);
      const list = result(r, 'list').reply as GoResource[];
      expect(list.map((x) => x.id)).toContain(read.id);
          const events = result(r, 'watch-kind').reply as { type: string; error?: string; resource?: GoResource }[];
      const last = events.map((e) => `${e.type}${e.error ? `: ${e.error}` : ''}`).at(-1);
      if (read.type === TYPES.machineConfig) {
        // Talos's own stack, not the simulator: COSI marks the end of the initial contents with a Tombstone
        // that has no spec (cosi-project/runtime pkg/state/impl/inmem/collection.go, protobuf.FromResource),
        // and MachineConfig.UnmarshalProto runs configloader on that empty spec (pkg/machinery/resources/config/
        // machine_config.go), so Talos's client reports the Bootstrapped event as an error for this one type.
        expect(last).toBe(`Errored: namespace "config" type "${TYPES.machineConfig}": config not found`);
      } else {
        expect(last).toBe('Bootstrapped');
      }
      expect(events.filter((e) => e.type === 'Created').map((e) => e.resource?.id).sort()).toEqual(list.map((x) => x.id).sort());
      const one = result(r, 'watch-one').reply as { type: string; resource?: GoResource }[];
      expect(one[0]?.type).toBe('Created');
      expect(parse(one[0]?.resource?.spec ?? '')).toEqual(served);
    });
  }

  test('MachineService List of the etcd data directory: a member directory once bootstrapped, empty before, none on a worker', async () => {
    const r = await goClient([
      call('bootstrapped', 'cp1', 'LS', { path: '/var/lib/etcd' }),
      call('empty', 'cp-noetcd', 'LS', { path: '/var/lib/etcd' }),
      call('worker', 'w1', 'LS', { path: '/var/lib/etcd' }),
    ]);
    const names = (id: string) => ((result(r, id).reply ?? []) as { name: string; relative_name: string; is_dir?: boolean }[]).map((f) => f.relative_name);
    expect(result(r, 'bootstrapped').code).toBe('OK');
    expect(names('bootstrapped')).toEqual(['.', 'member']);
    expect(result(r, 'empty').code).toBe('OK');
    expect(names('empty')).toEqual(['.']);
    expect(result(r, 'worker').code).not.toBe('OK');
    expect(result(r, 'worker').message).toContain('no such file or directory');
  });

  test('one-to-one proxying through an endpoint with the node metadata (client.WithNode), as talosctl -e -n', async () => {
    const via = (id: string, method: GoCall['method'], target: string, extra: Partial<GoCall> = {}) => call(id, 'cp1', method, { node: target, ...extra });
    const r = await goClient([
      via('stat', 'SystemStat', ip(2)),
      via('members', 'EtcdMemberList', ip(2), { queryLocal: true }),
      via('local-member', 'Get', ip(2), { namespace: 'etcd', type: TYPES.etcdMember, resourceId: 'local' }),
      via('self', 'SystemStat', ip(1)),
      via('unknown', 'Version', ip(99), { timeoutMs: 5_000 }),
      via('port', 'Version', `${ip(2)}:50000`),
      { ...call('maintenance', 'm1', 'Version', { node: ip(2) }), auth: null },
    ]);
    expect(result(r, 'stat').code).toBe('OK');
    expect((result(r, 'stat').reply as { messages: { boot_time: string }[] }).messages[0]?.boot_time).toBe(String(sim.node('cp2').bootTime));
    expect((result(r, 'self').reply as { messages: { boot_time: string }[] }).messages[0]?.boot_time).toBe('1700000000');
    expect(result(r, 'members').code).toBe('OK');
    const served = parseAllDocuments(yamlSpecOf(await simClient('cp2').cosiGet('etcd', TYPES.etcdMember, 'local')))[0]?.toJS();
    expect(parse((result(r, 'local-member').reply as GoResource).spec)).toEqual([served]);
    expect(result(r, 'unknown').code).toBe('Unavailable');
    expect([result(r, 'port').code, result(r, 'port').message]).toEqual(['Internal', `invalid target "${ip(2)}:50000"`]);
    expect([result(r, 'maintenance').code, result(r, 'maintenance').message]).toEqual(['PermissionDenied', 'no request forwarding']);
  });

  test('maintenance mode: an insecure client reads Version and Disks and applies a Talos-generated config', async () => {
    const insecure = { ...call('', 'm1', 'Version'), auth: null };
    const config = generatedConfig('v1.13', 'controlplane').text;
    const r = await goClient([
      { ...insecure, id: 'version' },
      { ...insecure, id: 'disks', method: 'List', namespace: 'runtime', type: TYPES.disk },
      { ...insecure, id: 'apply', method: 'ApplyConfiguration', data: config },
    ]);
    expect(result(r, 'version').code).toBe('OK');
    expect(result(r, 'disks').code).toBe('OK');
    expect((result(r, 'disks').reply as GoResource[]).length).toBeGreaterThan(0);
    expect(result(r, 'apply').code).toBe('OK');
    const apply = result(r, 'apply').reply as { messages: { mode: string; mode_details: string }[] };
    expect(apply.messages[0]?.mode).toBe('NO_REBOOT');
  });
});
