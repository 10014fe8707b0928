// The simulator's one-to-one proxying follows apid's director and backend (see proxy.ts for the Talos source):
// what carries over (the caller's roles), what a refused or unknown target returns.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { status } from '@grpc/grpc-js';
import { mutualTlsCredentials } from '../../src/talos/channel.ts';
import { NodeClient, TalosCallError } from '../../src/talos/node-client.ts';
import { TalosSimulator } from './index.ts';

const SUBNET = '127.0.151';
let sim: TalosSimulator;

beforeAll(async () => {
  sim = await TalosSimulator.start({
    nodes: [
      { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane' },
      { name: 'cp2', ip: `${SUBNET}.2`, type: 'controlplane' },
      { name: 'm1', ip: `${SUBNET}.3`, type: 'worker', maintenance: true },
      { name: 'x1', ip: `${SUBNET}.9`, type: 'controlplane', cluster: 'other' },
      { name: 'off', ip: `${SUBNET}.4`, type: 'worker', up: false },
    ],
    bootstrapped: 'cp1',
  });
});
afterAll(async () => {
  await sim.stop();
});

function via(endpoint: string, node: string | undefined, roles: string[] = ['os:reader'], extra: Record<string, string> = {}): NodeClient {
  const cert = sim.clientCertificate({ roles, cn: 'operator' });
  const creds = mutualTlsCredentials(endpoint, { caPem: sim.osCaPem(), certPem: cert.certPem, keyPem: cert.keyPem });
  return new NodeClient(endpoint, 50000, creds, 3000, { metadata: { ...(node === undefined ? {} : { node }), ...extra } });
}

async function failure(p: Promise<unknown>): Promise<TalosCallError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TalosCallError) return e;
    throw e;
  }
  throw new Error('the call succeeded');
}

describe('one-to-one proxying through an endpoint', () => {
  test('node metadata: the target answers, not the endpoint; without it, the endpoint itself', async () => {
    const c = via(`${SUBNET}.1`, `${SUBNET}.2`);
    expect(await c.hostname()).toBe('cp2');
    c.close();
    const direct = via(`${SUBNET}.1`, undefined);
    expect(await direct.hostname()).toBe('cp1');
    direct.close();
    // The call is served (and recorded) on the target, from the endpoint's apid, never on the endpoint.
    expect(sim.calls().filter((r) => r.method === '/machine.MachineService/Hostname' && r.node === 'cp2' && r.callerCn === 'cp1')).toHaveLength(1);
  });
  test("the endpoint's own address is proxied too (to itself), and streams pass through", async () => {
    const c = via(`${SUBNET}.1`, `${SUBNET}.1`);
    expect(await c.hostname()).toBe('cp1');
    expect((await c.services()).some((s) => s.id === 'etcd')).toBe(true);
    c.close();
  });
  test("the caller's roles carry over: a reader stays a reader on the target", async () => {
    const reader = via(`${SUBNET}.1`, `${SUBNET}.2`, ['os:reader']);
    const e = await failure(reader.bootstrap());
    expect(e.code).toBe(status.PERMISSION_DENIED);
    reader.close();
    // A role claimed in metadata by a client that is no apid (no os:impersonator) is ignored.
    const forged = via(`${SUBNET}.2`, undefined, ['os:reader'], { 'talos-role': 'os:admin' });
    expect((await failure(forged.bootstrap())).code).toBe(status.PERMISSION_DENIED);
    forged.close();
  });
  test('an unknown or powered-off target: Unavailable with the dial error', async () => {
    for (const target of [`${SUBNET}.4`, `${SUBNET}.200`]) {
      const c = via(`${SUBNET}.1`, target);
      const e = await failure(c.hostname());
      expect(e.code).toBe(status.UNAVAILABLE);
      expect(e.details).toMatch(/^connection error: desc = "transport: Error while dialing: /);
      c.close();
    }
  });
  test("a target the endpoint's OS CA does not sign (maintenance mode, another cluster): Unavailable, handshake failed", async () => {
    for (const target of [`${SUBNET}.3`, `${SUBNET}.9`]) {
      const c = via(`${SUBNET}.1`, target);
      const e = await failure(c.hostname());
      expect(e.code).toBe(status.UNAVAILABLE);
      expect(e.details).toMatch(/authentication handshake failed/);
      c.close();
    }
  });
  test('a node in maintenance mode forwards nothing: PermissionDenied "no request forwarding"; its own address is served', async () => {
    const creds = (await import('../../src/cli/nodes/connect.ts')).insecureCredentials();
    const other = new NodeClient(`${SUBNET}.3`, 50000, creds, 3000, { metadata: { node: `${SUBNET}.2` } });
    const e = await failure(other.hostname());
    expect([e.code, e.details]).toEqual([status.PERMISSION_DENIED, 'no request forwarding']);
    other.close();
    const own = new NodeClient(`${SUBNET}.3`, 50000, creds, 3000, { metadata: { node: `${SUBNET}.3` } });
    expect(await own.hostname()).toBe('m1');
    own.close();
  });
  test('a target with a port: Internal "invalid target"', async () => {
    const c = via(`${SUBNET}.1`, `${SUBNET}.2:50000`);
    const e = await failure(c.hostname());
    expect(e.code).toBe(status.INTERNAL);
    expect(e.details).toBe(`invalid target "${SUBNET}.2:50000"`);
    c.close();
  });
});
