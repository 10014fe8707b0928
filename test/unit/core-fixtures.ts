// Builders for hand-written observations in core tests.
import type { Candidate, MemberListResult, Observation } from '../../src/bootstrap/core/observation.ts';

export function cp(address: string, bootTime: number, over: Partial<Candidate> = {}): Candidate {
  return { address, identity: `id-${address}`, hostname: `cp-${address.split('.').pop()}`, bootTime: BigInt(bootTime), machineType: 'controlplane', stage: 'booting', etcd: 'not-running', ...over };
}

export const NO_CLUSTER: MemberListResult = { kind: 'failed', message: 'no controlplane endpoints discovered yet' };

export function obs(selfAddress: string, controlPlanes: Candidate[], over: Partial<Observation> = {}): Observation {
  return { selfAddress, controlPlanes, others: [], rejected: [], memberList: NO_CLUSTER, ...over };
}
