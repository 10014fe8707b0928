// apid's transport rules: mutual TLS against the cluster's OS CA, EKU exactly [clientAuth] on every
// non-CA certificate, X25519 only, TLS >= 1.2, and an apid certificate shaped like Talos's.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { status } from '@grpc/grpc-js';
import { createOsCa, issueClientCertificate } from './pki.ts';
import { expectError, SimClient } from './client.ts';
import { TalosSimulator } from './simulator.ts';

const SUBNET = '127.0.61';
let sim: TalosSimulator;

beforeAll(async () => {
  sim = await TalosSimulator.start({
    nodes: [
      { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane', bootTime: 1_700_000_123 },
      { name: 'far1', ip: `${SUBNET}.9`, type: 'controlplane', cluster: 'other' },
    ],
  });
});
afterAll(async () => {
  await sim.stop();
});

function client(cert: { certPem: string; keyPem: string }, node = 'cp1', caPem = sim.osCaPem()): SimClient {
  return new SimClient(sim.node(node), { caPem, cert });
}

describe('client certificates', () => {
  test('EKU exactly clientAuth with O=os:reader reads Version (built empty) and SystemStat (exact boot time)', async () => {
    const c = client(sim.clientCertificate({ roles: ['os:reader'], cn: 'reader-1' }));
    try {
      const version = (await c.call('Version')) as { messages: { version: { tag: string; built: string }; features: { rbac: boolean } }[] };
      expect(version.messages[0]?.version.tag).toBe('v1.13.0');
      expect(version.messages[0]?.version.built).toBe('');
      expect(version.messages[0]?.features.rbac).toBe(true);
      const stat = (await c.call('SystemStat')) as { messages: { boot_time: string }[] };
      expect(stat.messages[0]?.boot_time).toBe('1700000123');
    } finally {
      c.close();
    }
  });

  test('serverAuth+clientAuth is refused at connection level and recorded', async () => {
    const cert = sim.clientCertificate({ roles: ['os:admin'], cn: 'dual-eku', extKeyUsage: ['serverAuth', 'clientAuth'] });
    const c = client(cert);
    try {
      const err = await expectError(c.call('Version'));
      expect(err.code).toBe(status.UNAVAILABLE);
    } finally {
      c.close();
    }
    const refusal = sim.tlsRefusals().find((r) => r.cn === 'dual-eku');
    expect(refusal?.node).toBe('cp1');
    expect(refusal?.reason).toContain('missing the client auth extended key usage');
    expect(refusal?.subject).toBe('CN=dual-eku,O=os:admin');
    // The method never ran.
    expect(sim.callsFrom('dual-eku')).toHaveLength(0);
  });

  test('a certificate without any EKU is refused', async () => {
    const c = client(sim.clientCertificate({ roles: ['os:reader'], cn: 'no-eku', extKeyUsage: [] }));
    try {
      expect((await expectError(c.call('Version'))).code).toBe(status.UNAVAILABLE);
    } finally {
      c.close();
    }
    expect(sim.tlsRefusals().some((r) => r.cn === 'no-eku' && r.reason.includes('extended key usage'))).toBe(true);
  });

  test('a certificate signed by another CA is refused and recorded', async () => {
    const stranger = createOsCa();
    const cert = issueClientCertificate(stranger, { roles: ['os:admin'], cn: 'stranger' });
    const c = client(cert);
    try {
      expect((await expectError(c.call('Version'))).code).toBe(status.UNAVAILABLE);
    } finally {
      c.close();
    }
    const refusal = sim.tlsRefusals().find((r) => r.cn === 'stranger');
    expect(refusal?.reason).toContain('certificate signed by unknown authority');
  });

  test('a client without a certificate is refused and recorded', async () => {
    const before = sim.tlsRefusals().length;
    const c = new SimClient(sim.node('cp1'), { caPem: '' });
    try {
      expect((await expectError(c.call('Version'))).code).toBe(status.UNAVAILABLE);
    } finally {
      c.close();
    }
    expect(sim.tlsRefusals().slice(before).some((r) => r.reason === "tls: client didn't provide a certificate" && r.subject === undefined)).toBe(true);
  });

  test('a certificate of another simulated cluster is refused by this one and accepted by its own', async () => {
    const otherCert = sim.clientCertificate({ group: 'other', roles: ['os:reader'], cn: 'other-reader' });
    const wrong = client(otherCert, 'cp1');
    const right = client(otherCert, 'far1', sim.osCaPem('other'));
    try {
      expect((await expectError(wrong.call('Version'))).code).toBe(status.UNAVAILABLE);
      expect(await right.call('Hostname')).toEqual({ messages: [{ metadata: null, hostname: 'far1' }] });
    } finally {
      wrong.close();
      right.close();
    }
  });
});

function handshake(options: tls.ConnectionOptions): Promise<{ ok: true; socket: tls.TLSSocket } | { ok: false; error: string }> {
  const cert = sim.clientCertificate({ roles: ['os:reader'], cn: 'raw-tls' });
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: `${SUBNET}.1`,
      port: 50000,
      servername: 'cp1',
      ca: sim.osCaPem(),
      cert: cert.certPem,
      key: cert.keyPem,
      ALPNProtocols: ['h2'],
      checkServerIdentity: () => undefined,
      ...options,
    });
    socket.once('secureConnect', () => resolve({ ok: true, socket }));
    socket.once('error', (e) => resolve({ ok: false, error: e.message }));
  });
}

