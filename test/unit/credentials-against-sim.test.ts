// The daemon's own credentials and channels against the simulator's apid rules: the minted os:reader
// certificate is accepted, the role is enforced, a serverAuth+clientAuth certificate is refused at the
// handshake, and the dialled address must be in the apid certificate.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { status } from '@grpc/grpc-js';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeTls } from '../../src/discovery/tls-probe.ts';
import { ClientIdentities, clientCommonName } from '../../src/pki/client-identities.ts';
import { controlPlaneCA, type MachineCA } from '../../src/pki/machine-ca.ts';
import { parseMachineConfig } from '../../src/pki/machine-config.ts';
import { buildCertificate } from '../../src/pki/x509.ts';
import { mutualTlsCredentials, type ClientIdentity } from '../../src/talos/channel.ts';
import { NodeClient, TalosCallError } from '../../src/talos/node-client.ts';
import { TalosSimulator } from '../sim/index.ts';

const SUBNET = '127.0.82';
let sim: TalosSimulator;
let dir: string;
let ca: MachineCA;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ab-cred-'));
  sim = await TalosSimulator.start({
    hostRootDir: dir,
    v1alpha1Last: true,
    nodes: [
      { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane' },
      { name: 'other', ip: `${SUBNET}.2`, type: 'controlplane', cluster: 'other' },
    ],
  });
  // The CA comes from the node's own Talos-format config, through the daemon's parser.
  ca = controlPlaneCA(parseMachineConfig(readFileSync(join(dir, 'cp1/system/state/config.yaml'), 'utf8')));
});
afterAll(async () => {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return status.OK;
  } catch (e) {
    if (e instanceof TalosCallError) return e.code;
    throw e;
  }
}

function client(address: string, identity: ClientIdentity, verifyAs = address): NodeClient {
  return new NodeClient(address, 50000, mutualTlsCredentials(verifyAs, identity), 3_000);
}

describe('minted certificates against apid rules', () => {
  test('os:reader reads, and is refused Bootstrap with "not authorized"', async () => {
    const ids = new ClientIdentities(ca, clientCommonName(`${SUBNET}.1`));
    const c = client(`${SUBNET}.1`, ids.reader());
    try {
      expect((await c.version()).tag).toMatch(/^v1\./);
      expect(await c.bootTime()).toBeGreaterThan(0n);
      expect(await codeOf(c.bootstrap())).toBe(status.PERMISSION_DENIED);
    } finally {
      c.close();
    }
    const denied = sim.bootstrapCalls().filter((b) => b.callerCn === clientCommonName(`${SUBNET}.1`));
    expect(denied.map((b) => b.codeName)).toEqual(['PERMISSION_DENIED']);
  });

  test('EKU serverAuth+clientAuth is refused at the handshake', async () => {
    const key = generateKeyPairSync('ed25519');
    const now = Date.now();
    const both = buildCertificate({
      subject: [{ type: 'O', value: 'os:reader' }, { type: 'CN', value: 'both-eku' }],
      issuerNameDer: ca.issuer.subjectNameDer,
      publicKey: key.publicKey,
      signingKey: ca.key,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 3_600_000),
      isCA: false,
      keyUsage: ['digitalSignature'],
      extKeyUsage: ['serverAuth', 'clientAuth'],
    });
    const identity = { caPem: ca.certPem, certPem: both.pem, keyPem: key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
    const c = client(`${SUBNET}.1`, identity);
    try {
      expect(await codeOf(c.version())).toBe(status.UNAVAILABLE);
    } finally {
      c.close();
    }
    expect(sim.tlsRefusals().some((r) => r.cn === 'both-eku')).toBe(true);
  });

  test('the dialled address must be in the apid certificate', async () => {
    const ids = new ClientIdentities(ca, 'san-check');
    // Dial cp1 but require the certificate to name another address, as if cp1 answered for it.
    const c = client(`${SUBNET}.1`, ids.reader(), `${SUBNET}.77`);
    try {
      expect(await codeOf(c.version())).toBe(status.UNAVAILABLE);
    } finally {
      c.close();
    }
  });

  test('the TLS probe tells trusted, foreign and closed apart', async () => {
    const reader = new ClientIdentities(ca, 'probe').reader();
    expect((await probeTls(`${SUBNET}.1`, 50000, reader, 2_000)).kind).toBe('trusted');
    const foreign = await probeTls(`${SUBNET}.2`, 50000, reader, 2_000);
    expect(foreign.kind).toBe('untrusted');
    expect((await probeTls(`${SUBNET}.3`, 50000, reader, 2_000)).kind).toBe('closed');
  });
});

describe('ClientIdentities', () => {
  test('keeps a certificate while fresh and re-mints once a third of its life remains', () => {
    let now = new Date();
    const ids = new ClientIdentities(ca, 'clock', () => now);
    const first = ids.reader();
    now = new Date(now.getTime() + 15 * 3_600_000);
    expect(ids.reader().certPem).toBe(first.certPem);
    now = new Date(now.getTime() + 2 * 3_600_000);
    const renewed = ids.reader();
    expect(renewed.certPem).not.toBe(first.certPem);
    expect(renewed.keyPem).not.toBe(first.keyPem);
    // Reader and admin are distinct certificates with distinct keys.
    expect(ids.admin().keyPem).not.toBe(renewed.keyPem);
  });
});
