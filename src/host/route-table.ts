// This node's address and network from the kernel routing table: the interface that carries the default
// route. /proc/net/route names interfaces but not their addresses, so addresses come from the interface
// list (getifaddrs: the service runs in the node's network namespace). Pure functions over both.
import { formatIPv4, parseIPv4, parsePrefix, prefixContains, type IPv4Prefix } from '../util/ipv4.ts';

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
  /** Prefix length of the address on its interface (from its netmask); a VIP or cloud address is a /32. */
  bits?: number;
}

/**
 * Interfaces whose addresses are not the node's network: loopback, overlays (KubeSpan, Flannel, Cilium,
 * Calico's cali and tunl interfaces, VXLAN, WireGuard), CNI bridges, container plumbing (veth, lxc), kube-proxy's IPVS
 * dummy and the SideroLink tunnel. Their prefixes are never scanned.
 */
const SKIPPED_INTERFACES = [
  /^lo$/,
  /^kubespan$/,
  /^siderolink/,
  /^cni/,
  /^flannel/,
  /^cilium/,
  /^vxlan/,
  /^docker/,
  /^veth/,
  /^cali/,
  /^tunl\d/,
  /^lxc/,
  /^wg\d/,
  /^kube-ipvs/,
];

export function isSkippedInterface(iface: string): boolean {
  return SKIPPED_INTERFACES.some((re) => re.test(iface));
}

const RTF_GATEWAY = 0x2;

export interface DefaultRouteChoice {
  iface: string;
  address: string;
  /** Prefix length of the chosen address on that interface (32 when unknown). */
  bits: number;
  /** The default route's gateway, 0 for none (point-to-point). */
  gateway: number;
}

function isUsableIPv4(a: InterfaceAddress): boolean {
  const n = parseIPv4(a.address);
  return a.family === 'IPv4' && !a.internal && n !== undefined && n >>> 16 !== 0xa9fe && n >>> 24 !== 127;
}

function contains(address: string, bits: number, other: number): boolean {
  return prefixContains(`${address}/${bits}`, formatIPv4(other));
}

/**
 * The interface that carries the default route (lowest metric first, overlay and virtual interfaces
 * skipped) and this node's address on it. With several addresses on that interface (a VIP next to the
 * node's own), the one whose prefix holds the gateway wins, then the widest prefix: a VIP is a /32.
 */
export function defaultRouteChoice(routes: RouteEntry[], addresses: InterfaceAddress[]): DefaultRouteChoice | undefined {
  const defaults = routes
    .filter((r) => r.destination === 0 && r.mask === 0 && (r.flags & RTF_UP) !== 0 && !isSkippedInterface(r.iface))
    .sort((a, b) => a.metric - b.metric);
  for (const route of defaults) {
    const gateway = (route.flags & RTF_GATEWAY) !== 0 ? route.gateway : 0;
    const ranked = addresses
      .filter((a) => a.iface === route.iface && isUsableIPv4(a))
      .map((a, order) => ({ a, bits: a.bits ?? 32, order }))
      .sort((x, y) => {
        const gx = gateway !== 0 && contains(x.a.address, x.bits, gateway) ? 0 : 1;
        const gy = gateway !== 0 && contains(y.a.address, y.bits, gateway) ? 0 : 1;
        return gx - gy || x.bits - y.bits || x.order - y.order;
      });
    const best = ranked[0];
    if (best) return { iface: route.iface, address: best.a.address, bits: best.bits, gateway };
  }
  return undefined;
}

/** The default route's interface and its address (kept for callers that need only the address). */
export function defaultRouteAddress(routes: RouteEntry[], addresses: InterfaceAddress[]): { iface: string; address: string } | undefined {
  const c = defaultRouteChoice(routes, addresses);
  return c ? { iface: c.iface, address: c.address } : undefined;
}

/** A detected prefix wider than this is narrowed to the node's /24: scanning more is a mistake waiting. */
export const WIDEST_DETECTED_BITS = 16;
const NARROWED_BITS = 24;

export type ScanPrefixDetection =
  | { ok: true; prefix: IPv4Prefix; iface: string; address: string; warnings: string[] }
  | { ok: false; error: string };

/** The scan prefix when SCAN_CIDR is not set: the default-route interface's network, within bounds. */
export function detectScanPrefix(routes: RouteEntry[], addresses: InterfaceAddress[]): ScanPrefixDetection {
  const choice = defaultRouteChoice(routes, addresses);
  if (!choice) return { ok: false, error: 'no default route on an interface with an IPv4 address (loopback, link-local and overlay interfaces skipped)' };
  const warnings: string[] = [];
  let bits = choice.bits;
  if (bits < WIDEST_DETECTED_BITS) {
    warnings.push(`${choice.iface} has ${choice.address}/${bits}, wider than /${WIDEST_DETECTED_BITS}: scanning only ${choice.address}'s /${NARROWED_BITS}; set TALOS_AUTO_BOOTSTRAP_SCAN_CIDR to scan more`);
    bits = NARROWED_BITS;
  }
  if (bits === 32) {
    warnings.push(`${choice.iface} has ${choice.address}/32 (as on many clouds): the scan covers only this node; peers must come from members or TALOS_AUTO_BOOTSTRAP_PEERS`);
  }
  const prefix = parsePrefix(`${choice.address}/${bits}`);
  if (!prefix) return { ok: false, error: `cannot form a prefix from ${choice.address}/${bits}` };
  return { ok: true, prefix, iface: choice.iface, address: choice.address, warnings };
}
