// One node, one vote. A node answers on every address its apid certificate lists (several NICs, a VIP,
// a load balancer in certSANs), so candidates are merged by certificate identity before anything counts
// them: otherwise one node seen twice could complete a quorum.
import type { Candidate } from '../bootstrap/core/observation.ts';
import { compareIPv4 } from '../util/ipv4.ts';

export function mergeByIdentity(candidates: Candidate[], self: string): Candidate[] {
  const byIdentity = new Map<string, Candidate[]>();
  for (const c of candidates) byIdentity.set(c.identity, [...(byIdentity.get(c.identity) ?? []), c]);
  const merged: Candidate[] = [];
  for (const group of byIdentity.values()) {
    const addresses = group.map((c) => c.address).sort(compareIPv4);
    // This node keeps its own address; any other node is named by its lowest address.
    const primaryAddress = addresses.includes(self) ? self : (addresses[0] as string);
    const primary = group.find((c) => c.address === primaryAddress) as Candidate;
    const aliases = addresses.filter((a) => a !== primaryAddress);
    merged.push(aliases.length > 0 ? { ...primary, aliases } : primary);
  }
  return merged;
}
