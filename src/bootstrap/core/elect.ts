// Leader election: the control plane that booted first; ties broken by the lower IPv4 address.
// Boot times come from every node's own SystemStat, so all daemons that see the same candidates agree.
import { compareIPv4 } from '../../util/ipv4.ts';
import type { Candidate } from './observation.ts';

export function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.bootTime !== b.bootTime) return a.bootTime < b.bootTime ? -1 : 1;
  return compareIPv4(a.address, b.address);
}

/** The leader among candidates, or undefined when there are none. */
export function electLeader(candidates: readonly Candidate[]): Candidate | undefined {
  let leader: Candidate | undefined;
  for (const c of candidates) {
    if (!leader || compareCandidates(c, leader) < 0) leader = c;
  }
  return leader;
}
