// apply's per-node retries and its parallelism, driven with fake I/O: the delays asked for are read
// from the fakes, never timed.
import { describe, expect, test } from 'bun:test';
import { status } from '@grpc/grpc-js';
import { applyAll, applyNode, type ApplyDeps } from '../../src/cli/rules/apply-node.ts';
import type { NodeProbe } from '../../src/cli/nodes/identify-node.ts';
import { classifyApplyError, DEFAULT_RETRY, retrySchedule } from '../../src/cli/rules/retry.ts';
import type { NodeTarget } from '../../src/cli/inputs/target.ts';
import { TalosCallError } from '../../src/talos/node-client.ts';

const REPLY = { mode: 'NO_REBOOT', modeDetails: 'Applied configuration without a reboot', warnings: [] };
const target = (name: string): NodeTarget => ({ name, address: `10.0.0.${name.replace(/\D/g, '') || 1}`, file: `/c/${name}.yaml` });
const fail = (code: number, message = 'injected') => new TalosCallError('ApplyConfiguration', code, message);

const MAINTENANCE: NodeProbe = { kind: 'maintenance' };
const CONFIGURED: NodeProbe = { kind: 'configured', detail: 'its apid certificate chains to the OS CA in cp1.yaml' };

/**
 * Deps whose apply answers from a script per node, and whose look at a node after a failure answers
 * from another (maintenance once it runs out); sleeps are recorded and return at once.
 */
function fakeDeps(script: Record<string, (Error | 'ok')[]>, left: 'ok' | 'stuck' = 'ok', seen: Record<string, NodeProbe[]> = {}) {
  const sleeps: number[] = [];
  const calls: string[] = [];
  const lines: string[] = [];
  const deps: ApplyDeps = {
    async apply(t) {
      calls.push(t.name);
      const next = script[t.name]?.shift() ?? 'ok';
      if (next !== 'ok') throw next;
      return REPLY;
    },
    async identify(t) {
      calls.push(`identify ${t.name}`);
      return seen[t.name]?.shift() ?? MAINTENANCE;
    },
    async sleep(ms) {
      sleeps.push(ms);
    },
    async waitLeftMaintenance() {
      return left === 'ok' ? { ok: true, detail: 'left maintenance' } : { ok: false, detail: 'after 10m: still in maintenance' };
    },
    progress: (t, text) => lines.push(`${t.name}: ${text}`),
  };
  return { deps, sleeps, calls, lines };
}

describe('retry schedule', () => {
  test('defaults: first 3 s, factor 2, max 60 s, 5 retries', () => {
    expect(retrySchedule(DEFAULT_RETRY)).toEqual([3_000, 6_000, 12_000, 24_000, 48_000]);
  });
  test('capped at the maximum; zero retries means no delays', () => {
    expect(retrySchedule({ ...DEFAULT_RETRY, retries: 8 })).toEqual([3_000, 6_000, 12_000, 24_000, 48_000, 60_000, 60_000, 60_000]);
    expect(retrySchedule({ ...DEFAULT_RETRY, retries: 0 })).toEqual([]);
    expect(retrySchedule({ initialMs: 100, factor: 3, maxMs: 1_000, retries: 4 })).toEqual([100, 300, 900, 1_000]);
  });
});

describe('classifyApplyError', () => {
  const table: [number, string, 'transient' | 'permanent', RegExp][] = [
    [status.UNAVAILABLE, 'connection refused', 'transient', /powered on/],
    [status.DEADLINE_EXCEEDED, 'deadline exceeded', 'transient', /^on a slow network raise --call-timeout .*reachable/],
    [status.CANCELLED, 'cancelled', 'transient', /reachable/],
    [status.INVALID_ARGUMENT, 'failed to parse config', 'permanent', /talosctl validate/],
    // A code apid chose keeps its meaning, whatever the message mentions.
    [status.INVALID_ARGUMENT, 'failed to parse config: unexpected EOF', 'permanent', /talosctl validate/],
    [status.UNKNOWN, 'No connection established. Last error: connect ECONNREFUSED', 'transient', /reachable/],
    [status.PERMISSION_DENIED, 'not authorized', 'permanent', /not in maintenance mode/],
    [status.UNIMPLEMENTED, 'the REBOOT mode is not supported', 'permanent', /Talos version/],
    [status.UNKNOWN, 'read: connection reset by peer', 'transient', /reachable/],
    [status.UNKNOWN, 'something broke', 'permanent', /re-run apply/],
    [status.INTERNAL, 'EOF', 'transient', /reachable/],
  ];
  for (const [code, message, kind, fix] of table) {
    test(`${status[code]} "${message}" is ${kind}`, () => {
      const v = classifyApplyError(code, message);
      expect(v.kind).toBe(kind);
      expect(v.fix).toMatch(fix);
      expect(v.reason).toContain(message);
    });
  }
});

