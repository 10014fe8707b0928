// Both connect probes against real loopback sockets: a listening port is open, a closed one is not, and
// neither leaves a socket behind. (Timeouts of dropped SYNs are measured by the benchmark, in its own
// network namespace.)
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readdirSync } from 'node:fs';
import { ConnectPool } from '../../src/discovery/connect-pool.ts';
import { probeTcp } from '../../src/discovery/tcp-probe.ts';

const HOST = '127.0.115.1';
const OPEN_PORT = 50115;
const CLOSED_PORT = 50116;
let server: { stop(closeActive?: boolean): void } | undefined;
let accepted = 0;

beforeAll(() => {
  server = Bun.listen({ hostname: HOST, port: OPEN_PORT, socket: {
      open: (s) => {
        accepted++;
        s.end();
      },
      data: () => undefined,
    } });
});
afterAll(() => server?.stop(true));

const fdCount = () => readdirSync('/proc/self/fd').length;

const pool = ConnectPool.create();
const probes = {
  'libc pool': (address: string, port: number) => (pool as ConnectPool).connect(address, port, 2000),
  'node:net': (address: string, port: number) => probeTcp(address, port, 2000),
};

describe.each(Object.entries(probes))('%s', (_, probe) => {
  test('open, refused, and nothing left open', async () => {
    expect(pool).toBeDefined();
    const before = fdCount();
    const acceptedBefore = accepted;
    const results = await Promise.all([
      ...Array.from({ length: 20 }, () => probe(HOST, OPEN_PORT)),
      ...Array.from({ length: 20 }, () => probe(HOST, CLOSED_PORT)),
    ]);
    expect(results.slice(0, 20).every((r) => r.open)).toBe(true);
    expect(results.slice(20).map((r) => (r.open ? 'open' : r.reason))).toEqual(Array(20).fill('ECONNREFUSED'));
    await Bun.sleep(50);
    expect(accepted - acceptedBefore).toBe(20);
    expect(fdCount()).toBeLessThanOrEqual(before);
  });
});
