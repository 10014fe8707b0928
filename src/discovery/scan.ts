// The scan source's pipeline: walk the prefixes lazily, connect first, and only where the port answered run
// the full inspection (TLS identity + gRPC reads). At most `concurrency` addresses are in flight at any
// moment, connect and inspection together, and addresses are produced only as slots free, so a /16 never
// exists as an array or as 65k pending promises.
import { forEachBounded } from '../util/bounded.ts';
import { hostsOf, type IPv4Prefix } from '../util/ipv4.ts';
import type { Inspection } from './inspect-peer.ts';
import type { ConnectResult } from './tcp-probe.ts';

export interface ScanSteps {
  connect(address: string): Promise<ConnectResult>;
  inspect(address: string): Promise<Inspection>;
}

export interface ScanCounts {
  probed: number;
  open: number;
}

/**
 * Prefixes are either nested or disjoint, so dropping the ones inside another leaves every address once
 * without remembering the addresses already walked.
 */
export function outermostPrefixes(prefixes: IPv4Prefix[]): IPv4Prefix[] {
  const contains = (outer: IPv4Prefix, inner: IPv4Prefix) =>
    outer.bits <= inner.bits && (outer.bits === 0 ? true : inner.network >>> (32 - outer.bits) === outer.network >>> (32 - outer.bits));
  const unique = prefixes.filter((p, i) => prefixes.findIndex((q) => q.network === p.network && q.bits === p.bits) === i);
  return unique.filter((p) => !unique.some((q) => q !== p && contains(q, p)));
}

export function* scanAddresses(prefixes: IPv4Prefix[], skip: ReadonlySet<string>): Generator<string> {
  for (const prefix of outermostPrefixes(prefixes)) {
    for (const address of hostsOf(prefix)) if (!skip.has(address)) yield address;
  }
}

export async function scan(
  prefixes: IPv4Prefix[],
  skip: ReadonlySet<string>,
  concurrency: number,
  steps: ScanSteps,
  found: (address: string, inspection: Inspection) => void,
): Promise<ScanCounts> {
  const counts: ScanCounts = { probed: 0, open: 0 };
  await forEachBounded(scanAddresses(prefixes, skip), concurrency, async (address) => {
    counts.probed++;
    const connected = await steps.connect(address);
    if (!connected.open) return;
    counts.open++;
    found(address, await steps.inspect(address));
  });
  return counts;
}
