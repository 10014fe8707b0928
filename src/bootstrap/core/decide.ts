// "May I bootstrap now?" as a pure function of one observation and what the previous round armed.
// Bootstrapping takes two rounds: a round that elects this node arms it; only a fresh round, after the
// settle delay, that again elects this node with a quorum and a cluster that is surely not bootstrapped
// may call Bootstrap. Anything less waits, and the decision says why.
import { clusterState } from './cluster-state.ts';
import { electLeader } from './elect.ts';
import type { Observation } from './observation.ts';
import { quorumView } from './quorum.ts';

export type WaitReason = 'no-quorum' | 'unknown' | 'init-node' | 'self-unverified' | 'self-mismatch' | 'follower' | 'leader-changed';

export type Decision =
  | { kind: 'bootstrapped'; message: string }
  | { kind: 'wait'; reason: WaitReason; message: string; leader?: string }
  | { kind: 'arm'; message: string }
  | { kind: 'bootstrap'; message: string };

export interface DecideInput {
  observation: Observation;
  quorumNodes: number;
  /** The identity of the leader the previous round armed (this node's), if it armed one. */
  armed: string | undefined;
  /** The bootstrapper the agreement chose (docs/agreement.md), once known: it leads whatever the boot times say. */
  chosen?: string | undefined;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * NODE_IP must be this node's own address: where it answers, it answers as this node, and no other node's
 * certificate carries it (a VIP or a shared certSAN would name several nodes). Undefined when it is.
 */
export function selfAddressProblem(obs: Observation): string | undefined {
  const all = [...obs.controlPlanes, ...obs.others];
  const atSelf = all.find((c) => c.address === obs.selfAddress || c.aliases?.includes(obs.selfAddress));
  if (atSelf && atSelf.identity !== obs.selfIdentity) {
    return `TALOS_AUTO_BOOTSTRAP_NODE_IP=${obs.selfAddress} answers as another node (${atSelf.hostname || 'unnamed'}, node id ${atSelf.identity}), not as this node (node id ${obs.selfIdentity}); set it to an address of this node`;
  }
  const sharers = all.filter((c) => c.identity !== obs.selfIdentity && c.certAddresses?.includes(obs.selfAddress));
  if (sharers.length > 0) {
    return `TALOS_AUTO_BOOTSTRAP_NODE_IP=${obs.selfAddress} is also in the apid certificate of ${sharers.map((c) => `${c.address} (${c.hostname || 'unnamed'})`).join(', ')}: a VIP or shared certSAN names no single node; set it to an address of this node alone`;
  }
  return undefined;
}

export function decide({ observation: obs, quorumNodes, armed, chosen }: DecideInput): Decision {
  const cluster = clusterState(obs);
  if (cluster.state === 'bootstrapped') return { kind: 'bootstrapped', message: `cluster is bootstrapped: ${cluster.why}` };

  const problem = selfAddressProblem(obs);
  if (problem) return { kind: 'wait', reason: 'self-mismatch', message: `${problem}; never calling Bootstrap while it is wrong` };

  // Talos starts etcd as a new cluster on an `init` node by itself, without Bootstrap: a Bootstrap
  // anywhere else would make a second cluster.
  const init = obs.controlPlanes.filter((c) => c.machineType === 'init').map((c) => c.address);
  if (init.length > 0) {
    return {
      kind: 'wait',
      reason: 'init-node',
      message: `${init.join(', ')} ${init.length === 1 ? 'is an init node' : 'are init nodes'}: Talos forms etcd there without Bootstrap; waiting for it, never calling Bootstrap`,
    };
  }

  const q = quorumView(obs, quorumNodes);
  if (!q.reached) {
    const short = q.need - q.have;
    const missing = q.missing.length > 0 ? `; not counted: ${q.missing.join(', ')}` : '';
    return {
      kind: 'wait',
      reason: 'no-quorum',
      message: `quorum ${q.have}/${q.need}: have ${q.seen.join(', ') || 'none'}; waiting for ${plural(short, 'more control plane', 'more control planes')}${missing}`,
    };
  }
  // Arming may go ahead while only the member list is outstanding (it answers at its deadline before a
  // bootstrap); the final check may not.
  const mayArmOnly = cluster.state === 'unknown' && cluster.awaitingMemberList === true && armed !== obs.selfIdentity;
  if (cluster.state === 'unknown' && !mayArmOnly) {
    return { kind: 'wait', reason: 'unknown', message: `cannot tell whether the cluster is bootstrapped: ${cluster.why}` };
  }
  const self = obs.controlPlanes.find((c) => c.identity === obs.selfIdentity);
  if (!self) {
    return {
      kind: 'wait',
      reason: 'self-unverified',
      message: `this node (${obs.selfAddress}) is not among the verified control planes; its own apid must verify before it may lead`,
    };
  }
  const chosenOne = chosen === undefined ? undefined : obs.controlPlanes.find((c) => c.identity === chosen);
  if (chosen !== undefined && !chosenOne) {
    return { kind: 'wait', reason: 'follower', leader: chosen, message: `node id ${chosen} was chosen by agreement as the one node that bootstraps; it is not among the verified control planes; waiting for it` };
  }
  const leader = chosenOne ?? electLeader(obs.controlPlanes);
  if (!leader) throw new Error('quorum reached without candidates');
  const leaderText = `${leader.address} (${leader.hostname || 'unnamed'}, booted ${leader.bootTime})`;
  if (leader.identity !== self.identity) {
    const reason: WaitReason = armed === self.identity ? 'leader-changed' : 'follower';
    return {
      kind: 'wait',
      reason,
      leader: leader.address,
      message:
        reason === 'leader-changed'
          ? `leader changed to ${leaderText} during the settle delay; not bootstrapping`
          : `quorum ${q.have}/${q.need} reached; leader is ${leaderText}; following`,
    };
  }
  if (armed !== self.identity) {
    return { kind: 'arm', message: `quorum ${q.have}/${q.need} reached (${q.seen.join(', ')}); this node leads; settling before a final check` };
  }
  if (cluster.state !== 'not-bootstrapped') {
    return { kind: 'wait', reason: 'unknown', message: `cannot tell whether the cluster is bootstrapped: ${cluster.why}` };
  }
  return { kind: 'bootstrap', message: `final check passed: still leader with quorum ${q.have}/${q.need} and ${cluster.why}` };
}

