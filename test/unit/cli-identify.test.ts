// identifyNode against real handshakes: an apid that refuses a client without a certificate with a TLS
// alert inside the handshake (as Go's crypto/tls does, certificate_required under TLS 1.3), the
// simulator's configured and maintenance nodes, and an address where nothing listens.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import tls from 'node:tls';
import { insecureStage } from '../../src/cli/nodes/connect.ts';
import { identifyNode, type TrustedCa } from '../../src/cli/nodes/identify-node.ts';
import { createOsCa, issueApidCertificate, TalosSimulator } from '../sim/index.ts';

const SUBNET = '127.0.160';
const alertCa = createOsCa();
let alertServer: tls.Server;
let sim: TalosSimulator;

beforeAll(async () => {
  const cert = issueApidCertificate(alertCa, { hostname: 'alert', ip: `${SUBNET}.9` });
  // requestCert + rejectUnauthorized: the TLS stack itself aborts a client without a certificate.
  alertServer = tls.createServer({ key: cert.keyPem, cert: cert.certPem, ca: alertCa.certPem, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'], ecdhCurve: 'X25519' }, (s) => s.destroy());
  alertServer.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => alertServer.listen(50000, `${SUBNET}.9`, resolve));
  sim = await TalosSimulator.start({
    nodes: [
      { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane' },
      { name: 'w1', ip: `${SUBNET}.2`, type: 'worker', maintenance: true },
    ],
  });
});
afterAll(async () => {
  alertServer.close();
  await sim.stop();
});

describe('identifyNode', () => {
  test('an apid that answers a certificate-less client with a TLS alert: configured, by its certificate', async () => {
    // The alert reaches grpc-js as its own text, not the simulator's "Failed to connect".
    const look = await insecureStage(`${SUBNET}.9`, 2_000);
    expect(look.kind).toBe('failed');
    expect(look.kind === 'failed' && look.detail).not.toContain('Failed to connect');
    const ca: TrustedCa = { pem: alertCa.certPem, what: 'the OS CA in alert.yaml' };
    expect(await identifyNode(`${SUBNET}.9`, [ca], 2_000)).toMatchObject({ kind: 'configured', detail: 'its apid certificate chains to the OS CA in alert.yaml' });
    // Without that CA nothing proves what it is.
    expect((await identifyNode(`${SUBNET}.9`, [{ pem: sim.osCaPem(), what: 'another CA' }], 2_000)).kind).toBe('unknown');
  });

  test('the simulator: a configured node by its OS CA, a node in maintenance by its stage, nothing listening', async () => {
    const ca: TrustedCa = { pem: sim.osCaPem(), what: 'the OS CA in cp1.yaml' };
    expect((await identifyNode(`${SUBNET}.1`, [ca], 2_000)).kind).toBe('configured');
    expect(await identifyNode(`${SUBNET}.2`, [ca], 2_000)).toEqual({ kind: 'maintenance' });
    expect(await identifyNode(`${SUBNET}.3`, [ca], 2_000)).toEqual({ kind: 'unreachable', detail: `connect ECONNREFUSED ${SUBNET}.3:50000` });
  });
});
