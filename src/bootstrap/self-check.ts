// Is NODE_IP this node? Three checks before the loop starts, each against something only this node has:
//  1. NODE_IP is local on this host (its /proc/net/fib_trie, src/host/own-address.ts);
//  2. the apid at the local address (127.0.0.1, always in apid's certificate) reports the boot time this
//     host's /proc/stat does, so it is this machine's apid;
//  3. NODE_IP is among the addresses that apid's certificate carries.
// The local apid also gives this node's identity (Identities.cluster.talos.dev/local), by which the loop
// finds itself among the candidates; NODE_IP answering as another identity, or sitting in another node's
// certificate (a VIP), is caught every round by the core (decide.ts selfAddressProblem).
import type { Candidate } from '../model/candidate.ts';
import type { OwnAddressCheck } from '../host/own-address.ts';

/** This node as its local apid describes it. */
export interface LocalNode {
  identity: string;
  hostname: string;
  bootTime: bigint;
  /** IPv4 addresses of the local apid's certificate, 127.0.0.1 left out. */
  certAddresses: string[];
  /** Where the local apid was reached. */
  apidAddress: string;
}

export function localNodeOf(candidate: Candidate, apidAddress: string): LocalNode {
  return { identity: candidate.identity, hostname: candidate.hostname, bootTime: candidate.bootTime, certAddresses: candidate.certAddresses ?? [], apidAddress };
}

export interface SelfCheckInput {
  nodeIp: string;
  /** Where NODE_IP came from ("TALOS_AUTO_BOOTSTRAP_NODE_IP", "default route via eth0 ..."). */
  nodeIpFrom: string;
  own: OwnAddressCheck;
  local: LocalNode;
  /** This host's /proc/stat btime; undefined when it could not be read. */
  hostBootTime: bigint | undefined;
}

/** /proc/stat's btime is whole seconds computed from the clock and uptime; two reads may differ by one. */
const BOOT_TIME_SLACK_S = 1n;

/** Undefined when NODE_IP is this node's; else the one error line to log (the daemon exits 2). */
export function selfCheckProblem(i: SelfCheckInput): string | undefined {
  if (!i.own.own) {
    return `TALOS_AUTO_BOOTSTRAP_NODE_IP ${i.nodeIp} (${i.nodeIpFrom}) is not an address of this host (local addresses in ${i.own.source}: ${i.own.local}); set it to one of this node's own addresses`;
  }
  if (i.hostBootTime !== undefined) {
    const d = i.local.bootTime - i.hostBootTime;
    if (d > BOOT_TIME_SLACK_S || d < -BOOT_TIME_SLACK_S) {
      return `the apid at ${i.local.apidAddress} reports boot time ${i.local.bootTime}, but this host booted at ${i.hostBootTime}: it is not this node's apid (TALOS_AUTO_BOOTSTRAP_LOCAL_APID)`;
    }
  }
  if (i.nodeIp !== i.local.apidAddress && !i.local.certAddresses.includes(i.nodeIp)) {
    return `TALOS_AUTO_BOOTSTRAP_NODE_IP ${i.nodeIp} (${i.nodeIpFrom}) is not in this node's apid certificate (its addresses: ${i.local.certAddresses.join(', ') || 'none'}); set it to one of them`;
  }
  return undefined;
}
