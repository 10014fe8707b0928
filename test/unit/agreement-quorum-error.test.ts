// The quorum error ("2q or more distinct control planes seen: q is not a majority") survives restarts, and an
// acceptor that knows it refuses to promise or accept. q=2 without CONTROL_PLANES and four control planes
// a, b, c, d: every daemon once sees all four, then every daemon restarts while the network is split
// {a,b} | {c,d}. If the error were forgotten at the restart, a and c would each get two promises and two
// acceptances from their side and two values would be chosen.
import { describe, expect, test } from 'bun:test';
import type { Message } from '../../src/agreement/core/messages.ts';
import { EMPTY_DURABLE, initialState, type AgreementState, type DurableState } from '../../src/agreement/core/state.ts';
import { step, type Input } from '../../src/agreement/core/step.ts';
import { AcceptorFile } from '../../src/agreement/storage/acceptor-file.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';

const params = { quorum: 2, controlPlanes: undefined, clusterId: 'c' };
const ids = ['a', 'b', 'c', 'd'];
const env = { now: 0, wallNow: 0, random: 0.5 };

/** Runs the scenario; `restartDurable` is what each node keeps across its restart (the durable state, or a broken copy). */
function splitAfterRestart(restartDurable: (d: DurableState) => DurableState): { chosen: Record<string, string | undefined>; proposed: boolean } {
  let st: Record<string, AgreementState> = Object.fromEntries(ids.map((i) => [i, initialState(i, params, EMPTY_DURABLE)]));
  for (const i of ids) st[i] = step(st[i] as AgreementState, { kind: 'view', view: { verified: ids, leads: i === 'a' || i === 'c', seen: 4 } }, env).state;
  expect(ids.every((i) => st[i]?.quorumError !== undefined)).toBe(true);
  // Restart: the volatile state is gone; only what is durable comes back.
  st = Object.fromEntries(ids.map((i) => [i, initialState(i, params, restartDurable((st[i] as AgreementState).durable))]));
  const net: { to: string; m: Message }[] = [];
  let proposed = false;
  const apply = (i: string, input: Input) => {
    const r = step(st[i] as AgreementState, input, env);
    st[i] = r.state;
    for (const s of r.send) {
      if (s.message.body.type === 'prepare') proposed = true;
      net.push({ to: s.to, m: s.message });
    }
  };
  apply('a', { kind: 'view', view: { verified: ['a', 'b'], leads: true, seen: 2 } });
  apply('b', { kind: 'view', view: { verified: ['a', 'b'], leads: false, seen: 2 } });
  apply('c', { kind: 'view', view: { verified: ['c', 'd'], leads: true, seen: 2 } });
  apply('d', { kind: 'view', view: { verified: ['c', 'd'], leads: false, seen: 2 } });
  for (let guard = 0; net.length > 0 && guard < 1000; guard++) {
    const x = net.shift() as { to: string; m: Message };
    apply(x.to, { kind: 'message', message: x.m });
  }
  return { chosen: Object.fromEntries(ids.map((i) => [i, st[i]?.durable.chosen])), proposed };
}

describe('the quorum error is durable', () => {
  test('after restarts during a {a,b}|{c,d} split nobody proposes and nothing is chosen', () => {
    const r = splitAfterRestart((d) => d);
    expect(r.proposed).toBe(false);
    expect(r.chosen).toEqual({ a: undefined, b: undefined, c: undefined, d: undefined });
  });

  test('broken variant: a volatile quorum error (the count not kept) chooses two values', () => {
    const r = splitAfterRestart((d) => ({ ...d, maxSeen: undefined }));
    const values = new Set(Object.values(r.chosen).filter((v) => v !== undefined));
    expect([...values].sort()).toEqual(['a', 'c']);
  });

  test('the error comes back at start, and raising q to a majority of what was seen clears it', () => {
    const s = step(initialState('a', params, EMPTY_DURABLE), { kind: 'view', view: { verified: ids, leads: true, seen: 4 } }, env);
    expect(s.persist?.maxSeen).toBe(4);
    expect(initialState('a', params, s.state.durable).quorumError).toContain('4 distinct control planes');
    expect(initialState('a', { ...params, quorum: 3 }, s.state.durable).quorumError).toBeUndefined();
  });

  test('an acceptor with the error answers refused to prepare and accept, and keeps no promise', () => {
    const s0 = initialState('b', params, { ...EMPTY_DURABLE, maxSeen: 4 });
    const p = step(s0, { kind: 'message', message: { from: 'a', params, body: { type: 'prepare', ballot: { round: 1, proposer: 'a' } } } }, env);
    expect(p.send.map((o) => o.message.body.type)).toEqual(['refused']);
    expect(p.persist).toBeUndefined();
    const a = step(s0, { kind: 'message', message: { from: 'a', params, body: { type: 'accept', ballot: { round: 1, proposer: 'a' }, value: 'a' } } }, env);
    expect(a.send.map((o) => o.message.body.type)).toEqual(['refused']);
    expect(a.state.durable.accepted).toBeUndefined();
  });

  test('the count is saved and loaded; a state file written before the field existed still loads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agreement-qe-'));
    try {
      const f = new AcceptorFile(dir, 'a', 'c');
      f.save({ ...EMPTY_DURABLE, maxSeen: 4 });
      expect(new AcceptorFile(dir, 'a', 'c').load()?.maxSeen).toBe(4);
      // The earlier form of format 1: no maxSeen in the durable part.
      const path = join(dir, 'acceptor.json');
      const body = JSON.parse(JSON.parse(readFileSync(path, 'utf8')).body);
      delete body.durable.maxSeen;
      const text = JSON.stringify(body);
      writeFileSync(path, `${JSON.stringify({ checksum: createHash('sha256').update(text).digest('hex'), body: text })}\n`);
      const old = new AcceptorFile(dir, 'a', 'c').load();
      expect(old).toEqual(EMPTY_DURABLE);
      expect(initialState('a', params, old ?? EMPTY_DURABLE).quorumError).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
