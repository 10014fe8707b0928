// What status says about the agreement, one row per situation: chosen, not yet, conflicting, unreadable.
import { expect, test } from 'bun:test';
import { agreementColumn, identityNames, summarizeAgreement, type AgreementView } from '../../src/cli/rules/agreement-summary.ts';
import type { NodeObservation } from '../../src/cli/rules/verdict.ts';

const n = (i: number, agreement?: AgreementView): NodeObservation => ({ name: `cp${i}`, address: `10.0.0.${i}`, reach: 'configured', role: 'controlplane', ...(agreement ? { agreement } : {}) });
const st = (i: number, over: Partial<{ phase: string; chosen: string; quorumError: string; bootstrapIssued: boolean }> = {}): AgreementView => ({ node: `ID${i}`, phase: 'idle', bootstrapIssued: false, ...over });

test('summarizeAgreement', () => {
  const rows: [string, NodeObservation[], string | undefined, RegExp | undefined][] = [
    ['nobody asked', [n(1), n(2)], undefined, undefined],
    ['chosen, known to all, named by the node that is it', [n(1, st(1, { phase: 'chosen', chosen: 'ID2' })), n(2, st(2, { phase: 'chosen', chosen: 'ID2', bootstrapIssued: true }))], 'chosen', /^agreement: cp2 is the chosen bootstrapper \(known to cp1, cp2\)$/],
    ['chosen, not yet known to one, another unreadable', [n(1, st(1, { phase: 'chosen', chosen: 'ID1' })), n(2, st(2, { phase: 'accepting' })), n(3, { error: 'connect ECONNREFUSED 10.0.0.3:24450' })], 'chosen', /^agreement: cp1 is the chosen bootstrapper \(known to cp1; not yet to cp2 accepting\); unknown on cp3 \(connect ECONNREFUSED/],
    ['nothing chosen yet', [n(1, st(1, { phase: 'preparing' })), n(2, st(2, { phase: 'quorum-error', quorumError: 'q=1 of N=3' }))], 'undecided', /^agreement: no bootstrapper chosen yet \(cp1 preparing, cp2 quorum-error \(q=1 of N=3\)\)$/],
    ['two chosen values: a conflict, said first', [n(1, st(1, { chosen: 'ID1' })), n(2, st(2, { chosen: 'ID2' }))], 'conflict', /^agreement CONFLICT: cp1 say cp1; cp2 say cp2/],
    ['nothing readable', [n(1, { error: 'deadline' })], 'unknown', /^agreement: could not be read; unknown on cp1 \(deadline\) \(a daemon serves it only while it runs/],
  ];
  for (const [name, nodes, kind, text] of rows) {
    const s = summarizeAgreement(nodes);
    expect([name, s?.kind]).toEqual([name, kind as never]);
    if (text) expect(s?.text).toMatch(text);
  }
});

test('agreementColumn', () => {
  const nodes = [n(1, st(1, { chosen: 'ID1', bootstrapIssued: true })), n(2, st(2, { phase: 'accepting' })), n(3, { error: 'x' }), n(4)];
  const names = identityNames(nodes);
  expect(nodes.map((x) => agreementColumn(x, names))).toEqual(['chosen cp1 (bootstrap issued)', 'accepting', '?', '']);
});
