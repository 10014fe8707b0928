// The runtime's one ordering rule (src/agreement/runtime.ts): the durable state is saved BEFORE a reply is
// returned or a message leaves. Checked on the real AgreementRuntime over a store that records what is "on
// disk", and on a broken variant whose store acknowledges a save before the write reaches disk (the reply
// leaves first; a crash then loses the promise): the same checks must catch it.
import { describe, expect, test } from 'bun:test';
import pino from 'pino';
import { bootstrapGate } from '../../src/agreement/core/bootstrap-gate.ts';
import type { Ballot } from '../../src/agreement/core/ballot.ts';
import type { Message } from '../../src/agreement/core/messages.ts';
import { EMPTY_DURABLE, type DurableState } from '../../src/agreement/core/state.ts';
import { AgreementRuntime, type DurableStore } from '../../src/agreement/runtime.ts';

const params = { quorum: 2, controlPlanes: 3, clusterId: 'c' };
const silent = pino({ level: 'silent' });
const prepare = (from: string, round: number): Message => ({ from, params, body: { type: 'prepare', ballot: { round, proposer: from } } });
const accept = (from: string, round: number, value: string): Message => ({ from, params, body: { type: 'accept', ballot: { round, proposer: from }, value } });

/** A node's disk and the order of events around it. `deferWrites`: the broken store, whose writes land later. */
class Disk {
  onDisk: DurableState | undefined;
  pending: DurableState[] = [];
  readonly order: string[] = [];
  failNext = false;
  constructor(private readonly deferWrites = false) {}
  store(): DurableStore {
    return {
      load: () => this.onDisk,
      save: (d) => {
        if (this.failNext) {
          this.failNext = false;
          throw new Error('ENOSPC: no space left on device');
        }
        this.order.push('save');
        if (this.deferWrites) this.pending.push(d);
        else this.onDisk = d;
      },
    };
  }
  /** The process dies: writes not yet on disk are gone. */
  crash(): void {
    this.pending = [];
  }
  flush(): void {
    for (const d of this.pending) this.onDisk = d;
    this.pending = [];
  }
}

function runtimeOn(disk: Disk, sent: string[] = disk.order): AgreementRuntime {
  return new AgreementRuntime({
    self: 'a',
    params,
    store: disk.store(),
    log: silent,
    now: () => 0,
    wallNow: () => 0,
    random: () => 0.5,
    send: async (to, m) => {
      sent.push(`send ${to} ${m.body.type}`);
      return [];
    },
  });
}

/** Every broken promise of "persist before send" the checks find; empty for a correct runtime and store. */
function persistBeforeSendViolations(deferWrites: boolean): string[] {
  const out: string[] = [];
  const disk = new Disk(deferWrites);
  let rt = runtimeOn(disk);
  // A peer's prepare: the promise is on disk when the reply is returned.
  const high: Ballot = { round: 5, proposer: 'b' };
  const r1 = rt.receive(prepare('b', 5));
  if (r1.map((m) => m.body.type).join() !== 'promise') out.push(`prepare answered ${r1.map((m) => m.body.type).join()}`);
  if (JSON.stringify(disk.onDisk?.promised) !== JSON.stringify(high)) out.push('promise returned before it was on disk');
  // The process dies right after the reply left, then a lower ballot arrives: it must be refused.
  disk.crash();
  rt = runtimeOn(disk);
  const r2 = rt.receive(prepare('c', 3));
  if (r2[0]?.body.type !== 'nack') out.push(`after a crash, a lower ballot got ${r2[0]?.body.type ?? 'nothing'}: the promise was forgotten`);
  // An accept: the acceptance is on disk when the reply is returned.
  disk.flush();
  const r3 = rt.receive(accept('b', 5, 'b'));
  if (r3[0]?.body.type !== 'accepted') out.push(`accept answered ${r3[0]?.body.type ?? 'nothing'}`);
  if (disk.onDisk?.accepted?.value !== 'b') out.push('acceptance returned before it was on disk');
  return out;
}

describe('agreement runtime: persist before send', () => {
  test('the real runtime: every promise and acceptance is on disk before its reply is returned, and survives a crash', () => {
    expect(persistBeforeSendViolations(false)).toEqual([]);
  });

  test('broken variant (reply before the write lands, then a crash): the same checks fail', () => {
    const v = persistBeforeSendViolations(true);
    expect(v).toContain('promise returned before it was on disk');
    expect(v.some((x) => x.includes('the promise was forgotten'))).toBe(true);
  });

  test('a failed save throws, returns no reply, sends nothing, and leaves the state as on disk', () => {
    const disk = new Disk();
    const rt = runtimeOn(disk);
    expect(rt.receive(prepare('b', 1)).map((m) => m.body.type)).toEqual(['promise']);
    disk.failNext = true;
    expect(() => rt.receive(prepare('c', 2))).toThrow('ENOSPC');
    expect(rt.status().promised).toEqual({ round: 1, proposer: 'b' });
    expect(disk.onDisk?.promised).toEqual({ round: 1, proposer: 'b' });
    // The failed step left nothing behind: the next prepare at 2 is promised afresh (and saved).
    expect(rt.receive(prepare('c', 2)).map((m) => m.body.type)).toEqual(['promise']);
    expect(disk.onDisk?.promised).toEqual({ round: 2, proposer: 'c' });
  });

  test('a failed save of the self-promise sends no prepare', async () => {
    const disk = new Disk();
    const rt = runtimeOn(disk);
    disk.failNext = true;
    expect(() => rt.view({ verified: ['a', 'b', 'c'], leads: true, seen: 3 })).toThrow('ENOSPC');
    await Bun.sleep(5);
    expect(disk.order.filter((o) => o.startsWith('send'))).toEqual([]);
  });

  test('the proposer saves its own promise before any prepare leaves', async () => {
    const disk = new Disk();
    const rt = runtimeOn(disk);
    rt.view({ verified: ['a', 'b', 'c'], leads: true, seen: 3 });
    await Bun.sleep(5);
    expect(disk.order).toEqual(['save', 'send b prepare', 'send c prepare']);
    expect(disk.onDisk?.promised).toEqual({ round: 1, proposer: 'a' });
  });

  test('a quorum error recorded on disk is back after a restart: the gate never lets this node bootstrap', () => {
    const disk = new Disk();
    disk.onDisk = { ...EMPTY_DURABLE, chosen: 'a', maxSeen: 4 };
    const rt = new AgreementRuntime({ self: 'a', params: { ...params, controlPlanes: undefined }, store: disk.store(), log: silent, now: () => 0, send: async () => [] });
    expect(rt.quorumError).toContain('4 distinct control planes');
    const gate = bootstrapGate({
      self: 'a', chosen: rt.chosen, chosenAtMs: undefined, quorumError: rt.quorumError, evidence: 'not-bootstrapped', ownDataDirEmpty: true, ownEtcdRunning: false,
      lastIssuedAt: undefined, issuedBefore: false, startedAt: 0, now: 0, reissueDelayMs: 1,
    });
    expect(gate).toMatchObject({ kind: 'wait', reason: 'quorum-error' });
    expect(rt.receive(prepare('b', 7)).map((m) => m.body.type)).toEqual(['refused']);
  });
});
