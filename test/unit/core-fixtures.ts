// Builders for hand-written observations in core tests.
import type { Candidate, EtcdEvidence, MemberListResult, Observation } from '../../src/bootstrap/core/observation.ts';

/** A control plane before any bootstrap: etcd waiting to join in Preparing, its data directory empty. */
export const WAITING: EtcdEvidence = { service: { kind: 'not-running', fact: { state: 'Preparing', lastEvent: 'Running pre state' } }, dataDir: { kind: 'empty' } };
export const RUNNING: EtcdEvidence = { service: { kind: 'running', fact: { state: 'Running', lastEvent: 'Health check successful' } }, dataDir: { kind: 'has-data', entries: ['member'] } };
export const UNKNOWN_ETCD: EtcdEvidence = { service: { kind: 'unknown', why: 'service list: UNAVAILABLE' }, dataDir: { kind: 'unknown', why: 'listing: UNAVAILABLE' } };
/** Preparing (image pull) on a node that holds etcd data: a cluster exists. */
export const PREPARING_WITH_DATA: EtcdEvidence = { service: WAITING.service, dataDir: { kind: 'has-data', entries: ['member'] } };

export function cp(address: string, bootTime: number, over: Partial<Candidate> = {}): Candidate {
  return { address, identity: `id-${address}`, defaultAddress: address, hostname: `cp-${address.split('.').pop()}`, bootTime: BigInt(bootTime), machineType: 'controlplane', stage: 'booting', etcd: WAITING, ...over };
}

export const NO_CLUSTER: MemberListResult = { kind: 'failed', message: 'no controlplane endpoints discovered yet' };

export function obs(selfAddress: string, controlPlanes: Candidate[], over: Partial<Observation> = {}): Observation {
  return { selfAddress, selfIdentity: `id-${selfAddress}`, controlPlanes, others: [], rejected: [], memberList: NO_CLUSTER, ...over };
}
