// Leader election: the control plane that booted first. Ties are broken by a key every observer computes
// the same way from the node itself: its default address (NodeAddresses/default, read from the node), then
// its node identity. Never by which address answered, which differs between observers of a multi-homed
// node. Boot times come from every node's own SystemStat, so all daemons that see the same candidates agree.
import { parseIPv4 } from '../../util/ipv4.ts';
import type { Candidate } from './observation.ts';

/** The tie-break key after the boot time: [default address as a number (none sorts last), identity]. */
export function tieBreakKey(c: Candidate): [number, string] {
  const value = c.defaultAddress === undefined ? undefined : parseIPv4(c.defaultAddress);
  return [value === undefined ? 2 ** 32 : value, c.identity];
}

export function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.bootTime !== b.bootTime) return a.bootTime < b.bootTime ? -1 : 1;
  const [aAddr, aId] = tieBreakKey(a);
  const [bAddr, bId] = tieBreakKey(b);
  if (aAddr !== bAddr) return aAddr < bAddr ? -1 : 1;
  return aId < bId ? -1 : aId > bId ? 1 : 0;
}

/** The leader among candidates, or undefined when there are none. */
export function electLeader(candidates: readonly Candidate[]): Candidate | undefined {
  let leader: Candidate | undefined;
  for (const c of candidates) {
    if (!leader || compareCandidates(c, leader) < 0) leader = c;
  }
  return leader;
}
