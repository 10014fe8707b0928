// verify trusts a healthy verdict only when two looks in a row agree on every node: a node whose stage, etcd
// state or etcd membership changes between looks (flapping) may have been caught at a good moment. Pure.
import type { NodeObservation } from './verdict.ts';

/** What verify compares between two looks at one node, as a person reads it. */
export function lookSummary(n: NodeObservation): string {
  const parts = [n.reach === 'configured' ? (n.stage ?? 'configured') : n.reach];
  if (n.role) parts.push(n.role);
  if (n.etcdState !== undefined) parts.push(`etcd ${n.etcdState}`);
  if (n.etcdMembers !== undefined) parts.push(`members ${n.etcdMembers.join(',')}${n.memberList?.some((m) => m.isLearner) ? ' (a learner)' : ''}`);
  return parts.join(', ');
}

export interface NodeChange {
  name: string;
  address: string;
  before: string;
  after: string;
}

/** Nodes whose look differs from the previous one (by address); none when there was no previous look. */
export function changedNodes(previous: NodeObservation[] | undefined, now: NodeObservation[]): NodeChange[] {
  if (!previous) return [];
  const before = new Map(previous.map((n) => [n.address, lookSummary(n)]));
  return now.flatMap((n) => {
    const was = before.get(n.address);
    const is = lookSummary(n);
    return was !== undefined && was !== is ? [{ name: n.name, address: n.address, before: was, after: is }] : [];
  });
}
