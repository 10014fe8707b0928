// Which addresses a discovery round inspects, and which sources named each. The named ones (this node,
// static peers, control-plane members) are few and known; the scan's prefixes stay lazy (see scan.ts).
import type { Config } from '../config.ts';
import type { IPv4Prefix } from '../util/ipv4.ts';

export type TargetSource = 'self' | 'static' | 'members' | 'scan';

export interface DiscoveryPlan {
  self: string;
  statics: string[];
  /** Control-plane members' addresses as of this round. */
  members: string[];
  scan: IPv4Prefix[];
}

/** The round's plan; members and scan prefixes are supplied per round (they may change). */
export function discoveryPlan(config: Config, self: string, members: string[], scanPrefixes: IPv4Prefix[]): DiscoveryPlan {
  return {
    self,
    statics: config.discovery.includes('static') ? config.peers.filter((p) => p !== self) : [],
    members: config.discovery.includes('members') ? members.filter((m) => m !== self) : [],
    scan: config.discovery.includes('scan') ? scanPrefixes : [],
  };
}

/** Every named address once, with every source that named it (self first, then static, then members). */
export function namedTargets(plan: DiscoveryPlan): Map<string, TargetSource[]> {
  const named = new Map<string, TargetSource[]>();
  const add = (address: string, source: TargetSource) => {
    const sources = named.get(address) ?? [];
    if (!sources.includes(source)) sources.push(source);
    named.set(address, sources);
  };
  add(plan.self, 'self');
  for (const a of plan.statics) add(a, 'static');
  for (const a of plan.members) add(a, 'members');
  return named;
}