describe('applyNode', () => {
  const policy = DEFAULT_RETRY;

  test('Unavailable twice, then accepted: retried after 3 s and 6 s, reported with its attempts', async () => {
    const f = fakeDeps({ cp1: [fail(status.UNAVAILABLE), fail(status.UNAVAILABLE), 'ok'] });
    const r = await applyNode(target('cp1'), Buffer.from('x'), policy, f.deps);
    expect(r.ok).toBe(true);
    expect(f.sleeps).toEqual([3_000, 6_000]);
    expect(r.attempts.map((a) => [a.attempt, a.ok, a.code, a.retryInMs])).toEqual([
      [1, false, 'UNAVAILABLE', 3_000],
      [2, false, 'UNAVAILABLE', 6_000],
      [3, true, undefined, undefined],
    ]);
    expect(f.lines.at(-1)).toBe('cp1: configured after 2 retries; left maintenance');
  });

  test('never answering: 1 + 5 attempts on the whole schedule, then failed with the fix', async () => {
    const f = fakeDeps({ cp1: Array.from({ length: 10 }, () => fail(status.UNAVAILABLE, 'connect ECONNREFUSED')) });
    const r = await applyNode(target('cp1'), Buffer.from('x'), policy, f.deps);
    expect(r.ok).toBe(false);
    expect(f.calls.filter((c) => c === 'cp1')).toHaveLength(6);
    expect(f.sleeps).toEqual(retrySchedule(policy));
    expect(r.reason).toMatch(/^still failing after 6 attempts \(last: UNAVAILABLE: connect ECONNREFUSED\)/);
    expect(r.fix).toMatch(/powered on/);
  });

  test('a permanent error is not retried', async () => {
    const f = fakeDeps({ cp1: [fail(status.INVALID_ARGUMENT, 'failed to parse config'), 'ok'] });
    const r = await applyNode(target('cp1'), Buffer.from('x'), policy, f.deps);
    expect(r.ok).toBe(false);
    expect(f.calls).toEqual(['cp1']);
    expect(f.sleeps).toEqual([]);
    expect(r.reason).toMatch(/refused the config/);
  });

  test('a transient failure on a node that already had its config (its certificate chains to this CA): refused at once, not retried', async () => {
    const f = fakeDeps({ cp1: [fail(status.UNAVAILABLE, 'TLSV1_ALERT_CERTIFICATE_REQUIRED')] }, 'ok', { cp1: [CONFIGURED] });
    const r = await applyNode(target('cp1'), Buffer.from('x'), policy, f.deps);
    expect(r.ok).toBe(false);
    expect(f.calls).toEqual(['cp1', 'identify cp1']);
    expect(f.sleeps).toEqual([]);
    expect(r.attempts.map((a) => a.kind)).toEqual(['permanent']);
    expect(r.reason).toBe('the node is not in maintenance mode: it already has a config (its apid certificate chains to the OS CA in cp1.yaml)');
    expect(r.fix).toMatch(/already has a config/);
  });

  test('reply lost: the retry meets the node configured with this CA → accepted (reply lost), then the leave check', async () => {
    const f = fakeDeps({ cp1: [fail(status.DEADLINE_EXCEEDED, 'deadline exceeded'), fail(status.UNAVAILABLE, 'TLSV1_ALERT_CERTIFICATE_REQUIRED')] }, 'ok', { cp1: [MAINTENANCE, CONFIGURED] });
    const r = await applyNode(target('cp1'), Buffer.from('x'), policy, f.deps);
    expect(r.ok).toBe(true);
    expect(r.replyLost).toBe(true);
    expect(f.calls).toEqual(['cp1', 'identify cp1', 'cp1', 'identify cp1']);
    expect(f.sleeps).toEqual([3_000]);
    expect(r.attempts.map((a) => [a.attempt, a.ok, a.code, a.kind])).toEqual([
      [1, false, 'DEADLINE_EXCEEDED', 'transient'],
      [2, false, 'UNAVAILABLE', 'transient'],
    ]);
    expect(f.lines).toContain('cp1: attempt 2 failed (UNAVAILABLE: TLSV1_ALERT_CERTIFICATE_REQUIRED), but the node now has this config: accepted (reply lost)');
    expect(f.lines.at(-1)).toBe('cp1: configured after 1 retry (reply lost); left maintenance');
  });

  test('a node that proves neither maintenance nor this config is said so in the reason, and retried', async () => {
    const unknown: NodeProbe = { kind: 'unknown', detail: 'neither in maintenance nor known to be configured: ...' };
    const f = fakeDeps({ cp1: [fail(status.UNAVAILABLE, 'x'), fail(status.UNAVAILABLE, 'x')] }, 'ok', { cp1: [unknown, unknown] });
    const r = await applyNode(target('cp1'), Buffer.from('x'), { ...policy, retries: 1 }, f.deps);
    expect(r.ok).toBe(false);
    expect(r.reason).toBe('still failing after 2 attempts (last: UNAVAILABLE: x; the node is neither in maintenance nor known to be configured: ...)');
  });

  test('accepted but never seen leaving maintenance is a failure', async () => {
    const f = fakeDeps({}, 'stuck');
    const r = await applyNode(target('cp1'), Buffer.from('x'), policy, f.deps);
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/not seen leaving maintenance: after 10m: still in maintenance/);
    expect(r.fix).toMatch(/re-run apply/);
  });
});

