// The agreement over real gRPC and mutual TLS on loopback (run inside a private network namespace):
// three daemons' runtimes agree; only control planes' agreement certificates may deliver; the dialled IP
// and EKU are checked on both sides; Status is readable with a talosconfig certificate.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Message } from '../../src/agreement/core/messages.ts';
import { AgreementRuntime } from '../../src/agreement/runtime.ts';
import { AcceptorFile } from '../../src/agreement/storage/acceptor-file.ts';
import { clusterIdOf, mintAgreementClient, mintAgreementServer } from '../../src/agreement/transport/certificates.ts';
import { AgreementClient } from '../../src/agreement/transport/client.ts';
import { AgreementServer } from '../../src/agreement/transport/server.ts';
import { createLogger } from '../../src/log.ts';
import { loadMachineCA } from '../../src/pki/machine-ca.ts';
import { createOsCa, issueClientCertificate } from '../sim/pki.ts';

const PORT = 24450;
const ca = createOsCa();
const machineCa = loadMachineCA(ca.certPem, ca.keyPem);
const otherCa = createOsCa();
const clusterId = clusterIdOf(ca.certPem);
const tmp = mkdtempSync(join(tmpdir(), 'agreement-transport-'));
const servers: AgreementServer[] = [];
const clients: AgreementClient[] = [];
afterAll(() => {
  for (const s of servers) s.stop();
  for (const c of clients) c.close();
  rmSync(tmp, { recursive: true, force: true });
});

function capture(): { logger: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l)); cb(); } });
  return { logger: createLogger('debug', sink), lines };
}

interface Daemon {
  id: string;
  address: string;
  runtime: AgreementRuntime;
  lines: Record<string, unknown>[];
}

async function daemon(id: string, address: string, peers: Record<string, string>, quorum: number): Promise<Daemon> {
  const { logger, lines } = capture();
  const client = mintAgreementClient(machineCa, id);
  const byAddress = new Map<string, AgreementClient>();
  const send = (to: string, m: Message) => {
    const addr = peers[to];
    if (!addr) return Promise.reject(new Error(`no address for ${to}`));
    let c = byAddress.get(addr);
    if (!c) {
      c = new AgreementClient(addr, PORT, { caPem: ca.certPem, certPem: client.certPem, keyPem: client.keyPem });
      clients.push(c);
      byAddress.set(addr, c);
    }
    return c.deliver(m, 2_000);
  };
  const runtime = new AgreementRuntime({
    self: id, params: { quorum, controlPlanes: 3, clusterId }, store: new AcceptorFile(join(tmp, id), id, clusterId), log: logger, send, now: () => performance.now(),
  });
  const serverCert = mintAgreementServer(machineCa, id, [address]);
  const server = new AgreementServer({ caPem: ca.certPem, certPem: serverCert.certPem, keyPem: serverCert.keyPem }, {
    deliver: (m) => runtime.receive(m),
    status: () => runtime.status(),
    refused: (peer, reason) => logger.warn({ event: 'agreement-caller-refused', peer, reason }, `refused ${peer}: ${reason}`),
  });
  servers.push(server);
  await server.start(address, PORT);
  return { id, address, runtime, lines };
}

async function until(f: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out');
    await Bun.sleep(20);
  }
}

const PEERS = { 'node-a': '127.0.190.1', 'node-b': '127.0.190.2', 'node-c': '127.0.190.3' };

