// A channel closed before grpc-js has delivered its name resolution must not leave a connection behind.
// grpc-js resolves an IP target in a setImmediate its destroy() does not cancel; Bun runs expired timers
// before immediates, so a call whose deadline (or any timer) closes the client in the same loop turn used to
// leave one ESTABLISHED connection per occurrence, for ever (the soak's socket, fd and timer growth).
// src/talos/close-channel.ts defers the close past that immediate; this test fails without it.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientIdentities, clientCommonName } from '../../src/pki/client-identities.ts';
import { controlPlaneCA } from '../../src/pki/machine-ca.ts';
import { parseMachineConfig } from '../../src/pki/machine-config.ts';
import { mutualTlsCredentials } from '../../src/talos/channel.ts';
import { NodeClient } from '../../src/talos/node-client.ts';
import { TalosSimulator } from '../sim/index.ts';

const SUBNET = '127.0.157';
const ADDRESS = `${SUBNET}.1`;
const ROUNDS = 40;
let sim: TalosSimulator;
let dir: string;
let ids: ClientIdentities;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ab-close-leak-'));
  sim = await TalosSimulator.start({ hostRootDir: dir, nodes: [{ name: 'cp1', ip: ADDRESS, type: 'controlplane' }] });
  ids = new ClientIdentities(controlPlaneCA(parseMachineConfig(readFileSync(join(dir, 'cp1/system/state/config.yaml'), 'utf8'))), clientCommonName(ADDRESS));
});
afterAll(async () => {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** This process's ESTABLISHED TCP connections TO apid (client side only: the simulator runs in-process). */
function clientConnectionsToApid(): number {
  const apid = `${[...ADDRESS.split('.')].reverse().map((o) => Number(o).toString(16).padStart(2, '0')).join('').toUpperCase()}:C350`;
  return readFileSync('/proc/self/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[2] === apid && f[3] === '01').length;
}

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // The loop stalls, as under load: the timer below is expired when it turns again.
  }
}

test(`${ROUNDS} clients closed by a timer before their name resolution was delivered leave no connection`, async () => {
  for (let i = 0; i < ROUNDS; i++) {
    // Started from an immediate (as grpc-js and I/O callbacks often are), the call's resolution immediate
    // runs on the next loop turn, after timers that expired meanwhile: the timer that closes the client
    // fires first, as a call's deadline timer does on a loop stalled by load.
    const call = await new Promise<Promise<unknown>>((started) =>
      setImmediate(() => {
        const client = new NodeClient(ADDRESS, 50000, mutualTlsCredentials(ADDRESS, ids.reader()), 2_000);
        started(client.hostname().catch(() => undefined));
        setTimeout(() => client.close(), 0);
        busyWait(3);
      }),
    );
    await call;
  }
  // Closed connections go within a few loop turns; a leaked one stays.
  let open = clientConnectionsToApid();
  for (let i = 0; i < 20 && open > 0; i++) {
    await Bun.sleep(100);
    open = clientConnectionsToApid();
  }
  expect(open).toBe(0);
});

test('a client closed right after its call answered leaves no connection either', async () => {
  for (let i = 0; i < 10; i++) {
    const client = new NodeClient(ADDRESS, 50000, mutualTlsCredentials(ADDRESS, ids.reader()), 2_000);
    expect(await client.hostname()).toBe('cp1');
    client.close();
  }
  let open = clientConnectionsToApid();
  for (let i = 0; i < 20 && open > 0; i++) {
    await Bun.sleep(100);
    open = clientConnectionsToApid();
  }
  expect(open).toBe(0);
});