describe('applyAll', () => {
  test('at most N nodes at once, in order, and a failing node never stops the others', async () => {
    let inFlight = 0;
    let peak = 0;
    const started: string[] = [];
    const release: (() => void)[] = [];
    const deps: ApplyDeps = {
      async apply(t) {
        started.push(t.name);
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise<void>((r) => release.push(r));
        inFlight--;
        if (t.name === 'n2') throw fail(status.PERMISSION_DENIED, 'not authorized');
        return REPLY;
      },
      identify: async () => MAINTENANCE,
      sleep: async () => {},
      waitLeftMaintenance: async () => ({ ok: true, detail: 'left' }),
      progress: () => {},
    };
    const items = ['n1', 'n2', 'n3', 'n4', 'n5'].map((n) => ({ target: target(n), data: Buffer.from(n) }));
    const done = applyAll(items, 2, DEFAULT_RETRY, deps);
    // Release calls one at a time as they queue up; the pool must never exceed 2.
    while (started.length < 5 || release.length > 0) {
      await Bun.sleep(0);
      release.shift()?.();
    }
    const results = await done;
    expect(peak).toBe(2);
    expect(started).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(results.map((r) => [r.name, r.ok])).toEqual([
      ['n1', true],
      ['n2', false],
      ['n3', true],
      ['n4', true],
      ['n5', true],
    ]);
  });

  test('--parallel 1 is strictly one after another', async () => {
    const order: string[] = [];
    const deps: ApplyDeps = {
      async apply(t) {
        order.push(`start ${t.name}`);
        await Bun.sleep(0);
        order.push(`end ${t.name}`);
        return REPLY;
      },
      identify: async () => MAINTENANCE,
      sleep: async () => {},
      waitLeftMaintenance: async (t) => (order.push(`left ${t.name}`), { ok: true, detail: 'left' }),
      progress: () => {},
    };
    await applyAll(['a1', 'a2'].map((n) => ({ target: target(n), data: Buffer.from(n) })), 1, DEFAULT_RETRY, deps);
    expect(order).toEqual(['start a1', 'end a1', 'left a1', 'start a2', 'end a2', 'left a2']);
  });
});