describe('agreement over mutual TLS', () => {
  let a: Daemon, b: Daemon, c: Daemon;

  test('three daemons agree on the proposer; every state is on disk', async () => {
    a = await daemon('node-a', PEERS['node-a'], PEERS, 2);
    b = await daemon('node-b', PEERS['node-b'], PEERS, 2);
    c = await daemon('node-c', PEERS['node-c'], PEERS, 2);
    b.runtime.view({ leads: false, verified: ['node-a', 'node-b', 'node-c'], seen: 3 });
    c.runtime.view({ leads: false, verified: ['node-a', 'node-b', 'node-c'], seen: 3 });
    a.runtime.view({ leads: true, verified: ['node-a', 'node-b', 'node-c'], seen: 3 });
    await until(() => a.runtime.chosen === 'node-a' && b.runtime.chosen === 'node-a' && c.runtime.chosen === 'node-a');
    for (const d of [a, b, c]) expect(new AcceptorFile(join(tmp, d.id), d.id, clusterId).load()?.chosen).toBe('node-a');
  });

  test('Status answers a talosconfig certificate (os:admin); Deliver refuses it', async () => {
    const admin = issueClientCertificate(ca, { roles: ['os:admin'] });
    const client = new AgreementClient(PEERS['node-b'], PORT, { caPem: ca.certPem, certPem: admin.certPem, keyPem: admin.keyPem });
    clients.push(client);
    const s = await client.status(2_000);
    expect(s).toMatchObject({ node: 'node-b', chosen: 'node-a', phase: 'chosen', params: { quorum: 2, controlPlanes: 3, clusterId } });
    expect(s.chosenAtMs).toBeGreaterThan(0);
    const forged: Message = { from: 'node-x', params: { quorum: 2, controlPlanes: 3, clusterId }, body: { type: 'prepare', ballot: { round: 99, proposer: 'node-x' } } };
    const fresh = new AgreementClient(PEERS['node-b'], PORT, { caPem: ca.certPem, certPem: admin.certPem, keyPem: admin.keyPem });
    clients.push(fresh);
    await expect(fresh.deliver(forged, 2_000)).rejects.toThrow(/autobootstrap:agreement/);
    expect(b.lines.some((l) => l.event === 'agreement-caller-refused')).toBe(true);
  });

  test('a sender whose certificate names another node is refused', async () => {
    const cert = mintAgreementClient(machineCa, 'node-a');
    const client = new AgreementClient(PEERS['node-c'], PORT, { caPem: ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem });
    clients.push(client);
    const m: Message = { from: 'node-b', params: { quorum: 2, controlPlanes: 3, clusterId }, body: { type: 'prepare', ballot: { round: 50, proposer: 'node-b' } } };
    await expect(client.deliver(m, 2_000)).rejects.toThrow(/certificate for node-a/);
  });

  test('a server whose certificate does not name the dialled address is refused by the client', async () => {
    const wrong = mintAgreementServer(machineCa, 'node-d', ['127.0.190.99']);
    const server = new AgreementServer({ caPem: ca.certPem, certPem: wrong.certPem, keyPem: wrong.keyPem }, { deliver: () => [], status: () => a.runtime.status(), refused: () => {} });
    servers.push(server);
    await server.start('127.0.190.4', PORT);
    const cert = mintAgreementClient(machineCa, 'node-a');
    const client = new AgreementClient('127.0.190.4', PORT, { caPem: ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem });
    clients.push(client);
    await expect(client.status(2_000)).rejects.toThrow();
  });

  test("another cluster's daemon cannot connect", async () => {
    const foreign = mintAgreementClient(loadMachineCA(otherCa.certPem, otherCa.keyPem), 'node-a');
    const client = new AgreementClient(PEERS['node-a'], PORT, { caPem: ca.certPem, certPem: foreign.certPem, keyPem: foreign.keyPem });
    clients.push(client);
    await expect(client.status(2_000)).rejects.toThrow();
  });

  test('an unreachable peer is named in the log once', async () => {
    const { logger, lines } = capture();
    const rt = new AgreementRuntime({
      self: 'node-e', params: { quorum: 2, controlPlanes: 3, clusterId }, store: new AcceptorFile(join(tmp, 'node-e'), 'node-e', clusterId), log: logger, now: () => performance.now(),
      send: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.190.9:24450')),
    });
    rt.view({ leads: true, verified: ['node-e', 'node-f'], seen: 2 });
    await until(() => lines.some((l) => l.event === 'agreement-peer-unreachable'));
    expect(lines.find((l) => l.event === 'agreement-peer-unreachable')).toMatchObject({ peer: 'node-f' });
  });
});
