// The rules of verify's and status's verdict, one row each: healthy only when every expected control plane
// runs etcd as a voting member of ONE member list all of them report alike, no member is unaccounted for,
// and every listed node was seen with its config. Anything less names each node and what is wrong.
import { describe, expect, test } from 'bun:test';
import { clusterVerdict, verdictExitCode, type ClusterKind, type MemberSeen, type NodeObservation } from '../../src/cli/rules/verdict.ts';

const member = (n: number, over: Partial<MemberSeen> = {}): MemberSeen => ({ id: `${n}00`, hostname: `cp${n}`, isLearner: false, peerUrls: [`https://10.0.0.${n}:2380`], ...over });
const THREE = [member(1), member(2), member(3)];
const cp = (n: number, over: Partial<NodeObservation> = {}): NodeObservation => ({
  name: `cp${n}`,
  address: `10.0.0.${n}`,
  reach: 'configured',
  role: 'controlplane',
  stage: 'running',
  etcdState: 'Running',
  etcdMemberId: `${n}00`,
  etcdMembers: THREE.map((m) => m.id),
  memberList: THREE,
  ...over,
});
const w1: NodeObservation = { name: 'w1', address: '10.0.1.1', reach: 'configured', role: 'worker', stage: 'running' };
const gone = (over: Partial<NodeObservation>): Partial<NodeObservation> => ({ stage: undefined, etcdState: undefined, etcdMemberId: undefined, etcdMembers: undefined, memberList: undefined, role: undefined, ...over });

interface Row {
  name: string;
  nodes: NodeObservation[];
  kind: ClusterKind;
  /** Each entry must appear among the problems as `node: problem` (substring of the problem). */
  problems?: [string, string][];
  text?: RegExp;
}

