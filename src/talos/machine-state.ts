// Reading what a node says about itself out of its COSI resources, one way for the daemon and the
// operator commands alike.
import type { Resource } from './node-client.ts';

/** MachineStatus's stage (`maintenance`, `booting`, `running`, ...); undefined when the resource says none. */
export function machineStage(machineStatus: Resource | undefined): string | undefined {
  const stage = (machineStatus?.spec as { stage?: unknown } | null | undefined)?.stage;
  return typeof stage === 'string' && stage !== '' ? stage : undefined;
}

/** EtcdMembers/local carries the member id as 16 hex digits; EtcdMemberList as a decimal uint64. */
export function memberIdFromHex(hex: string): string | undefined {
  return /^[0-9a-fA-F]{1,16}$/.test(hex) ? BigInt(`0x${hex}`).toString() : undefined;
}

/** This node's etcd member id from EtcdMembers/local, in EtcdMemberList's decimal form. */
export function localMemberId(local: Resource | undefined): string | undefined {
  const hex = (local?.spec as { memberID?: unknown } | null | undefined)?.memberID;
  return typeof hex === 'string' ? memberIdFromHex(hex) : undefined;
}
