// IPv4 addresses as 32-bit numbers: ordering for the election, ranges for the scan.
// Ranges are walked lazily; a /16 is 65,534 hosts and must never become an array.

export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function isIPv4(text: string): boolean {
  return parseIPv4(text) !== undefined;
}

export function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** Orders addresses as numbers, so 10.0.0.9 comes before 10.0.0.10. */
export function compareIPv4(a: string, b: string): number {
  return (parseIPv4(a) ?? 0) - (parseIPv4(b) ?? 0);
}

export interface IPv4Prefix {
  network: number;
  bits: number;
  text: string;
}

export function parsePrefix(text: string): IPv4Prefix | undefined {
  const [addr, bitsText, extra] = text.trim().split('/');
  if (extra !== undefined || addr === undefined || bitsText === undefined || !/^\d{1,2}$/.test(bitsText)) return undefined;
  const ip = parseIPv4(addr);
  const bits = Number(bitsText);
  if (ip === undefined || bits > 32) return undefined;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const network = (ip & mask) >>> 0;
  return { network, bits, text: `${formatIPv4(network)}/${bits}` };
}

/** Number of addresses a scan of the prefix probes (network and broadcast skipped below /31). */
export function hostCount(prefix: IPv4Prefix): number {
  const size = 2 ** (32 - prefix.bits);
  return size <= 2 ? size : size - 2;
}

/** The prefix's host addresses in ascending order, produced one at a time. */
export function* hostsOf(prefix: IPv4Prefix): Generator<string> {
  const size = 2 ** (32 - prefix.bits);
  const first = size <= 2 ? 0 : 1;
  const last = size <= 2 ? size - 1 : size - 2;
  for (let i = first; i <= last; i++) yield formatIPv4(prefix.network + i);
}