const ROWS: Row[] = [
  { name: 'three voting members of one list, a worker', nodes: [cp(1), cp(2), cp(3), w1], kind: 'healthy', text: /^healthy single cluster: 3 control planes/ },
  {
    name: 'a control plane back in maintenance after bootstrap (role from nobody): degraded, named',
    nodes: [cp(1), cp(2, gone({ reach: 'maintenance' })), cp(3)],
    kind: 'degraded',
    problems: [['cp2', 'in maintenance mode']],
  },
  {
    name: 'a control plane back in maintenance whose role is known from its config',
    nodes: [cp(1), cp(2, { ...gone({ reach: 'maintenance' }), role: 'controlplane' }), cp(3)],
    kind: 'degraded',
    problems: [['cp2', 'in maintenance mode']],
  },
  { name: 'a control plane down', nodes: [cp(1), cp(2), cp(3, gone({ reach: 'unreachable', detail: 'connect ECONNREFUSED 10.0.0.3:50000' }))], kind: 'degraded', problems: [['cp3', 'unreachable (connect ECONNREFUSED 10.0.0.3:50000)']] },
  {
    name: 'a learner',
    nodes: [cp(1, { memberList: [member(1), member(2), member(3, { isLearner: true })] }), cp(2, { memberList: [member(1), member(2), member(3, { isLearner: true })] }), cp(3, { memberList: [member(1), member(2), member(3, { isLearner: true })] })],
    kind: 'degraded',
    problems: [['cp3', 'etcd learner']],
  },
  {
    name: 'a member no visible control plane accounts for',
    nodes: [1, 2, 3].map((n) => cp(n, { etcdMembers: ['100', '200', '300', '900'], memberList: [...THREE, member(9, { hostname: 'old-cp', peerUrls: ['https://10.0.0.99:2380'] })] })),
    kind: 'degraded',
    problems: [['member 0000000000000384', 'etcd member "old-cp" (peer https://10.0.0.99:2380) is not any visible control plane']],
  },
  {
    name: 'member lists that differ between control planes (talosctl EtcdConsistentAssertion)',
    nodes: [cp(1), cp(2), cp(3, { etcdMembers: ['100', '300'], memberList: [member(1), member(3)] })],
    kind: 'degraded',
    problems: [['cp3', "its etcd member list (cp1, cp3) differs from cp1's (cp1, cp2, cp3)"]],
  },
  { name: 'a worker unreachable', nodes: [cp(1), cp(2), cp(3), { ...w1, reach: 'unreachable', role: undefined, detail: 'timeout' }], kind: 'degraded', problems: [['w1', 'unreachable (timeout)']] },
  {
    name: 'etcd still starting on one control plane, the others joined: bootstrapping',
    nodes: [cp(1), cp(2), cp(3, { etcdState: 'Preparing', etcdMemberId: undefined, etcdMembers: undefined, memberList: undefined })],
    kind: 'bootstrapping',
    problems: [['cp3', 'etcd Preparing (not running)']],
  },
  {
    name: 'etcd runs but its membership is unreadable',
    nodes: [cp(1), cp(2), cp(3, { etcdMembers: undefined, memberList: undefined, detail: 'etcd membership unreadable: deadline exceeded' })],
    kind: 'degraded',
    problems: [['cp3', 'membership could not be read']],
  },
  {
    name: 'every node unreachable: could not see the cluster',
    nodes: [cp(1, gone({ reach: 'unreachable', detail: 'connect ECONNREFUSED 10.0.0.1:50000' })), cp(2, gone({ reach: 'unreachable', detail: 'connect ECONNREFUSED 10.0.0.2:50000' }))],
    kind: 'unreachable',
    text: /^could not see the cluster: no node answered \(cp1: unreachable \(connect ECONNREFUSED 10\.0\.0\.1:50000\); cp2: /,
  },
  {
    name: 'every node answers with another CA: the talosconfig is another cluster\'s',
    nodes: [cp(1, gone({ reach: 'other-ca', detail: 'x' })), cp(2, gone({ reach: 'other-ca', detail: 'x' }))],
    kind: 'wrong-cluster',
    text: /^wrong cluster: cp1, cp2 answer with certificates of another CA than the talosconfig's/,
  },
  {
    name: 'one node of another cluster among ours: degraded, named',
    nodes: [cp(1), cp(2), cp(3), { name: 'x9', address: '10.0.0.9', reach: 'other-ca', detail: 'issuer O=other' }],
    kind: 'degraded',
    problems: [['x9', "another CA than the talosconfig's"]],
  },
  { name: 'no etcd, everything seen: not bootstrapped', nodes: [cp(1, { etcdState: 'Preparing', etcdMemberId: undefined, etcdMembers: undefined, memberList: undefined })], kind: 'not-bootstrapped' },
  {
    name: 'no etcd, a control plane unseen: unknown, never "not bootstrapped"',
    nodes: [cp(1, { etcdState: 'Preparing', etcdMemberId: undefined, etcdMembers: undefined, memberList: undefined }), cp(2, { ...gone({ reach: 'unreachable' }), role: 'controlplane' })],
    kind: 'unknown',
  },
  {
    name: 'two member lists sharing nobody: split',
    nodes: [cp(1, { etcdMembers: ['100', '200'] }), cp(2, { etcdMembers: ['100', '200'] }), cp(3, { etcdMembers: ['300'] })],
    kind: 'split',
  },
];

describe('clusterVerdict rules', () => {
  for (const row of ROWS) {
    test(row.name, () => {
      const v = clusterVerdict(row.nodes);
      expect(v.kind).toBe(row.kind);
      if (row.text) expect(v.text).toMatch(row.text);
      for (const [node, problem] of row.problems ?? []) {
        expect(v.problems.some((p) => p.node === node && p.problem.includes(problem))).toBe(true);
        // The one-line verdict names each node too, so the text alone is enough.
        if (v.kind === 'degraded') expect(v.text).toContain(`${node}: `);
      }
      if (v.kind !== 'healthy') expect(verdictExitCode(v.kind)).not.toBe(0);
    });
  }
  test('exit codes: only healthy is 0, split is 3', () => {
    const kinds: ClusterKind[] = ['healthy', 'degraded', 'bootstrapping', 'not-bootstrapped', 'unknown', 'unreachable', 'wrong-cluster', 'split'];
    expect(kinds.map(verdictExitCode)).toEqual([0, 1, 1, 1, 1, 1, 1, 3]);
  });
});
