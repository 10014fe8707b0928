import { describe, expect, test } from 'bun:test';
import { decide } from '../../src/bootstrap/core/decide.ts';
import { etcdServiceFromList } from '../../src/discovery/inspect-peer.ts';
import { mergeByIdentity } from '../../src/discovery/merge-identities.ts';
import { scanAddresses } from '../../src/discovery/scan.ts';
import { namedTargets } from '../../src/discovery/targets.ts';
import { parsePrefix } from '../../src/util/ipv4.ts';
import { cp, obs } from './core-fixtures.ts';

describe('one node, one vote', () => {
  test('a node answering on two addresses is one candidate, named by its lowest address when its default did not answer', () => {
    const b1 = cp('10.0.0.20', 5, { identity: 'B', defaultAddress: '192.0.2.7' });
    const b2 = cp('10.0.0.3', 5, { identity: 'B', defaultAddress: '192.0.2.7' });
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
    expect(decide({ observation: obs('10.0.0.1', seen, { selfIdentity: 'A' }), quorumNodes: 3, armed: 'A' }).kind).toBe('wait');
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

describe('the etcd service state is half of the evidence', () => {
  const svc = (state: string, lastEvent = '') => [{ id: 'apid', state: 'Running', healthy: true, lastEvent: '' }, { id: 'etcd', state, healthy: false, lastEvent }];
  test.each([
    ['Running', '', 'running'],
    ['Preparing', 'Running pre state', 'not-running'],
    ['Waiting', 'Waiting for etcd spec', 'not-running'],
    ['Starting', 'Starting service', 'not-running'],
    ['Failed', 'Failed to run pre stage: failed to build initial etcd cluster', 'not-running'],
    ['Finished', 'Bootstrap requested', 'bootstrap-requested'],
    ['Finished', 'Service finished successfully', 'not-running'],
    ['Stopping', 'Aborting restart sequence', 'unknown'],
    ['Unknown', '', 'unknown'],
    ['SomethingNew', '', 'unknown'],
  ])('etcd %s "%s" → %s', (state, lastEvent, expected) => expect(etcdServiceFromList(svc(state, lastEvent)).kind).toBe(expected as 'running'));
  test('no etcd service listed → unknown', () => expect(etcdServiceFromList([{ id: 'apid', state: 'Running', healthy: true, lastEvent: '' }]).kind).toBe('unknown'));
});

describe('init nodes', () => {
  test('an init node among the candidates means never Bootstrap', () => {
    const cps = [cp('10.0.0.1', 1), cp('10.0.0.2', 2, { machineType: 'init' }), cp('10.0.0.3', 3)];
    expect(decide({ observation: obs('10.0.0.1', cps), quorumNodes: 3, armed: 'id-10.0.0.1' })).toMatchObject({ kind: 'wait', reason: 'init-node' });
  });
  test('this node being init also waits', () => {
    expect(decide({ observation: obs('10.0.0.1', [cp('10.0.0.1', 1, { machineType: 'init' })]), quorumNodes: 1, armed: 'id-10.0.0.1' }).kind).toBe('wait');
  });
});

describe('members discovery switched off', () => {
  test('no members at all says discovery looks disabled and what to set', async () => {
    const { discoverySummary } = await import('../../src/bootstrap/discovery-summary.ts');
    const { emptyCounts } = await import('../../src/discovery/discover.ts');
    const s = discoverySummary(['members'], { controlPlanes: [], others: [], rejected: [], untrusted: [], counts: emptyCounts() }, { kind: 'known', members: 0, controlPlaneAddresses: 0, via: 'watch' }, 0);
    expect(s.message).toContain('Talos cluster discovery looks disabled');
    expect(s.message).toContain('TALOS_AUTO_BOOTSTRAP_PEERS');
  });
});
