// Plain data the decisions are made from. The runner fills it from the network; tests write it by hand.

/**
 * What a node's etcd service was seen doing. `not-running` is positive evidence only: the service sits in
 * Preparing, where a control plane without etcd data waits to join. Every other state (Waiting for time
 * sync, Starting, Failed, ... — which a node holding etcd data passes through after a reboot) and every
 * missing answer is `unknown`.
 */
export type EtcdState = 'running' | 'not-running' | 'unknown';

export type MachineType = 'controlplane' | 'init' | 'worker' | 'unknown';

/** A peer whose apid certificate chains to this cluster's OS CA and names the dialled address. */
export interface Candidate {
  address: string;
  /** The node behind the address: its apid certificate's fingerprint. One node may answer on several addresses. */
  identity: string;
  /** Other addresses at which the same node answered this round. */
  aliases?: string[];
  hostname: string;
  /** SystemStat.boot_time, Unix seconds, read through the node's own apid (self included). */
  bootTime: bigint;
  machineType: MachineType;
  stage: string;
  etcd: EtcdState;
}

/** An address that answered on the apid port but did not become a candidate, and why. */
export interface Rejected {
  address: string;
  reason: string;
}

/** Outcome of EtcdMemberList{query_local:false} asked of this node's apid. */
export type MemberListResult =
  | { kind: 'ok'; memberIds: string[] }
  /** apid answered with an error: no etcd cluster reachable (yet). */
  | { kind: 'failed'; message: string }
  /**
   * Deadline passed. Before a bootstrap this is Talos's normal answer: machined's etcd client waits for a
   * ready endpoint until the caller's deadline. It counts as "no etcd answered" only while this node's own
   * apid verifiably answers everything else in the same round.
   */
  | { kind: 'timed-out'; message: string }
  /** The transport failed or our credentials were refused: says nothing about etcd. */
  | { kind: 'no-answer'; message: string }
  /**
   * Asked, no answer yet. Enough to arm (arming only starts the settle delay), never enough to bootstrap:
   * the final check always waits for the member list's own outcome.
   */
  | { kind: 'pending' };

export interface Observation {
  selfAddress: string;
  /** Verified control planes (self included when its own apid verified). */
  controlPlanes: Candidate[];
  /** Verified nodes that are not control planes (workers, maintenance). */
  others: Candidate[];
  /** Addresses that were expected (static peers) or answered, but could not be verified. */
  rejected: Rejected[];
  memberList: MemberListResult;
}

export type ClusterState = 'bootstrapped' | 'not-bootstrapped' | 'unknown';

export function isControlPlaneType(t: MachineType): boolean {
  return t === 'controlplane' || t === 'init';
}
