// Which addresses a discovery round inspects, and which source named each. Scan ranges stay lazy.
import type { Config } from '../config.ts';
import { hostsOf, type IPv4Prefix } from '../util/ipv4.ts';

export type TargetSource = 'self' | 'static' | 'scan';

export interface DiscoveryPlan {
  self: string;
  statics: string[];
  scan: IPv4Prefix[];
}

export function discoveryPlan(config: Config, self: string): DiscoveryPlan {
  return {
    self,
    statics: config.discovery.includes('static') ? config.peers.filter((p) => p !== self) : [],
    scan: config.discovery.includes('scan') ? (config.scanCidrs ?? []) : [],
  };
}

/** Every address once: self first, then static peers, then scanned hosts (overlapping prefixes included). */
export function* targetsOf(plan: DiscoveryPlan): Generator<{ address: string; source: TargetSource }> {
  const yielded = new Set<string>();
  const fresh = (address: string): boolean => !yielded.has(address) && (yielded.add(address), true);
  if (fresh(plan.self)) yield { address: plan.self, source: 'self' };
  for (const address of plan.statics) if (fresh(address)) yield { address, source: 'static' };
  for (const prefix of plan.scan) {
    for (const address of hostsOf(prefix)) if (fresh(address)) yield { address, source: 'scan' };
  }
}