describe('TLS parameters', () => {
  test('a client offering only P-256 for key exchange fails the handshake; X25519 works with ALPN h2', async () => {
    const p256 = await handshake({ ecdhCurve: 'P-256' });
    expect(p256.ok).toBe(false);
    const x25519 = await handshake({ ecdhCurve: 'X25519' });
    expect(x25519.ok).toBe(true);
    if (x25519.ok) {
      expect(x25519.socket.alpnProtocol).toBe('h2');
      x25519.socket.destroy();
    }
    await sim.waitUntil(() => sim.tlsRefusals().some((r) => /NO_SHARED_GROUP|handshake/i.test(r.reason)), 2000, 'the P-256 refusal to be recorded');
  });

  test('TLS 1.2 clients are served, with X25519 only there too', async () => {
    const v12 = await handshake({ maxVersion: 'TLSv1.2', ecdhCurve: 'X25519' });
    expect(v12.ok).toBe(true);
    if (v12.ok) {
      expect(v12.socket.getProtocol()).toBe('TLSv1.2');
      v12.socket.destroy();
    }
    expect((await handshake({ maxVersion: 'TLSv1.2', ecdhCurve: 'P-256' })).ok).toBe(false);
  });

  test("apid's certificate: OS CA signed, CN = hostname, IP SANs node + 127.0.0.1, serverAuth only, 24 h", async () => {
    const result = await handshake({ ecdhCurve: 'X25519' });
    if (!result.ok) throw new Error(result.error);
    const peer = result.socket.getPeerX509Certificate();
    result.socket.destroy();
    if (!peer) throw new Error('no server certificate');
    const ca = new X509Certificate(sim.osCaPem());
    expect(peer.verify(ca.publicKey)).toBe(true);
    expect(peer.subject).toBe('CN=cp1');
    expect(peer.subjectAltName).toContain(`IP Address:${SUBNET}.1`);
    expect(peer.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(peer.subjectAltName).toContain('DNS:cp1');
    expect(peer.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    const validity = Date.parse(peer.validTo) - Date.parse(peer.validFrom);
    expect(Math.abs(validity - 24 * 3600_000)).toBeLessThanOrEqual(120_000);
    expect(ca.subject).toBe('O=talos');
    expect(ca.ca).toBe(true);
    // Talos's secrets bundle: a 10-year CA (secrets.CAValidityTime, 87600 h).
    expect(Date.parse(ca.validTo) - Date.parse(ca.validFrom)).toBeGreaterThan(9.9 * 365 * 24 * 3600_000);
  });
});
