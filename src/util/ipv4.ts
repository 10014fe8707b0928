// IPv4 addresses and prefixes. Parsing, validation, containment and the walk over a prefix's hosts are
// ip-cidr's (4.0.2; ESM-only, sizes in BigInt). Two things stay here, each because ip-cidr measured worse
// where it is hot (bench/ip-cidr.ts, figures in BENCHMARKS.md):
// - an address as a 32-bit number (election order, sockaddr for the connect probes): ip-cidr goes through
//   an ip-address object and a BigInt, 9.4 µs per address against at most 0.4 µs here, on every probe of a scan and
//   in every comparison of a sort;
// - nothing else: ip-cidr's chunked walk (toArray with from/limit, 256 at a time) stays flat in memory over a
//   /16 (0.5 MiB peak heap growth; toArray of the whole /16 would hold 65,534 strings) at 2.1 µs per address,
//   0.14 s for a /16 whose scan takes 32 s at the least, so the scan uses it. Its per-address garbage costs
//   the daemon about 12 MiB more peak RSS in a /16 scan at concurrency 4096 (about 123 MiB against 111 MiB,
//   within the 150 MiB budget; BENCHMARKS.md).
import IPCIDR from 'ip-cidr';

/** Hosts produced per ip-cidr toArray call while walking a prefix: memory stays flat whatever its size. */
const WALK_CHUNK = 256;

/**
 * The address as an unsigned 32-bit number, or undefined when `text` is not a dotted-quad IPv4 address
 * (four decimal octets 0-255 without leading zeros, as ip-cidr requires too).
 */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** A plain IPv4 address (no prefix length, no IPv6), validated by ip-cidr. */
export function isIPv4(text: string): boolean {
  return !text.includes(':') && !text.includes('/') && IPCIDR.isValidAddress(text);
}

export function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** Orders addresses as numbers, so 10.0.0.9 comes before 10.0.0.10. */
export function compareIPv4(a: string, b: string): number {
  return (parseIPv4(a) ?? 0) - (parseIPv4(b) ?? 0);
}

export interface IPv4Prefix {
  /** The network address (host bits cleared) as an unsigned 32-bit number. */
  network: number;
  bits: number;
  /** Canonical text, e.g. `10.0.0.0/24` for `10.0.0.7/24`. */
  text: string;
}

/** An IPv4 prefix such as `10.0.0.0/24` (host bits allowed and cleared), or undefined; parsed by ip-cidr. */
export function parsePrefix(text: string): IPv4Prefix | undefined {
  const input = text.trim();
  if (input.includes(':') || !IPCIDR.isValidCIDR(input)) return undefined;
  const cidr = new IPCIDR(input);
  const bits = cidr.address.subnetMask;
  return { network: Number(cidr.addressStart.bigInteger()), bits, text: `${cidr.start()}/${bits}` };
}

/** Whether `address` lies inside the prefix `prefixText` (e.g. `10.0.0.5/24`); false for anything invalid. */
export function prefixContains(prefixText: string, address: string): boolean {
  if (!IPCIDR.isValidCIDR(prefixText) || !isIPv4(address)) return false;
  return new IPCIDR(prefixText).contains(address);
}

/** Number of addresses a scan of the prefix probes (network and broadcast skipped below /31). */
export function hostCount(prefix: IPv4Prefix): number {
  const size = Number(new IPCIDR(prefix.text).size);
  return size <= 2 ? size : size - 2;
}

/** The prefix's host addresses in ascending order, produced a chunk at a time (a /16 never becomes an array). */
export function* hostsOf(prefix: IPv4Prefix): Generator<string> {
  const cidr = new IPCIDR(prefix.text);
  const size = Number(cidr.size);
  const first = size <= 2 ? 0 : 1;
  const count = hostCount(prefix);
  for (let from = first; from < first + count; from += WALK_CHUNK) {
    yield* cidr.toArray({ from, limit: Math.min(WALK_CHUNK, first + count - from) }) as string[];
  }
}
