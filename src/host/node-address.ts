// This node's IPv4 address (when TALOS_AUTO_BOOTSTRAP_NODE_IP is not set) and the scan prefix (when
// TALOS_AUTO_BOOTSTRAP_SCAN_CIDR is not set), from the node's routing table under the host root and the
// interface list. The service runs in the host network namespace, so the interface list is the node's.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { HostPaths } from './paths.ts';
import { defaultRouteAddress, detectScanPrefix, parseRouteTable, type InterfaceAddress, type RouteEntry, type ScanPrefixDetection } from './route-table.ts';

/** What os.networkInterfaces() returns, reduced to the fields used; fixtures in tests have this shape. */
export type OsInterfaces = Record<string, { address: string; family: string | number; internal: boolean; cidr: string | null }[] | undefined>;

export function localInterfaces(): InterfaceAddress[] {
  return toInterfaceAddresses(networkInterfaces());
}

export function toInterfaceAddresses(interfaces: OsInterfaces): InterfaceAddress[] {
  const out: InterfaceAddress[] = [];
  for (const [iface, addrs] of Object.entries(interfaces)) {
    for (const a of addrs ?? []) {
      const bits = a.cidr ? Number(a.cidr.split('/')[1]) : undefined;
      const family = a.family === 'IPv4' || a.family === 4 ? 'IPv4' : 'IPv6';
      out.push({ iface, address: a.address, family, internal: a.internal, ...(bits === undefined || Number.isNaN(bits) ? {} : { bits }) });
    }
  }
  return out;
}

function readRoutes(paths: HostPaths): { routes: RouteEntry[]; source: string } | { error: string } {
  for (const dir of [paths.hostProc, paths.proc]) {
    try {
      return { routes: parseRouteTable(readFileSync(`${dir}/net/route`, 'utf8')), source: `${dir}/net/route` };
    } catch {
      // try the next
    }
  }
  return { error: `no route table under ${paths.hostProc} or ${paths.proc}` };
}

export function detectNodeAddress(paths: HostPaths, interfaces: InterfaceAddress[] = localInterfaces()): { address: string; why: string } | { error: string } {
  const read = readRoutes(paths);
  if ('error' in read) return read;
  const found = defaultRouteAddress(read.routes, interfaces);
  if (!found) return { error: `${read.source} has no default route on an interface with an IPv4 address` };
  return { address: found.address, why: `default route via ${found.iface} in ${read.source}` };
}

export function detectScanPrefixOnHost(paths: HostPaths, interfaces: InterfaceAddress[] = localInterfaces()): ScanPrefixDetection & { source?: string } {
  const read = readRoutes(paths);
  if ('error' in read) return { ok: false, error: read.error };
  return { ...detectScanPrefix(read.routes, interfaces), source: read.source };
}
