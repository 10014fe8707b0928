// The agreement as the runner sees it: the gate proposes and lets only the chosen node call; the call is
// recorded before it is made and undone by a refusal; a quorum error never lets it through.
import { describe, expect, test } from 'bun:test';
import { Writable } from 'node:stream';
import type { DurableState } from '../../src/agreement/core/state.ts';
import { RunnerAgreement } from '../../src/agreement/runner-link.ts';
import { AgreementRuntime, type DurableStore } from '../../src/agreement/runtime.ts';
import type { BootstrapGateInput } from '../../src/bootstrap/gate.ts';
import { createLogger } from '../../src/log.ts';
import { cp, obs } from './core-fixtures.ts';

function memoryStore(): DurableStore & { saved: DurableState[] } {
  const saved: DurableState[] = [];
  return { saved, load: () => saved.at(-1), save: (d) => void saved.push(d) };
}

function link(self: string, quorum: number, opts: { controlPlanes?: number; chosenElsewhere?: string } = {}) {
  const log = createLogger('error', new Writable({ write: (_c, _e, cb) => cb() }));
  const store = memoryStore();
  let t = 0;
  const runtime = new AgreementRuntime({
    self,
    params: { quorum, controlPlanes: opts.controlPlanes, clusterId: 'c' },
    store,
    log,
    now: () => t,
    // A peer that has already learned the outcome answers every prepare with it.
    send: (to, m) =>
      Promise.resolve(opts.chosenElsewhere && m.body.type === 'prepare' ? [{ from: to, params: m.params, body: { type: 'chosen' as const, value: opts.chosenElsewhere } }] : []),
  });
  const l = new RunnerAgreement({ runtime, self, log, reissueDelayMs: 60_000, outcomeWaitMs: 1_000, retryMs: 500, addresses: new Map(), now: () => (t += 10) });
  return { l, runtime, store };
}

const input = (self: string, cps: ReturnType<typeof cp>[]): BootstrapGateInput => ({
  self: cps.find((c) => c.identity === self) as ReturnType<typeof cp>,
  controlPlanes: cps,
  quorumNodes: 1,
  evidenceAt: 0,
  signal: new AbortController().signal,
});

describe('RunnerAgreement', () => {
  test('one control plane: the gate chooses it and lets the call go ahead; the call is recorded first, a refusal undoes it', async () => {
    const { l, runtime, store } = link('id-10.0.0.1', 1, { controlPlanes: 1 });
    const cps = [cp('10.0.0.1', 100)];
    expect(await l.gate(input('id-10.0.0.1', cps))).toEqual({ kind: 'proceed' });
    expect(runtime.chosen).toBe('id-10.0.0.1');
    l.bootstrapCalling();
    expect(store.saved.at(-1)?.bootstrapIssued).toBe(true);
    l.bootstrapRefused();
    expect(store.saved.at(-1)?.bootstrapIssued).toBe(false);
    // Accepted (no refusal): the next call waits for the re-issue delay.
    l.bootstrapCalling();
    const again = await l.gate(input('id-10.0.0.1', cps));
    expect(again).toMatchObject({ kind: 'wait' });
    if (again.kind === 'wait') expect(again.message).toContain('re-issuing in');
  });

  test('another node chosen: other-chosen, naming it', async () => {
    const { l } = link('id-10.0.0.1', 2, { chosenElsewhere: 'id-10.0.0.2' });
    const cps = [cp('10.0.0.1', 100), cp('10.0.0.2', 200)];
    l.observe(obs('10.0.0.1', cps), 2);
    const v = await l.gate(input('id-10.0.0.1', cps));
    expect(v).toMatchObject({ kind: 'other-chosen', chosen: 'id-10.0.0.2' });
    expect(l.chosen()).toBe('id-10.0.0.2');
  });

  test('2q control planes seen: never proceeds', async () => {
    const { l } = link('id-10.0.0.1', 1);
    const cps = [cp('10.0.0.1', 100), cp('10.0.0.2', 200)];
    l.observe(obs('10.0.0.1', cps), 2);
    const v = await l.gate(input('id-10.0.0.1', cps));
    expect(v).toMatchObject({ kind: 'wait' });
    if (v.kind === 'wait') expect(v.message).toContain('2 distinct control planes');
  });
});
