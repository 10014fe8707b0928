// Is there an etcd cluster already? Three answers, because "could not tell" must never read as "no".
import type { ClusterState, Observation } from './observation.ts';

export interface ClusterStateView {
  state: ClusterState;
  why: string;
  /** Unknown only because the member list has not answered yet: everything else says "not bootstrapped". */
  awaitingMemberList?: boolean;
}

export function clusterState(obs: Observation): ClusterStateView {
  if (obs.memberList.kind === 'pending') {
    const rest = clusterState({ ...obs, memberList: { kind: 'failed', message: 'pending' } });
    if (rest.state !== 'not-bootstrapped') return rest;
    return { state: 'unknown', why: 'no verified control plane runs etcd; the etcd member list has not answered yet', awaitingMemberList: true };
  }
  const running = obs.controlPlanes.filter((c) => c.etcd === 'running').map((c) => c.address);
  if (running.length > 0) return { state: 'bootstrapped', why: `etcd runs on ${running.join(', ')}` };
  if (obs.memberList.kind === 'ok') {
    return { state: 'bootstrapped', why: `etcd member list answers with ${obs.memberList.memberIds.length} member(s)` };
  }
  const silent = obs.controlPlanes.filter((c) => c.etcd === 'unknown').map((c) => c.address);
  if (silent.length > 0) return { state: 'unknown', why: `etcd state of ${silent.join(', ')} is unknown` };
  if (obs.memberList.kind === 'no-answer') {
    return { state: 'unknown', why: `etcd member list did not answer: ${obs.memberList.message}` };
  }
  if (obs.controlPlanes.length === 0) return { state: 'unknown', why: 'no verified control plane answered' };
  const selfAnswers = obs.controlPlanes.some((c) => c.address === obs.selfAddress);
  if (obs.memberList.kind === 'timed-out' && !selfAnswers) {
    return { state: 'unknown', why: `etcd member list timed out and this node's own apid did not verify: ${obs.memberList.message}` };
  }
  return {
    state: 'not-bootstrapped',
    why: `no verified control plane runs etcd and the member list fails (${obs.memberList.message})`,
  };
}
