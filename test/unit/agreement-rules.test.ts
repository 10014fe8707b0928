// Unit tables for the agreement's pure rules: ballot order, the 2q-seen rule, parameter mismatches, and
// the bootstrap gate (only the chosen node; the re-issue rule).
import { describe, expect, test } from 'bun:test';
import { compareBallots } from '../../src/agreement/core/ballot.ts';
import { bootstrapGate, type GateInput } from '../../src/agreement/core/bootstrap-gate.ts';
import { paramsMismatch, quorumTooSmall } from '../../src/agreement/core/params.ts';

describe('ballots', () => {
  test.each([
    [{ round: 1, proposer: 'b' }, { round: 2, proposer: 'a' }, -1],
    [{ round: 2, proposer: 'a' }, { round: 2, proposer: 'b' }, -1],
    [{ round: 2, proposer: 'b' }, { round: 2, proposer: 'b' }, 0],
    [{ round: 3, proposer: 'a' }, undefined, 1],
  ])('%o vs %o', (a, b, sign) => expect(Math.sign(compareBallots(a, b))).toBe(sign));
});

describe('q cannot be a majority once 2q control planes are seen', () => {
  test.each([
    [2, 3, false], [2, 4, true], [1, 1, false], [1, 2, true], [3, 5, false], [3, 6, true], [4, 7, false], [4, 8, true],
  ])('q=%i seen=%i error=%p', (q, seen, error) => {
    const e = quorumTooSmall(q, undefined, seen);
    expect(e !== undefined).toBe(error);
    if (e) {
      expect(e).toContain(`${seen} distinct control planes`);
      expect(e).toContain(`QUORUM_NODES=${q}`);
    }
  });
  test('with N set, q below floor(N/2)+1 is an error whatever is seen', () => {
    expect(quorumTooSmall(2, 5, 1)).toContain('at least 3');
    expect(quorumTooSmall(3, 5, 1)).toBeUndefined();
  });
});

describe('parameter mismatches name both values', () => {
  test('each field', () => {
    const ours = { quorum: 2, controlPlanes: 3, clusterId: 'x' };
    expect(paramsMismatch(ours, ours)).toEqual([]);
    expect(paramsMismatch(ours, { quorum: 3, controlPlanes: undefined, clusterId: 'y' })).toEqual([
      { field: 'clusterId', ours: 'x', theirs: 'y' },
      { field: 'quorum', ours: '2', theirs: '3' },
      { field: 'controlPlanes', ours: '3', theirs: 'unset' },
    ]);
  });
});

describe('bootstrap gate', () => {
  const base: GateInput = {
    self: 'a', chosen: 'a', chosenAtMs: 0, quorumError: undefined, evidence: 'not-bootstrapped', ownDataDirEmpty: true, ownEtcdRunning: false,
    lastIssuedAt: undefined, issuedBefore: false, startedAt: 0, now: 1_000, reissueDelayMs: 300_000,
  };
  const gate = (patch: Partial<GateInput>) => bootstrapGate({ ...base, ...patch });
  test('the chosen node with positive evidence calls', () => expect(gate({})).toMatchObject({ kind: 'call', reissue: false }));
  test.each([
    [{ chosen: undefined }, 'not-chosen-yet'],
    [{ chosen: 'b' }, 'other-chosen'],
    [{ quorumError: 'q too small' }, 'quorum-error'],
    [{ ownDataDirEmpty: false }, 'own-etcd'],
    [{ ownDataDirEmpty: undefined }, 'own-etcd'],
    [{ ownEtcdRunning: true }, 'own-etcd'],
    [{ ownEtcdRunning: undefined }, 'own-etcd'],
    [{ evidence: 'unknown' }, 'evidence'],
    [{ evidence: 'bootstrapped' }, 'evidence'],
    [{ lastIssuedAt: 0, now: 299_999 }, 'reissue-delay'],
    [{ issuedBefore: true, startedAt: 10_000, now: 309_999 }, 'reissue-delay'],
  ] as [Partial<GateInput>, string][])('%o waits: %s', (patch, reason) => expect(gate(patch)).toMatchObject({ kind: 'wait', reason }));
  test('a non-chosen node names the chosen one, since when, and the recovery', () => {
    const g = gate({ chosen: 'b', chosenAtMs: Date.UTC(2026, 0, 2) });
    expect(g.message).toContain('b was chosen');
    expect(g.message).toContain('2026-01-02T00:00:00.000Z');
    expect(g.message).toContain('talosctl -n <node> bootstrap');
  });
  test('re-issue after the delay, counted from the last call or from this process start', () => {
    expect(gate({ lastIssuedAt: 0, now: 300_000 })).toMatchObject({ kind: 'call', reissue: true });
    expect(gate({ issuedBefore: true, startedAt: 10_000, now: 310_000 })).toMatchObject({ kind: 'call', reissue: true });
  });
  describe('a Bootstrap Talos accepted in this boot is never repeated while etcd prepares', () => {
    const BOOT = '0b6e3c2a-1f4d-4c1e-9a51-3f2f7d8e9a10';
    const accepted = { issuedBefore: true, startedAt: 10_000, now: 10_000_000, acceptedBootId: BOOT };
    test('same boot, etcd not running (Preparing): waits, whatever the delay, and says why', () => {
      const g = gate({ ...accepted, bootId: BOOT });
      expect(g).toMatchObject({ kind: 'wait', reason: 'accepted-this-boot' });
      expect(g.message).toContain('keeps it until etcd starts');
      expect(g.message).toContain('unless this node reboots first or its etcd fails');
    });
    test('rebooted since (another boot_id): re-issues after the delay', () => {
      expect(gate({ ...accepted, bootId: 'another-boot' })).toMatchObject({ kind: 'call', reissue: true });
      expect(gate({ ...accepted, bootId: 'another-boot', now: 309_999 })).toMatchObject({ kind: 'wait', reason: 'reissue-delay' });
    });
    test('same boot but etcd Failed: re-issues after the delay', () => {
      expect(gate({ ...accepted, bootId: BOOT, ownEtcdFailed: true })).toMatchObject({ kind: 'call', reissue: true });
    });
    test('no success known (refused, or the answer lost) or the boot_id unread: the delay alone rules', () => {
      expect(gate({ issuedBefore: true, startedAt: 10_000, now: 310_000, bootId: BOOT })).toMatchObject({ kind: 'call', reissue: true });
      expect(gate({ ...accepted })).toMatchObject({ kind: 'call', reissue: true });
    });
  });
});
