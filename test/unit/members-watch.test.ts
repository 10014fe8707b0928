// The members source against the simulator's apid: List + Watch of Members, the doorbell rung by a new
// control-plane member, "unknown" (never "no members") while apid does not answer, and reconnection.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { status } from '@grpc/grpc-js';
import { MembersWatch, type MembersSnapshot } from '../../src/discovery/members-watch.ts';
import { createLogger } from '../../src/log.ts';
import { mutualTlsCredentials } from '../../src/talos/channel.ts';
import { Wakeup } from '../../src/util/wakeup.ts';
import { TalosSimulator } from '../sim/index.ts';

const SUBNET = '127.0.113';
const self = `${SUBNET}.1`;
let sim: TalosSimulator;
const stop = new AbortController();
const lines: { event?: string; msg: string }[] = [];

beforeAll(async () => {
  sim = await TalosSimulator.start({
    nodes: [
      { name: 'cp1', ip: self, type: 'controlplane' },
      { name: 'cp2', ip: `${SUBNET}.2`, type: 'controlplane' },
      { name: 'w1', ip: `${SUBNET}.3`, type: 'worker' },
      { name: 'cp3', ip: `${SUBNET}.4`, type: 'controlplane', up: false },
    ],
  });
});
afterAll(async () => {
  stop.abort();
  await sim.stop();
});

function watchOf(wakeup: Wakeup): MembersWatch {
  const cert = sim.clientCertificate({ roles: ['os:reader'], cn: 'members-test' });
  const identity = { caPem: sim.osCaPem(), certPem: cert.certPem, keyPem: cert.keyPem };
  const log = createLogger('debug', { write: (s: string) => void lines.push(JSON.parse(s) as { event?: string; msg: string }) });
  return new MembersWatch({
    self,
    port: 50000,
    credentials: () => mutualTlsCredentials(self, identity),
    listDeadlineMs: 1000,
    log,
    wakeup,
    signal: stop.signal,
    random: () => 0,
    backoff: { initialMs: 50, maxMs: 200, factor: 2 },
  });
}

const cpAddresses = (s: MembersSnapshot) =>
  s.kind === 'known' ? s.members.filter((m) => m.machineType === 'controlplane').flatMap((m) => m.addresses).sort() : s.kind;

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await probe();
    if (ok(v)) return v;
    await Bun.sleep(25);
  }
  throw new Error(`never: ${what}`);
}

describe('members source', () => {
  const wakeup = new Wakeup();
  let watch: MembersWatch;
  beforeAll(() => {
    watch = watchOf(wakeup);
  });

  test('before the Watch has synced a List answers; once synced, the Watch does; the first sync rings with the peers', async () => {
    const first = await watch.snapshot();
    expect(first).toMatchObject({ kind: 'known', via: 'list' });
    expect(cpAddresses(first)).toEqual([self, `${SUBNET}.2`]);
    watch.start();
    const synced = await until(() => watch.snapshot(), (s) => s.kind === 'known' && s.via === 'watch', 'watch synced');
    expect(cpAddresses(synced)).toEqual([self, `${SUBNET}.2`]);
    // Workers are members too, but their addresses are never rung about.
    expect(wakeup.take()).toBe(`member ${SUBNET}.2`);
  });

  test('a control plane that comes up later rings the doorbell at once', async () => {
    const woken = wakeup.sleep(60_000, stop.signal);
    await sim.up('cp3');
    expect(await woken).toBe(`member ${SUBNET}.4`);
    expect(cpAddresses(await watch.snapshot())).toContain(`${SUBNET}.4`);
  });

  test('apid down: unknown with the reason, never an empty member list; back up: the Watch reconnects', async () => {
    sim.down('cp1');
    const down = await until(() => watch.snapshot(), (s) => s.kind === 'unknown', 'unknown while apid is down');
    expect(down.kind).toBe('unknown');
    if (down.kind === 'unknown') expect(down.reason).toMatch(/watch: .+; list: .+/);
    expect(lines.some((l) => l.event === 'members-watch-retry')).toBe(true);
    await sim.up('cp1');
    const back = await until(() => watch.snapshot(), (s) => s.kind === 'known' && s.via === 'watch', 'watch back');
    expect(cpAddresses(back)).toEqual([self, `${SUBNET}.2`, `${SUBNET}.4`]);
    // Nothing new came back with it: no ring for addresses already announced.
    expect(wakeup.take()).toBeUndefined();
  });

  test('a failing Watch with a working List still gives members (by List), and the Watch keeps retrying', async () => {
    sim.failMethod('cp1', 'Watch', status.UNAVAILABLE, 1_000);
    sim.down('cp1');
    await sim.up('cp1');
    const listed = await until(() => watch.snapshot(), (s) => s.kind === 'known' && s.via === 'list', 'list fallback');
    expect(cpAddresses(listed)).toEqual([self, `${SUBNET}.2`, `${SUBNET}.4`]);
    const failedWatches = sim.calls().filter((c) => c.node === 'cp1' && c.method === '/cosi.resource.State/Watch' && c.code === status.UNAVAILABLE).length;
    await until(
      async () => sim.calls().filter((c) => c.node === 'cp1' && c.method === '/cosi.resource.State/Watch' && c.code === status.UNAVAILABLE).length,
      (n) => n > failedWatches,
      'another watch attempt',
    );
    sim.node('cp1').faults.clear();
  });
});
