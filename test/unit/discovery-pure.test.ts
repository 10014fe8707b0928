import { describe, expect, test } from 'bun:test';
import { decide } from '../../src/bootstrap/core/decide.ts';
import { etcdStateFromServices } from '../../src/discovery/inspect-peer.ts';
import { mergeByIdentity } from '../../src/discovery/merge-identities.ts';
import { targetsOf } from '../../src/discovery/targets.ts';
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
  test('overlapping prefixes yield each address once', () => {
    const plan = { self: '10.0.0.1', statics: ['10.0.0.2', '10.0.0.2'], scan: [parsePrefix('10.0.0.0/24')!, parsePrefix('10.0.0.0/25')!] };
    const all = [...targetsOf(plan)].map((t) => t.address);
    expect(all).toHaveLength(254);
    expect(new Set(all).size).toBe(254);
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
