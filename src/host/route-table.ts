// This node's address from the kernel routing table: the interface that carries the default route.
// /proc/net/route names interfaces but not their addresses, so addresses come from the interface list.
import { isIPv4 } from '../util/ipv4.ts';

export interface RouteEntry {
  iface: string;
  destination: number;
  gateway: number;
  mask: number;
  metric: number;
  flags: number;
}

const RTF_UP = 0x1;

function hexLE(text: string): number {
  // The kernel prints addresses as host-order hex; on little-endian machines the bytes are reversed.
  const n = Number.parseInt(text, 16);
  return (((n & 0xff) << 24) | ((n >>> 8) & 0xff) << 16 | ((n >>> 16) & 0xff) << 8 | (n >>> 24)) >>> 0;
}

export function parseRouteTable(text: string): RouteEntry[] {
  const entries: RouteEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    entries.push({
      iface: f[0] as string,
      destination: hexLE(f[1] as string),
      gateway: hexLE(f[2] as string),
      flags: Number.parseInt(f[3] as string, 16),
      metric: Number(f[6]),
      mask: hexLE(f[7] as string),
    });
  }
  return entries;
}

export interface InterfaceAddress {
  iface: string;
  address: string;
  family: 'IPv4' | 'IPv6';
  internal: boolean;
}

/** The default route's interface (lowest metric wins), and its first IPv4 address. */
export function defaultRouteAddress(routes: RouteEntry[], addresses: InterfaceAddress[]): { iface: string; address: string } | undefined {
  const defaults = routes.filter((r) => r.destination === 0 && r.mask === 0 && (r.flags & RTF_UP) !== 0).sort((a, b) => a.metric - b.metric);
  for (const route of defaults) {
    const addr = addresses.find((a) => a.iface === route.iface && a.family === 'IPv4' && !a.internal && isIPv4(a.address) && !a.address.startsWith('169.254.'));
    if (addr) return { iface: route.iface, address: addr.address };
  }
  return undefined;
}
