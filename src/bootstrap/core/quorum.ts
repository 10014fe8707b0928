// Quorum: enough verified control planes, this node among them, to make the election meaningful.
import { compareIPv4 } from '../../util/ipv4.ts';
import type { Candidate, Observation } from './observation.ts';

export interface QuorumView {
  reached: boolean;
  have: number;
  need: number;
  seen: string[];
  /** Static peers or answering addresses that are not verified control planes, with why. */
  missing: string[];
}

export function quorumView(obs: Observation, quorumNodes: number): QuorumView {
  const seen = obs.controlPlanes.map((c: Candidate) => c.address).sort(compareIPv4);
  const missing = obs.rejected.map((r) => `${r.address} (${r.reason})`);
  return { reached: seen.length >= quorumNodes, have: seen.length, need: quorumNodes, seen, missing };
}
