// Node-level fidelity: extension services under machined's runner, apid certificate regeneration, the
// node clock (bootTimeout, steps after sync), and per-address partitions.
import { afterEach, describe, expect, test } from 'bun:test';
import { X509Certificate } from 'node:crypto';
import { mutualTlsCredentials } from '../../src/talos/channel.ts';
import { NodeClient } from '../../src/talos/node-client.ts';
import { TIME_STATUS } from '../../src/talos/resources.ts';
import { processExited, startedState } from './extension-services.ts';
import { TalosSimulator } from './simulator.ts';
import type { NodeSpec, SimulatorOptions } from './types.ts';

const SUBNET = '127.0.202';
let sim: TalosSimulator | undefined;
const clients: NodeClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await sim?.stop();
  sim = undefined;
});

async function start(nodes: NodeSpec[], options: Partial<SimulatorOptions> = {}): Promise<TalosSimulator> {
  sim = await TalosSimulator.start({ nodes, ...options });
  return sim;
}
function client(s: TalosSimulator, address: string, cn = 'test'): NodeClient {
  const cert = s.clientCertificate({ roles: ['os:reader'], cn });
  const c = new NodeClient(address, 50000, mutualTlsCredentials(address, { caPem: s.osCaPem(), certPem: cert.certPem, keyPem: cert.keyPem }), 2_000);
  clients.push(c);
  return c;
}
const cp = (n: number, extra: Partial<NodeSpec> = {}): NodeSpec => ({ name: `cp${n}`, ip: `${SUBNET}.${n}`, type: 'controlplane', ...extra });

describe('extension services under the service runner', () => {
  test('untilSuccess: exit 0 is Finished; non-zero is Waiting, then restarted Running', () => {
    const s0 = startedState('ext-x', 'untilSuccess');
    expect(processExited(s0, 'ext-x', 0).next.state).toBe('Finished');
    expect(processExited(s0, 'ext-x', 0).next.events.at(-1)?.msg).toBe('Service finished successfully');
    const failed = processExited(s0, 'ext-x', 3, 'boom');
    expect(failed).toMatchObject({ restarts: true, next: { state: 'Waiting' } });
    expect(failed.next.events.at(-1)?.msg).toBe('Error running Restart(UntilSuccess, Containerd(ext-x)), going to restart until it succeeds: task "ext-x" failed: exit code 3 (last log "boom")');
  });
  test('never: non-zero is Failed for good; always: restarts after either', () => {
    expect(processExited(startedState('ext-x', 'never'), 'ext-x', 1)).toMatchObject({ restarts: false, next: { state: 'Failed' } });
    expect(processExited(startedState('ext-x', 'always'), 'ext-x', 0)).toMatchObject({ restarts: true, next: { state: 'Waiting' } });
  });
  test('seen through ServiceList: Finished after exit 0; Waiting then Running again after a failure', async () => {
    const s = await start([cp(1)]);
    const c = client(s, `${SUBNET}.1`);
    const ext = async () => (await c.services()).find((x) => x.id === 'ext-autobootstrap');
    expect((await ext())?.state).toBe('Running');
    s.extensionExited('cp1', 'autobootstrap', 1, { restartIntervalMs: 100 });
    expect((await ext())?.state).toBe('Waiting');
    await Bun.sleep(200);
    expect((await ext())?.state).toBe('Running');
    s.extensionExited('cp1', 'autobootstrap', 0);
    expect(await ext()).toMatchObject({ state: 'Finished', lastEvent: 'Service finished successfully' });
  });
});

describe('apid certificate regeneration', () => {
  test('new key and serial, same names; the node identity stays', async () => {
    const s = await start([cp(1)]);
    const before = new X509Certificate(s.node('cp1').apidCert.certPem);
    await s.regenerateApidCertificate('cp1', 'test');
    const after = new X509Certificate(s.node('cp1').apidCert.certPem);
    expect(after.fingerprint256).not.toBe(before.fingerprint256);
    expect(after.subjectAltName).toBe(before.subjectAltName);
    // New handshakes present the new certificate.
    const { serverCertificate } = await import('../../src/discovery/tls-probe.ts');
    const seen = await serverCertificate(`${SUBNET}.1`, 50000, 2000);
    expect(seen.kind === 'certificate' && seen.chain[0]?.fingerprint256).toBe(after.fingerprint256);
    expect(await client(s, `${SUBNET}.1`).hostname()).toBe('cp1');
  });
  test('a time-sync change regenerates it', async () => {
    const s = await start([cp(1, { timeSynced: false })]);
    const before = s.node('cp1').apidCert.certPem;
    s.setFlags('cp1', { timeSynced: true });
    await s.waitUntil(() => s.timeline().some((e) => e.kind === 'apid-cert-regenerated'), 2000, 'regeneration');
    expect(s.node('cp1').apidCert.certPem).not.toBe(before);
  });
});

describe('the node clock', () => {
  test('unsynced, bootTimeout passes: synced; a later step moves the boot time SystemStat reports', async () => {
    const s = await start([cp(1, { timeSynced: false, timeBootTimeoutMs: 100, bootTime: 1_700_000_000 })]);
    await s.waitUntil(() => s.node('cp1').timeSynced, 2000, 'bootTimeout');
    const c = client(s, `${SUBNET}.1`);
    expect((await c.getResource(TIME_STATUS))?.spec).toMatchObject({ synced: true });
    s.stepClock('cp1', 7_000);
    expect(await c.bootTime()).toBe(1_700_000_007n);
  });
});

describe('asymmetric partitions per address', () => {
  test('one address refuses one caller; the other address and other callers still answer', async () => {
    const s = await start([cp(1, { addresses: [{ ip: `${SUBNET}.101` }] })]);
    s.partitionAddress('cp1', `${SUBNET}.1`, ['blocked']);
    expect(await client(s, `${SUBNET}.1`, 'blocked').hostname().catch(() => 'refused')).toBe('refused');
    expect(await client(s, `${SUBNET}.101`, 'blocked').hostname()).toBe('cp1');
    expect(await client(s, `${SUBNET}.1`, 'other').hostname()).toBe('cp1');
  });
});
