import { describe, expect, test } from 'bun:test';
import { clusterState } from '../../src/bootstrap/core/cluster-state.ts';
import { decide } from '../../src/bootstrap/core/decide.ts';
import { electLeader } from '../../src/bootstrap/core/elect.ts';
import { cp, NO_CLUSTER, obs, PREPARING_WITH_DATA, RUNNING, UNKNOWN_ETCD } from './core-fixtures.ts';

describe('electLeader', () => {
  test('oldest boot time wins', () => {
    expect(electLeader([cp('10.0.0.1', 300), cp('10.0.0.2', 100), cp('10.0.0.3', 200)])?.address).toBe('10.0.0.2');
  });
  test('ties go to the lower address compared as numbers, not text', () => {
    expect(electLeader([cp('10.0.0.10', 100), cp('10.0.0.9', 100)])?.address).toBe('10.0.0.9');
  });
  test('boot times beyond 2^53 compare exactly', () => {
    const big = 2n ** 60n;
    const a = { ...cp('10.0.0.1', 0), bootTime: big + 1n };
    const b = { ...cp('10.0.0.2', 0), bootTime: big };
    expect(electLeader([a, b])?.address).toBe('10.0.0.2');
  });
  test('no candidates, no leader', () => expect(electLeader([])).toBeUndefined());
});

describe('clusterState', () => {
  test('a running etcd anywhere means bootstrapped', () => {
    expect(clusterState(obs('10.0.0.1', [cp('10.0.0.1', 1), cp('10.0.0.2', 2, { etcd: RUNNING })])).state).toBe('bootstrapped');
  });
  test('a member list that answers means bootstrapped', () => {
    expect(clusterState(obs('10.0.0.1', [cp('10.0.0.1', 1)], { memberList: { kind: 'ok', memberIds: ['1'] } })).state).toBe('bootstrapped');
  });
  test('an unanswered etcd question is unknown, never not-bootstrapped', () => {
    expect(clusterState(obs('10.0.0.1', [cp('10.0.0.1', 1), cp('10.0.0.2', 2, { etcd: UNKNOWN_ETCD })])).state).toBe('unknown');
  });
  test('a member list without an answer is no evidence either way: the data directories decide', () => {
    expect(clusterState(obs('10.0.0.1', [cp('10.0.0.1', 1)], { memberList: { kind: 'no-answer', message: 'deadline' } })).state).toBe('not-bootstrapped');
    expect(clusterState(obs('10.0.0.1', [cp('10.0.0.1', 1, { etcd: UNKNOWN_ETCD })], { memberList: { kind: 'no-answer', message: 'deadline' } })).state).toBe('unknown');
  });
  test('Preparing on a node that holds etcd data means a cluster exists', () => {
    expect(clusterState(obs('10.0.0.1', [cp('10.0.0.1', 1), cp('10.0.0.2', 2, { etcd: PREPARING_WITH_DATA })])).state).toBe('bootstrapped');
  });
  test('nobody seen is unknown', () => expect(clusterState(obs('10.0.0.1', [])).state).toBe('unknown'));
  test('all answered with empty data directories, none running: not bootstrapped', () => {
    expect(clusterState(obs('10.0.0.1', [cp('10.0.0.1', 1), cp('10.0.0.2', 2)])).state).toBe('not-bootstrapped');
  });
});

