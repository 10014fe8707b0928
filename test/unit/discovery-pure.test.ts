import { describe, expect, test } from 'bun:test';
import { decide } from '../../src/bootstrap/core/decide.ts';
import { etcdStateFromServices } from '../../src/discovery/inspect-peer.ts';
import { mergeByIdentity } from '../../src/discovery/merge-identities.ts';
import { scanAddresses } from '../../src/discovery/scan.ts';
import { namedTargets } from '../../src/discovery/targets.ts';
import { parsePrefix } from '../../src/util/ipv4.ts';
import { cp, obs } from './core-fixtures.ts';

describe('one node, one vote', () => {
  test('a node answering on two addresses is one candidate, named by its lowest address', () => {
    const b1 = cp('10.0.0.20', 5, { identity: 'B' });
    const b2 = cp('10.0.0.3', 5, { identity: 'B' });
    const merged = mergeByIdentity([cp('10.0.0.1', 9, { identity: 'A' }), b1, b2], '10.0.0.1');
    expect(merged.map((c) => [c.address, c.aliases ?? []])).toEqual([
      ['10.0.0.1', []],
      ['10.0.0.3', ['10.0.0.20']],
    ]);
  });
  test('this node keeps its own address whatever its aliases', () => {
    const merged = mergeByIdentity([cp('10.0.0.9', 1, { identity: 'S' }), cp('10.0.0.2', 1, { identity: 'S' })], '10.0.0.9');
    expect(merged.map((c) => c.address)).toEqual(['10.0.0.9']);
  });
  test('a node seen twice cannot complete a quorum', () => {
    const seen = mergeByIdentity([cp('10.0.0.1', 1, { identity: 'A' }), cp('10.0.0.2', 2, { identity: 'B' }), cp('10.0.0.3', 2, { identity: 'B' })], '10.0.0.1');
    expect(decide({ observation: obs('10.0.0.1', seen), quorumNodes: 3, armed: '10.0.0.1' }).kind).toBe('wait');
  });
  test('overlapping prefixes yield each address once; named addresses are left to their sources', () => {
    const all = [...scanAddresses([parsePrefix('10.0.0.0/24')!, parsePrefix('10.0.0.0/25')!, parsePrefix('10.0.0.0/24')!], new Set(['10.0.0.1', '10.0.0.2']))];
    expect(all).toHaveLength(252);
    expect(new Set(all).size).toBe(252);
    expect(all).not.toContain('10.0.0.1');
  });
  test('a /32 is one host; disjoint prefixes are both walked', () => {
    expect([...scanAddresses([parsePrefix('10.0.0.7/32')!, parsePrefix('10.0.1.0/30')!], new Set())]).toEqual(['10.0.0.7', '10.0.1.1', '10.0.1.2']);
  });
  test('named targets: each address once, with every source that named it, self first', () => {
    const named = namedTargets({ self: '10.0.0.1', statics: ['10.0.0.2', '10.0.0.2'], members: ['10.0.0.2', '10.0.0.3'], scan: [] });
    expect([...named]).toEqual([
      ['10.0.0.1', ['self']],
      ['10.0.0.2', ['static', 'members']],
      ['10.0.0.3', ['members']],
    ]);
  });
});

describe('etcd state needs positive evidence', () => {
  const svc = (state: string) => [{ id: 'apid', state: 'Running', healthy: true }, { id: 'etcd', state, healthy: false }];
  test.each([
    ['Running', 'running'],
    ['Preparing', 'not-running'],
    ['Waiting', 'unknown'],
    ['Starting', 'unknown'],
    ['Failed', 'unknown'],
    ['Finished', 'unknown'],
  ])('etcd %s → %s', (state, expected) => expect(etcdStateFromServices(svc(state))).toBe(expected as 'running'));
  test('no etcd service listed → unknown', () => expect(etcdStateFromServices([{ id: 'apid', state: 'Running', healthy: true }])).toBe('unknown'));
});

describe('init nodes', () => {
  test('an init node among the candidates means never Bootstrap', () => {
    const cps = [cp('10.0.0.1', 1), cp('10.0.0.2', 2, { machineType: 'init' }), cp('10.0.0.3', 3)];
    expect(decide({ observation: obs('10.0.0.1', cps), quorumNodes: 3, armed: '10.0.0.1' })).toMatchObject({ kind: 'wait', reason: 'init-node' });
  });
  test('this node being init also waits', () => {
    expect(decide({ observation: obs('10.0.0.1', [cp('10.0.0.1', 1, { machineType: 'init' })]), quorumNodes: 1, armed: '10.0.0.1' }).kind).toBe('wait');
  });
});
