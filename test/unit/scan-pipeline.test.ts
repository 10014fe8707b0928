// The scan pipeline, counted rather than timed: how many addresses are in flight at once, which addresses
// get the expensive inspection, and that a /16 is walked lazily.
import { describe, expect, test } from 'bun:test';
import { discover, startDiscovery } from '../../src/discovery/discover.ts';
import type { Inspection } from '../../src/discovery/inspect-peer.ts';
import { scan, type ScanSteps } from '../../src/discovery/scan.ts';
import { parsePrefix } from '../../src/util/ipv4.ts';
import { cp } from './core-fixtures.ts';

/** Steps whose promises the test settles by hand, recording what was asked and the peak in flight. */
function manualSteps(open: Set<string>) {
  const connects: string[] = [];
  const inspects: string[] = [];
  const pending: (() => void)[] = [];
  let inFlight = 0;
  let peak = 0;
  const enter = () => {
    inFlight++;
    peak = Math.max(peak, inFlight);
  };
  const steps: ScanSteps = {
    connect: (address) => {
      connects.push(address);
      enter();
      return new Promise((resolve) => pending.push(() => (inFlight--, resolve(open.has(address) ? { open: true } : { open: false, reason: 'timeout' }))));
    },
    inspect: (address) => {
      inspects.push(address);
      enter();
      return new Promise((resolve) =>
        pending.push(() => (inFlight--, resolve({ kind: 'candidate', candidate: cp(address, 1) } satisfies Inspection))),
      );
    },
  };
  return {
    steps,
    connects,
    inspects,
    peak: () => peak,
    waiting: () => pending.length,
    /** Settles everything pending now, then lets the pipeline refill. */
    async flush() {
      for (const settle of pending.splice(0)) settle();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    },
  };
}

describe('scan pipeline', () => {
  test('at most `concurrency` addresses in flight (connect and inspection together), and only as slots free', async () => {
    const open = new Set(['10.0.0.7', '10.0.0.200']);
    const m = manualSteps(open);
    const found: string[] = [];
    const done = scan([parsePrefix('10.0.0.0/24')!], new Set(), 16, m.steps, (a) => found.push(a));
    let rounds = 0;
    let finished = false;
    void done.then(() => (finished = true));
    for (; !finished && rounds < 100; rounds++) {
      await Promise.resolve();
      // Never more pending than the bound, at any moment.
      expect(m.waiting()).toBeLessThanOrEqual(16);
      await m.flush();
    }
    const counts = await done;
    expect(m.peak()).toBe(16);
    expect(counts).toEqual({ probed: 254, open: 2 });
    expect(m.connects).toHaveLength(254);
    expect(new Set(m.connects).size).toBe(254);
    // Connect first: the TLS + gRPC inspection only where the port answered.
    expect(m.inspects.sort()).toEqual(['10.0.0.200', '10.0.0.7']);
    expect(found.sort()).toEqual(['10.0.0.200', '10.0.0.7']);
  });

  test('a /16 is walked lazily: the first batch asks for exactly `concurrency` addresses, not 65,534', async () => {
    const m = manualSteps(new Set());
    const done = scan([parsePrefix('10.1.0.0/16')!], new Set(), 4096, m.steps, () => undefined);
    await Promise.resolve();
    expect(m.connects).toHaveLength(4096);
    expect(m.waiting()).toBe(4096);
    while (m.waiting() > 0) await m.flush();
    expect(await done).toEqual({ probed: 65_534, open: 0 });
    expect(m.peak()).toBe(4096);
  });

  test('addresses named by another source are not scanned again', async () => {
    const m = manualSteps(new Set());
    const done = scan([parsePrefix('10.0.0.0/29')!], new Set(['10.0.0.1', '10.0.0.3']), 4, m.steps, () => undefined);
    while (m.waiting() > 0 || m.connects.length === 0) await m.flush();
    expect(await done).toEqual({ probed: 4, open: 0 });
    expect(m.connects).toEqual(['10.0.0.2', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
  });
});

describe('one round across sources', () => {
  test('named targets go straight to inspection, the scan connects first; a named address inside the prefix is inspected once and counted for both', async () => {
    const connects: string[] = [];
    const inspects: string[] = [];
    const steps: ScanSteps = {
      connect: async (a) => (connects.push(a), a === '10.0.0.9' ? { open: true } : { open: false, reason: 'refused' }),
      inspect: async (a): Promise<Inspection> => (inspects.push(a), { kind: 'candidate', candidate: cp(a, 1, { identity: a }) }),
    };
    const r = await discover({ self: '10.0.0.1', statics: ['10.9.9.9'], members: ['10.0.0.5', '10.9.9.9'], scan: [parsePrefix('10.0.0.0/28')!] }, 8, steps);
    expect(connects).not.toContain('10.0.0.1');
    expect(connects).not.toContain('10.0.0.5');
    expect(connects).toHaveLength(14 - 2);
    expect(inspects.sort()).toEqual(['10.0.0.1', '10.0.0.5', '10.0.0.9', '10.9.9.9']);
    expect(r.controlPlanes.map((c) => c.address).sort()).toEqual(['10.0.0.1', '10.0.0.5', '10.0.0.9', '10.9.9.9']);
    expect(r.counts).toEqual({
      self: { probed: 1, answered: 1, controlPlanes: 1 },
      static: { probed: 1, answered: 1, controlPlanes: 1 },
      members: { probed: 2, answered: 2, controlPlanes: 2 },
      scan: { probed: 14, answered: 3, controlPlanes: 3 },
    });
  });
});

describe('a round in progress', () => {
  test('candidates found so far are visible before the scan ends, and each one is announced', async () => {
    const open = new Set(['10.0.0.2']);
    const release: (() => void)[] = [];
    const steps: ScanSteps = {
      // Every dead address hangs until the test releases it, like a dropped SYN until its timeout.
      connect: (a) => (open.has(a) ? Promise.resolve({ open: true }) : new Promise((r) => release.push(() => r({ open: false, reason: 'timeout' })))),
      inspect: async (a): Promise<Inspection> => ({ kind: 'candidate', candidate: cp(a, 1, { identity: a }) }),
    };
    let announced = 0;
    const run = startDiscovery({ self: '10.0.0.1', statics: [], members: [], scan: [parsePrefix('10.0.0.0/28')!] }, 32, steps, () => announced++);
    let finished = false;
    void run.done.then(() => (finished = true));
    await run.namedDone;
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(finished).toBe(false);
    expect(announced).toBe(2);
    expect(run.partial().controlPlanes.map((c) => c.address).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
    for (const r of release.splice(0)) r();
    const whole = await run.done;
    expect(whole.counts.scan.probed).toBe(14);
  });
});