describe('decide', () => {
  const three = [cp('10.0.0.1', 100), cp('10.0.0.2', 50), cp('10.0.0.3', 200)];

  test('below quorum waits and names who is seen and who is not counted', () => {
    const d = decide({
      observation: obs('10.0.0.1', three.slice(0, 2), { rejected: [{ address: '10.0.0.3', reason: 'unreachable' }] }),
      quorumNodes: 3,
      armed: undefined,
    });
    expect(d.kind).toBe('wait');
    expect(d.message).toBe('quorum 2/3: have 10.0.0.1, 10.0.0.2; waiting for 1 more control plane; not counted: 10.0.0.3 (unreachable)');
  });
  test('follower waits and names the leader', () => {
    const d = decide({ observation: obs('10.0.0.1', three), quorumNodes: 3, armed: undefined });
    expect(d).toMatchObject({ kind: 'wait', reason: 'follower', leader: '10.0.0.2' });
  });
  test('leader arms first, bootstraps only on the next round', () => {
    const o = obs('10.0.0.2', three);
    expect(decide({ observation: o, quorumNodes: 3, armed: undefined }).kind).toBe('arm');
    expect(decide({ observation: o, quorumNodes: 3, armed: 'id-10.0.0.2' }).kind).toBe('bootstrap');
  });
  test('armed leader that lost the lead does not bootstrap', () => {
    const older = [...three, cp('10.0.0.4', 10)];
    expect(decide({ observation: obs('10.0.0.2', older), quorumNodes: 3, armed: 'id-10.0.0.2' })).toMatchObject({ kind: 'wait', reason: 'leader-changed' });
  });
  test('armed leader that lost quorum does not bootstrap', () => {
    expect(decide({ observation: obs('10.0.0.2', three.slice(1)), quorumNodes: 3, armed: 'id-10.0.0.2' }).kind).toBe('wait');
  });
  test('armed leader that sees etcd running does not bootstrap', () => {
    const running = three.map((c) => (c.address === '10.0.0.3' ? { ...c, etcd: RUNNING } : c));
    expect(decide({ observation: obs('10.0.0.2', running), quorumNodes: 3, armed: 'id-10.0.0.2' }).kind).toBe('bootstrapped');
  });
  test('armed leader facing an unknown state waits', () => {
    const o = obs('10.0.0.2', three.map((c) => (c.address === '10.0.0.3' ? { ...c, etcd: UNKNOWN_ETCD } : c)));
    expect(decide({ observation: o, quorumNodes: 3, armed: 'id-10.0.0.2' })).toMatchObject({ kind: 'wait', reason: 'unknown' });
  });
  test('a node that cannot verify itself never leads', () => {
    const o = obs('10.0.0.2', three.filter((c) => c.address !== '10.0.0.2'));
    expect(decide({ observation: o, quorumNodes: 2, armed: 'id-10.0.0.2' })).toMatchObject({ kind: 'wait', reason: 'self-unverified' });
  });
  test('quorum of one bootstraps a single node', () => {
    const o = obs('10.0.0.1', [cp('10.0.0.1', 1)], { memberList: NO_CLUSTER });
    expect(decide({ observation: o, quorumNodes: 1, armed: 'id-10.0.0.1' }).kind).toBe('bootstrap');
  });
});

describe('member list deadline (Talos waits for a ready etcd endpoint until the caller gives up)', () => {
  const both = [cp('10.0.0.1', 1), cp('10.0.0.2', 2)];
  test('a timeout is no evidence: empty data directories everywhere decide', () => {
    expect(clusterState(obs('10.0.0.1', both, { memberList: { kind: 'timed-out', message: 'deadline' } })).state).toBe('not-bootstrapped');
  });
  test('a node that cannot verify itself never leads, whatever the member list says', () => {
    expect(decide({ observation: obs('10.0.0.9', both, { memberList: { kind: 'timed-out', message: 'deadline' } }), quorumNodes: 2, armed: 'id-10.0.0.9' })).toMatchObject({ kind: 'wait', reason: 'self-unverified' });
  });
  test('a timeout never hides a running etcd', () => {
    const running = [cp('10.0.0.1', 1), cp('10.0.0.2', 2, { etcd: RUNNING })];
    expect(clusterState(obs('10.0.0.1', running, { memberList: { kind: 'timed-out', message: 'deadline' } })).state).toBe('bootstrapped');
  });
});

describe('a member list still outstanding', () => {
  const three = () => [cp('10.0.0.1', 1), cp('10.0.0.2', 2), cp('10.0.0.3', 3)];
  test('is enough to arm: arming only starts the settle delay', () => {
    const o = obs('10.0.0.1', three(), { memberList: { kind: 'pending' } });
    expect(decide({ observation: o, quorumNodes: 3, armed: undefined }).kind).toBe('arm');
  });
  test('is never enough to bootstrap: the armed leader waits for the answer', () => {
    const o = obs('10.0.0.1', three(), { memberList: { kind: 'pending' } });
    expect(decide({ observation: o, quorumNodes: 3, armed: 'id-10.0.0.1' })).toMatchObject({ kind: 'wait', reason: 'unknown' });
    expect(clusterState(o)).toMatchObject({ state: 'unknown', awaitingMemberList: true });
  });
  test('does not hide other unknowns or a running etcd', () => {
    const silent = [cp('10.0.0.1', 1), cp('10.0.0.2', 2, { etcd: UNKNOWN_ETCD }), cp('10.0.0.3', 3)];
    expect(decide({ observation: obs('10.0.0.1', silent, { memberList: { kind: 'pending' } }), quorumNodes: 3, armed: undefined }).kind).toBe('wait');
    const running = [cp('10.0.0.1', 1), cp('10.0.0.2', 2, { etcd: RUNNING }), cp('10.0.0.3', 3)];
    expect(decide({ observation: obs('10.0.0.1', running, { memberList: { kind: 'pending' } }), quorumNodes: 3, armed: undefined }).kind).toBe('bootstrapped');
  });
});
