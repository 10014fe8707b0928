// Plain data the decisions are made from. The runner fills it from the network; tests write it by hand.
// Node and evidence types live in src/model (below discovery and bootstrap); they are re-exported here.
import type { Candidate, NodeIdentity, Rejected } from '../../model/candidate.ts';

export type { Candidate, MachineType, NodeIdentity, Rejected } from '../../model/candidate.ts';
export { isControlPlaneType } from '../../model/candidate.ts';
export type { DataDirEvidence, EtcdEvidence, EtcdServiceEvidence } from '../../model/etcd-evidence.ts';

/**
 * Outcome of EtcdMemberList{query_local:false} asked of this node's apid. Only `ok` is evidence (that a
 * cluster exists). No error of it is evidence of anything: before a bootstrap it answers only at its
 * deadline, and an error may come from a cluster that exists but has no leader right now.
 */
export type MemberListResult =
  | { kind: 'ok'; memberIds: string[] }
  /** apid answered with an error. */
  | { kind: 'failed'; message: string }
  /** Deadline passed: Talos's normal answer before a bootstrap. */
  | { kind: 'timed-out'; message: string }
  /** The transport failed or our credentials were refused. */
  | { kind: 'no-answer'; message: string }
  /** Asked, no answer yet. Enough to arm, never enough to bootstrap. */
  | { kind: 'pending' };

export interface Observation {
  /** NODE_IP: the address this node is reached at by its peers. */
  selfAddress: string;
  /** This node's identity, read from its local apid at start (src/host/self-check.ts). */
  selfIdentity: NodeIdentity;
  /** Verified control planes, merged by identity (self included when its own apid verified). */
  controlPlanes: Candidate[];
  /** Verified nodes that are not control planes (workers, maintenance). */
  others: Candidate[];
  /** Addresses that were expected (static peers) or answered, but could not be verified. */
  rejected: Rejected[];
  memberList: MemberListResult;
}

export type ClusterState = 'bootstrapped' | 'not-bootstrapped' | 'unknown';
