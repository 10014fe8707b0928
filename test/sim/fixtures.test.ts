// The host-root fixture trees: Talos's config.yaml format, /system/secrets/etcd on control planes only,
// /proc/stat and /proc/net/route in the kernel's formats.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadTalosKey } from './pki.ts';
import { TalosSimulator } from './simulator.ts';
import { routeHex } from './host-root.ts';

const SUBNET = '127.0.66';
let sim: TalosSimulator;
let lastSim: TalosSimulator;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'talos-sim-fixtures-'));
  sim = await TalosSimulator.start({
    hostRootDir: join(dir, 'first'),
    nodes: [
      { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane', bootTime: 1_712_345_678 },
      { name: 'cp2', ip: `${SUBNET}.2`, type: 'controlplane', timeSynced: false },
      { name: 'w1', ip: `${SUBNET}.3`, type: 'worker' },
    ],
  });
  lastSim = await TalosSimulator.start({
    hostRootDir: join(dir, 'last'),
    v1alpha1Last: true,
    nodes: [{ name: 'cp9', ip: `${SUBNET}.9`, type: 'init', up: false }],
  });
});
afterAll(async () => {
  await sim.stop();
  await lastSim.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Doc = Record<string, any>;

function configDocs(root: string): Doc[] {
  const text = readFileSync(join(root, 'system/state/config.yaml'), 'utf8');
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) expect(d.errors).toEqual([]);
  return list.map((d) => d.toJS() as Doc);
}

const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

describe('config.yaml', () => {
  test('is multi-document YAML with a Talos v1alpha1 control-plane document', () => {
    const docs = configDocs(sim.hostRoot('cp1') as string);
    expect(docs.length).toBeGreaterThanOrEqual(2);
    const v1 = docs[0] as Doc;
    expect(v1.version).toBe('v1alpha1');
    expect(v1.machine.type).toBe('controlplane');
    expect(v1.machine.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    // Talos's generator (v1.13 contract) writes no per-node hostname or address: HostnameConfig picks a stable one.
    expect(docs.find((d) => d.kind === 'HostnameConfig')?.auto).toBe('stable');
    expect(v1.machine.install.disk).toBe('/dev/sda');
    expect(v1.machine.certSANs).toEqual([]);
    expect(v1.cluster.clusterName).toBe(sim.identity().clusterName);
    expect(v1.cluster.controlPlane.endpoint).toMatch(/^https:\/\/.+:6443$/);
    expect(v1.cluster.id).toBe(sim.identity().clusterId);
    expect(typeof v1.cluster.secret).toBe('string');
    expect(decode(v1.cluster.ca.crt)).toContain('BEGIN CERTIFICATE');
    expect(decode(v1.cluster.etcd.ca.crt)).toContain('BEGIN CERTIFICATE');
    expect(decode(v1.cluster.etcd.ca.key)).toContain('BEGIN EC PRIVATE KEY');
    expect(docs.slice(1).map((d) => d.kind)).toContain('ExtensionServiceConfig');
  });

  test('machine.ca.key is base64 of an ED25519 PRIVATE KEY PEM (PKCS#8 inside) matching machine.ca.crt', () => {
    const v1 = configDocs(sim.hostRoot('cp1') as string)[0] as Doc;
    const keyPem = decode(v1.machine.ca.key);
    expect(keyPem.startsWith('-----BEGIN ED25519 PRIVATE KEY-----\n')).toBe(true);
    expect(keyPem.trimEnd().endsWith('-----END ED25519 PRIVATE KEY-----')).toBe(true);
    // The label is not one OpenSSL, Node or Bun accept as-is.
    expect(() => createPublicKey(keyPem)).toThrow();
    const key = loadTalosKey(keyPem);
    expect(key.asymmetricKeyType).toBe('ed25519');
    const cert = new X509Certificate(decode(v1.machine.ca.crt));
    expect(cert.subject).toBe('O=talos');
    expect(createPublicKey(key).export({ format: 'der', type: 'spki' }).equals(cert.publicKey.export({ format: 'der', type: 'spki' }))).toBe(true);
    expect(cert.raw.equals(new X509Certificate(sim.osCaPem()).raw)).toBe(true);
  });

  test('a worker config has machine.ca.key "" and no cluster.etcd at all', () => {
    const v1 = configDocs(sim.hostRoot('w1') as string).find((d) => d.version === 'v1alpha1') as Doc;
    expect(v1.machine.type).toBe('worker');
    expect(v1.machine.ca.key).toBe('');
    expect(decode(v1.machine.ca.crt)).toContain('BEGIN CERTIFICATE');
    expect('etcd' in v1.cluster).toBe(false);
    expect(v1.cluster.ca.key).toBe('');
  });

  test('the v1alpha1Last option writes the other documents first', () => {
    const docs = configDocs(lastSim.hostRoot('cp9') as string);
    expect(docs.at(-1)?.version).toBe('v1alpha1');
    expect(docs.at(-1)?.machine.type).toBe('init');
    expect(docs[0]?.version).toBeUndefined();
    expect(docs[0]?.kind).toBeDefined();
  });
});

describe('etcd secrets', () => {
  test('exist on a time-synced control plane only; appear once time syncs', async () => {
    const etcd = (node: string) => join(sim.hostRoot(node) as string, 'system/secrets/etcd');
    for (const f of ['ca.crt', 'ca.key', 'peer.crt', 'peer.key', 'admin.crt', 'admin.key']) {
      expect(readFileSync(join(etcd('cp1'), f), 'utf8')).toMatch(/^-----BEGIN (CERTIFICATE|EC PRIVATE KEY)-----/);
    }
    expect(new X509Certificate(readFileSync(join(etcd('cp1'), 'peer.crt'))).checkIssued(new X509Certificate(readFileSync(join(etcd('cp1'), 'ca.crt'))))).toBe(true);
    expect(existsSync(etcd('w1'))).toBe(false);
    expect(existsSync(etcd('cp2'))).toBe(false);
    sim.setFlags('cp2', { timeSynced: true });
    expect(existsSync(join(etcd('cp2'), 'ca.crt'))).toBe(true);
  });
});

describe('/proc', () => {
  test('stat carries the btime line of the node', () => {
    const stat = readFileSync(join(sim.hostRoot('cp1') as string, 'host/proc/stat'), 'utf8');
    expect(stat.split('\n')).toContain('btime 1712345678');
    expect(stat.startsWith('cpu  ')).toBe(true);
  });

  test('net/route is the kernel format: header, tab-separated, little-endian hex, default route on eth0', () => {
    const text = readFileSync(join(sim.hostRoot('cp1') as string, 'host/proc/net/route'), 'utf8');
    const lines = text.split('\n').filter((l) => l.length > 0);
    expect(lines[0]?.startsWith('Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT')).toBe(true);
    for (const l of lines) expect(l.length).toBe(127);
    const rows = lines.slice(1).map((l) => l.trimEnd().split('\t'));
    const def = rows.find((r) => r[1] === '00000000');
    expect(def?.[0]).toBe('eth0');
    expect(def?.[2]).toBe(routeHex(`${SUBNET}.254`));
    expect(routeHex('192.168.1.10')).toBe('0A01A8C0');
    expect(def?.[3]).toBe('0003');
    const net = rows.find((r) => r[1] !== '00000000');
    expect(net?.[1]).toBe(routeHex(`${SUBNET}.0`));
    expect(net?.[7]).toBe('00FFFFFF');
  });
});
