// One node behind several addresses: talhelper writes one apply-config line per address, each with the
// node's config file. Two addresses are one node when the same apid answers on both: the same server
// certificate key (its SPKI fingerprint, see nodes/fingerprint.ts), which a per-boot maintenance certificate
// and a configured node's apid certificate both keep on every address while the node runs. Never told from
// an error text. Pure: fingerprints in, groups out.
import type { NodeTarget } from '../inputs/target.ts';

export interface NodeGroup {
  /** The first listed address: the one the node is checked and configured through. */
  primary: NodeTarget;
  /** Its other addresses, reported as the same node. */
  aliases: NodeTarget[];
}

/** Two addresses of one node that were given different config files: which one would win is anybody's guess. */
export interface SameNodeConflict {
  first: NodeTarget;
  second: NodeTarget;
}

/**
 * `fingerprints` maps an address to the fingerprint its server presented (absent when it did not answer:
 * such an address is its own group, as nothing proves otherwise).
 */
export function groupSameNodes(targets: NodeTarget[], fingerprints: Map<string, string>): { groups: NodeGroup[]; conflicts: SameNodeConflict[] } {
  const groups: NodeGroup[] = [];
  const conflicts: SameNodeConflict[] = [];
  const byFingerprint = new Map<string, NodeGroup>();
  for (const t of targets) {
    const fp = fingerprints.get(t.address);
    const group = fp === undefined ? undefined : byFingerprint.get(fp);
    if (group && group.primary.file === t.file) {
      group.aliases.push(t);
      continue;
    }
    if (group) conflicts.push({ first: group.primary, second: t });
    const fresh = { primary: t, aliases: [] };
    groups.push(fresh);
    if (fp !== undefined && !group) byFingerprint.set(fp, fresh);
  }
  return { groups, conflicts };
}

export function describeConflict(c: SameNodeConflict): string {
  return `${c.first.address} and ${c.second.address} are one node (the same server certificate answers on both) but are given different configs (${c.first.file ?? 'none'} and ${c.second.file ?? 'none'})`;
}

/**
 * One result per listed address, in the order given: a group's primary keeps its own result (looked up by
 * address in `results`); each alias gets `aliasOf(alias, primary's address, primary's result)`.
 */
export function resultPerAddress<R extends { address: string }>(targets: NodeTarget[], groups: NodeGroup[], results: R[], aliasOf: (alias: NodeTarget, primary: string, primaryResult: R | undefined) => R): R[] {
  const byAddress = new Map(results.map((r) => [r.address, r]));
  const primaryOf = new Map(groups.flatMap((g) => g.aliases.map((a) => [a.address, g.primary.address] as const)));
  return targets.map((t) => {
    const primary = primaryOf.get(t.address);
    return primary === undefined ? (byAddress.get(t.address) as R) : aliasOf(t, primary, byAddress.get(primary));
  });
}
