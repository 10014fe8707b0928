// The secret scan itself: it finds every form of every secret it looks for, passes clean output, and a
// deliberately leaky build of the daemon (test/e2e/leaky/leaky-main.ts: a debug log of the parsed machine
// config) makes a harness's close() fail. Every other end-to-end test and the demo run the same scan on
// everything they print (cluster-harness.ts, operator-harness.ts, scripts/demo*.ts).
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClusterIdentity } from '../sim/cluster-identity.ts';
import { startCluster, type Harness } from './cluster-harness.ts';
import { DaemonProcess, loopbackDaemonEnv } from './daemon-process.ts';
import { assertNoSecrets, linesOf, scanForSecrets, secretNeedles } from './secret-scan.ts';

const SUBNET = '127.0.132';

describe('the scan finds each form of each secret', () => {
  const id = createClusterIdentity('default');
  const needles = secretNeedles(id);
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const pemBody = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const seed = id.osCa.key.export({ type: 'pkcs8', format: 'der' }).subarray(-32);
  const cases: [string, string, string][] = [
    ['a PEM block (certificate)', JSON.stringify({ msg: 'x', cert: id.osCa.certPem }), 'a PEM block'],
    ['the OS CA key as the machine config holds it', `{"msg":"ca","key":"${b64(id.osCa.talosKeyPem)}"}`, 'OS CA key (base64 of the PEM, as in the machine config)'],
    ['the OS CA key PEM body', `key material ${pemBody(id.osCa.talosKeyPem).slice(0, 40)}`, 'OS CA key (PEM body)'],
    ['the OS CA key raw bytes', `bytes: ${seed.toString('latin1')}`, 'OS CA key (raw bytes)'],
    ['the OS CA key as hex', `seed=${seed.toString('hex')}`, 'OS CA key (hex)'],
    ['the OS CA key as a Buffer', JSON.stringify({ k: seed }), 'OS CA key (as a Buffer\'s decimal list)'],
    ['the end of the etcd CA key', `...${b64(id.etcdCa.talosKeyPem).slice(-30)}`, 'etcd CA key (base64 of the PEM, as in the machine config)'],
    ['the machine token', `{"token":"${id.machineToken}"}`, 'machine token'],
    ['the cluster secret', `secret ${id.clusterSecret}`, 'cluster secret'],
  ];
  test.each(cases)('%s', (_name, line, what) => {
    const hits = scanForSecrets(linesOf('probe', line), needles);
    expect(hits.map((h) => h.what)).toContain(what);
  });

  test('ordinary log lines, certificates’ fingerprints and another cluster’s secrets are no hit', () => {
    const other = createClusterIdentity('other');
    const lines = linesOf('probe', [
      JSON.stringify({ level: 'info', msg: 'waiting for quorum: 1 of 3 control planes', event: 'decision' }),
      JSON.stringify({ level: 'info', msg: 'client certificate minted', notAfter: new Date().toISOString(), cn: 'autobootstrap-127.0.0.1' }),
      `{"token":"${other.machineToken}"}`,
    ]);
    expect(scanForSecrets(lines, needles)).toEqual([]);
    expect(() => assertNoSecrets(lines, [id])).not.toThrow();
  });

  test('the error names the source, the line and what leaked, never the secret', () => {
    let message = '';
    try {
      assertNoSecrets(linesOf('cp1 daemon stdout', ['clean', `t=${id.machineToken}`]), [id]);
    } catch (e) {
      message = String(e);
    }
    expect(message).toContain('cp1 daemon stdout line 2: machine token');
    expect(message).not.toContain(id.machineToken);
  });
});

// The leaky binary: compiled here, apart from dist/, so no make target ever ships it.
const work = mkdtempSync(join(tmpdir(), 'ab-leaky-'));
const LEAKY = join(work, 'autobootstrap-leaky');
let h: Harness | undefined;

beforeAll(() => {
  const entry = join(import.meta.dir, 'leaky/leaky-main.ts');
  const b = Bun.spawnSync([process.execPath, 'build', '--compile', entry, '--outfile', LEAKY], { stdout: 'pipe', stderr: 'pipe' });
  if (b.exitCode !== 0) throw new Error(`building the leaky binary failed: ${b.stderr.toString()}`);
});
afterEach(async () => {
  await h?.close().catch(() => undefined);
  h = undefined;
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function oneNode(command: string): Promise<{ h: Harness; d: DaemonProcess }> {
  const harness = await startCluster({ subnet: SUBNET, quorum: 1, nodes: [{ name: 'cp1', host: 1, type: 'controlplane' }] });
  const env = loopbackDaemonEnv({ quorum: 1, nodeIp: harness.ip('cp1'), subnet: SUBNET, hostRoot: harness.sim.hostRoot('cp1') as string });
  const d = new DaemonProcess('cp1', env, [command, 'run']);
  harness.daemons.push(d);
  return { h: harness, d };
}

describe('a leaky build fails the check', () => {
  test('the real binary: bootstraps, close() passes the scan', async () => {
    const r = await oneNode(join(import.meta.dir, '../../dist/autobootstrap'));
    h = r.h;
    expect(await r.d.exitWithin(40_000)).toBe(0);
    const closing = r.h;
    h = undefined;
    await closing.close();
  }, 60_000);

  test('the leaky binary: same run, close() fails naming the machine token, the CA keys and the cluster secret', async () => {
    const r = await oneNode(LEAKY);
    h = r.h;
    expect(await r.d.exitWithin(40_000)).toBe(0);
    expect(r.d.events('bootstrap-done')).toHaveLength(1);
    const closing = r.h;
    h = undefined;
    let message = '';
    await closing.close().catch((e: unknown) => (message = String(e)));
    expect(message).toContain('secret in the output');
    for (const what of ['cp1 daemon stdout line 1: machine token', 'OS CA key (base64 of the PEM, as in the machine config)', 'etcd CA key', 'cluster secret']) {
      expect(message).toContain(what);
    }
  }, 60_000);
});
