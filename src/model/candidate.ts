// A verified node as every part of the daemon sees it. Shared by discovery (which produces candidates),
// the bootstrap core (which decides over them) and the agreement (which names the chosen node by identity).
import type { EtcdEvidence } from './etcd-evidence.ts';

export type MachineType = 'controlplane' | 'init' | 'worker' | 'unknown';

/**
 * Talos's node identity: `nodeId` of Identities.cluster.talos.dev/local in namespace `cluster`
 * (pkg/machinery/resources/cluster/identity.go). Random, kept on the STATE partition across reboots and
 * reset only by a wipe (internal/app/machined/pkg/controllers/cluster/node_identity.go); not sensitive, so
 * os:reader may read it (internal/app/resources/access.go). Unlike apid's certificate, which Talos
 * regenerates when addresses or time sync change and every 12 hours, it names the same node in every view.
 */
export type NodeIdentity = string;

/** A node whose apid certificate chains to this cluster's OS CA and names the dialled address. */
export interface Candidate {
  /**
   * The address this node is named and reached by: one it answered at this round, never an address that
   * another node's certificate also carries (a VIP, a load balancer in certSANs) unless it has no other.
   */
  address: string;
  /** Talos's node identity; candidates are merged by it. */
  identity: NodeIdentity;
  /** Other addresses at which the same node answered this round. */
  aliases?: string[];
  /** IPv4 addresses in its apid certificate's SANs, loopback left out. */
  certAddresses?: string[];
  /**
   * The node's own default address (NodeAddresses.net.talos.dev/default, IPv4, without prefix length),
   * read from the node itself, so the same in every view; undefined when it has none. The election's
   * tie-break key after the boot time.
   */
  defaultAddress?: string;
  /** SHA-256 fingerprint of the apid certificate that answered, for logs only (it rotates). */
  fingerprint?: string;
  hostname: string;
  /** SystemStat.boot_time, Unix seconds, read through the node's own apid (self included). */
  bootTime: bigint;
  machineType: MachineType;
  stage: string;
  etcd: EtcdEvidence;
  /** Monotonic time (ms, the runner's clock) of the oldest answer this candidate's facts come from. */
  answeredAt?: number;
}

/** An address that answered on the apid port but did not become a candidate, and why. */
export interface Rejected {
  address: string;
  reason: string;
}

export function isControlPlaneType(t: MachineType): boolean {
  return t === 'controlplane' || t === 'init';
}

/** "10.0.0.5 (cp1)", for logs. */
export function nodeName(c: Candidate): string {
  return c.hostname ? `${c.address} (${c.hostname})` : c.address;
}
