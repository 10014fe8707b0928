// Is there an etcd cluster already? Three answers, because "could not tell" must never read as "no".
//
// The rules, in order (docs/how-it-decides.md states them for operators):
//  1. a verified control plane whose etcd service is Running, or the member list answering → bootstrapped;
//  2. etcd data in any verified control plane's data directory, or a Bootstrap accepted there ("Bootstrap
//     requested") → bootstrapped (a cluster exists or is forming): never bootstrap;
//  3. "not bootstrapped" only when EVERY verified control plane positively answered: its data directory is
//     empty AND its etcd service is in a state where no etcd process runs (Preparing proves nothing alone:
//     it is only half of the evidence), and the member list has given its outcome;
//  4. anything else → unknown, naming each node's etcd state, last event and data directory.
import { describeEtcd } from '../../model/etcd-evidence.ts';
import { nodeName } from '../../model/candidate.ts';
import type { ClusterState, Observation } from './observation.ts';

export interface ClusterStateView {
  state: ClusterState;
  why: string;
  /** Unknown only because the member list has not answered yet: everything else says "not bootstrapped". */
  awaitingMemberList?: boolean;
}

export function clusterState(obs: Observation): ClusterStateView {
  const cps = obs.controlPlanes;
  const running = cps.filter((c) => c.etcd.service.kind === 'running').map(nodeName);
  if (running.length > 0) return { state: 'bootstrapped', why: `etcd runs on ${running.join(', ')}` };
  if (obs.memberList.kind === 'ok') {
    return { state: 'bootstrapped', why: `etcd member list answers with ${obs.memberList.memberIds.length} member(s)` };
  }
  const withData = cps.filter((c) => c.etcd.dataDir.kind === 'has-data' || c.etcd.service.kind === 'bootstrap-requested');
  if (withData.length > 0) {
    return { state: 'bootstrapped', why: `a cluster exists or is forming: ${withData.map((c) => `${nodeName(c)}: ${describeEtcd(c.etcd)}`).join('; ')}` };
  }
  if (cps.length === 0) return { state: 'unknown', why: 'no verified control plane answered' };
  const unsure = cps.filter((c) => c.etcd.dataDir.kind !== 'empty' || c.etcd.service.kind !== 'not-running');
  if (unsure.length > 0) {
    return { state: 'unknown', why: `no positive evidence from ${unsure.map((c) => `${nodeName(c)}: ${describeEtcd(c.etcd)}`).join('; ')}` };
  }
  const evidence = cps.map((c) => `${nodeName(c)}: ${describeEtcd(c.etcd)}`).join('; ');
  if (obs.memberList.kind === 'pending') {
    return { state: 'unknown', why: `every verified control plane has an empty data directory and no etcd running; the etcd member list has not answered yet (${evidence})`, awaitingMemberList: true };
  }
  return { state: 'not-bootstrapped', why: `every verified control plane has an empty etcd data directory and no etcd running (${evidence})` };
}
