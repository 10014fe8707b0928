// Is an address this host's own? Read from the node's /proc/net/fib_trie, whose `host LOCAL` entries are
// exactly the addresses the kernel accepts as local (each interface address as a /32, and 127.0.0.0/8 for
// loopback). Where that file cannot be read, the interface list stands in (getifaddrs; the service runs
// in the node's network namespace), with a loopback interface's whole prefix counted as local as the
// kernel does.
import { readFileSync } from 'node:fs';
import { parseIPv4 } from '../util/ipv4.ts';
import type { HostPaths } from './paths.ts';
import type { InterfaceAddress } from './route-table.ts';

export interface LocalPrefix {
  network: number;
  bits: number;
}

/** The `host LOCAL` prefixes of a /proc/net/fib_trie text (both tables; duplicates kept once). */
export function parseFibTrieLocal(text: string): LocalPrefix[] {
  const out = new Map<string, LocalPrefix>();
  let leaf: number | undefined;
  for (const line of text.split('\n')) {
    const leafMatch = /\|--\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
    if (leafMatch) {
      leaf = parseIPv4(leafMatch[1] as string);
      continue;
    }
    const entry = /^\s+\/(\d+)\s+host\s+LOCAL\b/.exec(line);
    if (entry && leaf !== undefined) {
      const bits = Number(entry[1]);
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      const network = (leaf & mask) >>> 0;
      out.set(`${network}/${bits}`, { network, bits });
    }
  }
  return [...out.values()];
}

export function inLocalPrefixes(address: string, prefixes: readonly LocalPrefix[]): boolean {
  const value = parseIPv4(address);
  if (value === undefined) return false;
  return prefixes.some((p) => {
    const mask = p.bits === 0 ? 0 : (0xffffffff << (32 - p.bits)) >>> 0;
    return (value & mask) >>> 0 === p.network;
  });
}

/** Local prefixes from interface addresses: each address itself, and a loopback interface's whole network. */
export function localPrefixesOfInterfaces(interfaces: readonly InterfaceAddress[]): LocalPrefix[] {
  const out: LocalPrefix[] = [];
  for (const i of interfaces) {
    if (i.family !== 'IPv4') continue;
    const value = parseIPv4(i.address);
    if (value === undefined) continue;
    out.push({ network: value, bits: 32 });
    if (i.internal && i.bits !== undefined) {
      const mask = i.bits === 0 ? 0 : (0xffffffff << (32 - i.bits)) >>> 0;
      out.push({ network: (value & mask) >>> 0, bits: i.bits });
    }
  }
  return out;
}

/** This host's local prefixes and where they were read: the node's fib_trie, else the interface list. */
function hostLocalPrefixes(paths: HostPaths, interfaces: () => InterfaceAddress[]): { prefixes: LocalPrefix[]; source: string } {
  for (const dir of [paths.hostProc, paths.proc]) {
    let text: string;
    try {
      text = readFileSync(`${dir}/net/fib_trie`, 'utf8');
    } catch {
      continue;
    }
    const prefixes = parseFibTrieLocal(text);
    if (prefixes.length > 0) return { prefixes, source: `${dir}/net/fib_trie` };
  }
  return { prefixes: localPrefixesOfInterfaces(interfaces()), source: 'the interface list' };
}

/**
 * The addresses this host's interfaces carry exactly: the `/32 host LOCAL` entries (numbers), never a whole
 * local prefix such as loopback's 127.0.0.0/8. Peers reach a node only at such an address; a certSAN the
 * kernel would merely accept (any 127.x) is not one.
 */
export function interfaceAddresses(paths: HostPaths, interfaces: () => InterfaceAddress[]): Set<number> {
  return new Set(hostLocalPrefixes(paths, interfaces).prefixes.filter((p) => p.bits === 32).map((p) => p.network));
}

export type OwnAddressCheck = { own: true; source: string } | { own: false; source: string; local: string };

/** Whether `address` is local on this host, and where that was read. */
export function checkOwnAddress(address: string, paths: HostPaths, interfaces: () => InterfaceAddress[]): OwnAddressCheck {
  const { prefixes, source } = hostLocalPrefixes(paths, interfaces);
  return inLocalPrefixes(address, prefixes) ? { own: true, source } : { own: false, source, local: describe(prefixes) };
}

function describe(prefixes: readonly LocalPrefix[]): string {
  const fmt = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  return prefixes.map((p) => (p.bits === 32 ? fmt(p.network) : `${fmt(p.network)}/${p.bits}`)).join(', ') || 'none';
}
